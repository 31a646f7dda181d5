"""Benchmarks of the kit; results in ``bench/results/`` (see ``bench/README.md``).

Run each from the repository root as ``python -m bench.<name>``:

- ``bench_engine``: training step, projected epoch, peak RSS, evaluation, WITG build;
- ``engine_ratio``: the default engine against an older commit's, alternated on one machine
  (issue 24's targets, set on another machine, by ratio);
- ``ab_steps``: two versions of engine code on alternate steps of one process;
- ``memory_peak``: PyTorch's memory at a training step's peak, by part and operator;
- ``bench_epoch_memory``: peak RSS of the course run, sampled every second;
- ``bench_allocator``: glibc allocator settings against CPU time and memory of a step;
- ``bench_contention``: the course step beside CPU-bound neighbours, per thread setting;
- ``profile_step``: where a course training step's time goes, by part, against the floor;
- ``step_parts``: the same step's parts timed without a profiler (wall clock per part);
- ``bench_lesson``: when the course model passes the most-popular baseline (test metrics
  along two epochs, training minutes); ``lesson_data`` writes what the notebook shows of it;
- ``fidelity_one_epoch``: one-epoch course runs over seeds, legacy and fixed;
  ``fidelity_table`` prints their table;
- ``full_table``: the full-training table and validation curves of ``results/full/``;
- ``bench_grading``: where one submission's grading time goes, serial and parallel;
- ``bench_report``: the class report on a generated class;
- ``calibration``: the machine's CPU, sgemm speed and copy bandwidth, beside every figure;
- ``burner``: a CPU-bound neighbour for ``bench_contention``.

Helper modules: ``course_step`` (the course run the step benchmarks time) and
``submissions`` (submissions built from the committed notebooks). ``gpu_runs.sh`` runs the
full-training table on a CUDA machine.
"""
