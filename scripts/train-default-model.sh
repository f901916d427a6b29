#!/usr/bin/env bash
# Rebuilds the training pairs of the shipped default model and trains it
# (models/tomogan-1slice.md says what was run and measured).
#   scripts/train-default-model.sh [BUILD_DIR] [WORK_DIR] [ITERS] [INIT_MODEL]
# INIT_MODEL continues from an existing model (e.g. models/tomogan-1slice.sira).
set -euo pipefail
build=${1:-build}
work=${2:-train-default}
iters=${3:-2500}
init=${4:+$(realpath "$4")}
sira="$(realpath "$build")/sira"
real="$(realpath "${SIRA_SHARED_DATA:-../shared/data}")/real"
mkdir -p "$work"
cd "$work"

# Simulated 3-D foam/rock phantoms: 10 % dose, and 25 % dose with every 4th angle.
[ -f foam_dose.h5 ] || "$sira" pairs --from phantom --phantom foam --slices 64 --size 256 --dose 0.1 --seed 1 -q -o foam_dose.h5
[ -f foam_sparse.h5 ] || "$sira" pairs --from phantom --phantom foam --slices 64 --size 256 --dose 0.25 --sparse 4 --seed 2 -q -o foam_sparse.h5
# Real scans (../shared/data/real): clean = all projections, noisy = simulated low dose.
[ -f tooth.h5 ] || "$sira" pairs --from "$real/tooth_aps.h5" --dose 0.1 --flux 20000 --test-fraction 0.5 -q -o tooth.h5
[ -f dendrite.h5 ] || "$sira" pairs --from "$real/dendrite_sinogram.h5" --scale 0.001 --dose 0.2 --center 630 \
  --subtract-first-angle --test-fraction 0 -q -o dendrite.h5
[ -f neutron.h5 ] || "$sira" pairs --from "$real/neutron_sinogram_360.tif" --raw-counts --theta 0:360 --dose 0.2 \
  --test-fraction 0 -q -o neutron.h5

args=(-d foam_dose.h5 -d foam_sparse.h5 -d tooth.h5 -d dendrite.h5 -d neutron.h5
      --normalization per_image --slices 1 --crop 64 --batch 8 --iters "$iters" --d-steps 1 --lr 2e-4
      --loss-weights 0.05,10,1 --threads 1 --seed 7 --validate-every 250 --checkpoint-every 125
      --log train.csv --plot train.png -o tomogan-1slice.sira)
if [ -n "$init" ]; then args+=(--init "$init"); fi
OMP_WAIT_POLICY=passive "$sira" train "${args[@]}"
echo "model: $work/tomogan-1slice.sira"
