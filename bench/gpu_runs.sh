#!/usr/bin/env bash
# Full training on one CUDA GPU: the default, legacy and ablation runs side by side, each for
# BUDGET_MINUTES (checked after every epoch), while the CUDA tests run beside them.
#
#   GCL4SR_DATA=/path/to/home OUT_DIR=/tmp/gpu BUDGET_MINUTES=6 bash bench/gpu_runs.sh
#
# DEVICE (default cuda) and RUN_ARGS (extra grading.train options, e.g. "--max-users 300")
# allow a quick rehearsal on CPU.
# Run folders go to bench/results/full/gpu-<run>/ (as `python -m grading.train` writes them);
# OUT_DIR receives gpu_runs.tar.gz (their JSON files, plots and logs, no checkpoints), the
# test report and the GPU's description, refreshed every 30 s so a cut-off run still reports.
set -u
: "${GCL4SR_DATA:?set GCL4SR_DATA to the Home data folder}"
OUT_DIR=${OUT_DIR:-bench/results/gpu}
BUDGET_MINUTES=${BUDGET_MINUTES:-6}
PYTHON=${PYTHON:-python3}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
mkdir -p "$OUT_DIR" bench/results/full

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PYTHON -c "import torch, torch_geometric as g; print('torch', torch.__version__,
'cuda', torch.version.cuda, 'pyg', g.__version__, 'cpus', __import__('os').cpu_count())"
} > "$OUT_DIR/gpu.txt" 2>&1

declare -A FLAGS=([default]="" [legacy]="--legacy" [nocl]="--lam1 0 --lam2 0"
                  [nogcl]="--lam1 0" [unweighted]="--unweighted-graph")
pids=()
for run in "${!FLAGS[@]}"; do
  # shellcheck disable=SC2086  # FLAGS values are word lists
  OMP_NUM_THREADS=3 $PYTHON -m grading.train --run-dir "bench/results/full/gpu-$run" \
    --data-dir "$GCL4SR_DATA" --device "${DEVICE:-cuda}" --time-budget-minutes "$BUDGET_MINUTES" \
    ${FLAGS[$run]} ${RUN_ARGS:-} > "bench/results/full/gpu-$run.log" 2>&1 &
  pids+=($!)
done

pack() {
  tar -czf "$OUT_DIR/gpu_runs.tar.gz.tmp" --exclude='*.pth' --exclude='*.tmp' \
    -C bench/results/full $(cd bench/results/full && ls -d gpu-*) 2>/dev/null
  mv "$OUT_DIR/gpu_runs.tar.gz.tmp" "$OUT_DIR/gpu_runs.tar.gz"
}
( while sleep 30; do pack; done ) &
packer=$!

GCL4SR_DATA=$GCL4SR_DATA $PYTHON -m pytest -q -p no:cacheprovider tests/test_cuda.py \
  tests/test_sampler.py > "$OUT_DIR/pytest.txt" 2>&1
echo "pytest exit $?" >> "$OUT_DIR/pytest.txt"

status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
kill "$packer" 2>/dev/null
pack
exit $status
