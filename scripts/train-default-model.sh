#!/usr/bin/env bash
# Trains sira's default models (models/*.md say what was run and measured):
#   scripts/train-default-model.sh [BUILD_DIR] [WORK_DIR] [FOLD]
# FOLD "all" (default) trains on every real scan: the shipped models. FOLD = a
# source name of bench/real_validation/sources.py (tooth, dendrite, shale,
# neutron360, beads, wood) leaves that scan out entirely, so the real-data
# validation can score the models on it (leave-one-source-out).
# Writes WORK_DIR/FOLD/tomogan-{1,3}slice{,-int8}.sira. Files already made are
# kept (an interrupted run continues). Environment: SIRA_THREADS (2),
# SIRA_PRETRAIN_ITERS (1500), SIRA_ITERS_1SLICE (1000), SIRA_ITERS_3SLICE (400),
# SIRA_CROP (64), SIRA_STAGES ("1,3,int8": which models to make; "1" stops after
# the 1-slice fp32 model).
set -euo pipefail
build=${1:-build}
work=${2:-train-default}
fold=${3:-all}
threads=${SIRA_THREADS:-2}
crop=${SIRA_CROP:-64}
root="$(cd "$(dirname "$0")/.." && pwd)"
sira="$(realpath "$build")/sira"
data="$(realpath "${SIRA_SHARED_DATA:-$root/../shared/data}")/real"
mkdir -p "$work/pairs" "$work/$fold"
work="$(realpath "$work")"
py=/usr/bin/python3
export OMP_WAIT_POLICY=passive

# 1. Pairs: 48 random "mixed" phantoms (each its own recipe and degradation) and
#    every real scan but the fold's at ten doses / sparse views.
without=$([ "$fold" = all ] && echo "" || echo "$fold")
mapfile -t phantoms < <($py "$root/scripts/make-training-pairs.py" --sira "$sira" --out "$work/pairs" \
  --data "$data" --phantoms 48 --list)
mapfile -t real < <($py "$root/scripts/make-training-pairs.py" --sira "$sira" --out "$work/pairs" \
  --data "$data" --real --without "$without" --list)
args_of() { for f in "$@"; do printf -- '-d\n%s\n' "$f"; done; }
mapfile -t phantom_args < <(args_of "${phantoms[@]}")
mapfile -t all_args < <(args_of "${phantoms[@]}" "${real[@]}")
# QAT calibrates on the ref backend: a few files keep it short.
mapfile -t qat_args < <(args_of "${phantoms[@]:0:8}" $(printf '%s\n' "${real[@]}" | grep -- '-d10.h5$'))

common=(--threads "$threads" --sampling file --d-steps 0 --loss-weights 0,10,1 --crop "$crop" --batch 8)

# 2. Pretraining on phantoms only (no real scan: shared by every fold).
pre="$work/pretrain.sira"
[ -f "$pre" ] || "$sira" train "${phantom_args[@]}" "${common[@]}" --slices 1 --residual \
  --normalization per_image --norm-block 8 --iters "${SIRA_PRETRAIN_ITERS:-1500}" --lr 2e-4 --seed 7 \
  --checkpoint "$work/pretrain.ckpt" --checkpoint-every 250 -o "$pre"

# An interrupted stage continues from its checkpoint (bit for bit, docs/training.md).
resume_of() { [ -f "$1" ] && printf -- '--resume\n%s\n' "$1"; true; }

# 3. The 1-slice model: phantoms + the fold's real scans.
one="$work/$fold/tomogan-1slice.sira"
mapfile -t resume < <(resume_of "$work/$fold/1slice.ckpt")
[ -f "$one" ] || "$sira" train "${all_args[@]}" "${common[@]}" --init "$pre" "${resume[@]}" \
  --iters "${SIRA_ITERS_1SLICE:-1000}" --lr 1e-4 --seed 8 --checkpoint "$work/$fold/1slice.ckpt" \
  --checkpoint-every 250 --log "$work/$fold/1slice.csv" -o "$one"

stages=${SIRA_STAGES:-1,3,int8}
if [[ ",$stages," != *",3,"* ]]; then echo "models: $work/$fold/"; exit 0; fi

# 4. The 3-slice model starts from the 1-slice one (neighbour weights at zero).
three="$work/$fold/tomogan-3slice.sira"
mapfile -t resume < <(resume_of "$work/$fold/3slice.ckpt")
[ -f "$three" ] || "$sira" train "${all_args[@]}" "${common[@]}" --init "$one" --slices 3 "${resume[@]}" \
  --iters "${SIRA_ITERS_3SLICE:-400}" --lr 5e-5 --seed 9 --checkpoint "$work/$fold/3slice.ckpt" \
  --checkpoint-every 250 --log "$work/$fold/3slice.csv" -o "$three"

if [[ ",$stages," != *",int8,"* ]]; then echo "models: $work/$fold/"; exit 0; fi

# 5. int8 by quantisation-aware fine-tuning of each (7-bit weights: oneDNN on CPUs without VNNI).
for m in "$one" "$three"; do
  q="${m%.sira}-int8.sira"
  [ -f "$q" ] || "$sira" train --qat --init "$m" "${qat_args[@]}" --iters 60 --lr 1e-5 --crop "$crop" \
    --batch 8 --threads "$threads" --weight-bits 7 --loss-weights 0,10,1 --d-steps 0 --calib-slices 1 \
    --qat-method percentile --equalize --seed 10 --checkpoint "${q%.sira}.ckpt" -o "$q"
done
echo "models: $work/$fold/"
