#!/usr/bin/env bash
# Full training on one CUDA GPU: the default, legacy and ablation runs side by side, each for
# BUDGET_MINUTES (checked after every epoch), while the CUDA tests run beside them. Run it
# from the repository root:
#
#   GCL4SR_DATA=/path/to/home OUT_DIR=/tmp/gpu BUDGET_MINUTES=6 bash bench/gpu_runs.sh
#
# DEVICE (default cuda) and RUN_ARGS (extra grading.train options, e.g. "--max-users 300")
# allow a quick rehearsal on CPU.
# Run folders, with their resume state (state.json, checkpoints) and logs, go to
# OUT_DIR/runs/gpu-<run>/ (default OUT_DIR: runs/gpu, outside git); each run's result files
# (cli.json, config.json, metrics.jsonl, result.json) are copied to bench/results/full/gpu-<run>/.
# OUT_DIR receives gpu_runs.tar.gz (those result files and the logs), the test report and the
# GPU's description, refreshed every 30 s so a cut-off run still reports.
set -u
: "${GCL4SR_DATA:?set GCL4SR_DATA to the Home data folder}"
OUT_DIR=${OUT_DIR:-runs/gpu}
BUDGET_MINUTES=${BUDGET_MINUTES:-6}
PYTHON=${PYTHON:-python3}
RESULTS=$PWD/bench/results/full
RESULT_FILES=(cli.json config.json metrics.jsonl result.json)
export PYTHONUNBUFFERED=1
mkdir -p "$OUT_DIR/runs" "$RESULTS"
RUNS=$(cd "$OUT_DIR/runs" && pwd)

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PYTHON -c "import torch, torch_geometric as g; print('torch', torch.__version__,
'cuda', torch.version.cuda, 'pyg', g.__version__, 'cpus', __import__('os').cpu_count())"
} > "$OUT_DIR/gpu.txt" 2>&1

declare -A FLAGS=([default]="" [legacy]="--legacy" [nocl]="--lam1 0 --lam2 0"
                  [nogcl]="--lam1 0" [unweighted]="--unweighted-graph")
pids=()
for run in "${!FLAGS[@]}"; do
  # shellcheck disable=SC2086  # FLAGS values are word lists
  OMP_NUM_THREADS=3 $PYTHON -m grading.train --run-dir "$RUNS/gpu-$run" \
    --data-dir "$GCL4SR_DATA" --device "${DEVICE:-cuda}" --time-budget-minutes "$BUDGET_MINUTES" \
    ${FLAGS[$run]} ${RUN_ARGS:-} > "$RUNS/gpu-$run.log" 2>&1 &
  pids+=($!)
done

publish() {  # each run's result files, without its resume state, into bench/results/full
  local run file
  for run in "${!FLAGS[@]}"; do
    mkdir -p "$RESULTS/gpu-$run"
    for file in "${RESULT_FILES[@]}"; do
      if [ -f "$RUNS/gpu-$run/$file" ]; then cp "$RUNS/gpu-$run/$file" "$RESULTS/gpu-$run/"; fi
    done
  done
}

pack() {
  publish
  local run folders=() logs=()
  for run in "${!FLAGS[@]}"; do folders+=("gpu-$run"); logs+=("gpu-$run.log"); done
  tar -czf "$OUT_DIR/gpu_runs.tar.gz.tmp" -C "$RESULTS" "${folders[@]}" -C "$RUNS" "${logs[@]}"
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
