#!/usr/bin/env bash
# Rebuilds the training pairs of the shipped default model and trains it
# (models/tomogan-1slice.md says what was run and measured).
#   scripts/train-default-model.sh [BUILD_DIR] [WORK_DIR] [ITERS] [DECAY_AT]
# Iterations 1..DECAY_AT run at lr 2e-4, then DECAY_AT..ITERS at 5e-5 in
# chunks of 50 (resume is bit for bit, so chunking changes nothing), each
# chunk validated; the model with the best validation SSIM of that phase is
# kept as WORK_DIR/tomogan-1slice.sira (the GAN's validation SSIM moves by
# ~0.02 between neighbouring checkpoints).
set -euo pipefail
build=${1:-build}
work=${2:-train-default}
iters=${3:-3200}
decay_at=${4:-2800}
chunk=${SIRA_CHUNK:-50}  # iterations between validations in phase 2
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
      --normalization per_image --slices 1 --crop 64 --batch 8 --d-steps 1
      --loss-weights 0.05,10,1 --threads 2 --seed 7 --checkpoint model.ckpt
      --log train.csv --plot train.png)
export OMP_WAIT_POLICY=passive
if [ ! -f phase1.sira ]; then  # (an interrupted phase 1 continues from its checkpoint)
  resume=()
  [ -f model.ckpt ] && resume=(--resume model.ckpt)
  "$sira" train "${args[@]}" "${resume[@]}" --iters "$decay_at" --lr 2e-4 --validate-every 250 \
    --checkpoint-every 125 -o phase1.sira
fi

best=-1
for ((i = decay_at + chunk; i <= iters; i += chunk)); do
  "$sira" train "${args[@]}" --resume model.ckpt --iters "$i" --lr 5e-5 --validate-every "$chunk" -q -o chunk.sira
  ssim=$("$sira" info -m chunk.sira | sed -n 's/^info.validation: ssim=\([0-9.]*\).*/\1/p')
  echo "iteration $i: validation SSIM $ssim"
  if awk -v a="$ssim" -v b="$best" 'BEGIN { exit !(a > b) }'; then
    best=$ssim
    cp chunk.sira tomogan-1slice.sira
  fi
done
echo "model: $work/tomogan-1slice.sira (best validation SSIM $best)"
