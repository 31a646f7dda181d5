"""CPU thread policy: libgomp's wait policy at import, GCL4SR_THREADS, the thread governor."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from gcl4sr_helpers.data import SequenceDataset
from gcl4sr_helpers.experiment import CourseConfig, build_model, build_trainer
from gcl4sr_helpers.runtime import THREADS_ENV, _busy_seconds, requested_threads
from gcl4sr_helpers.trainer import make_loader
from grading.instructor.checking.reference import mmd_loss
from grading.instructor.common.options import default_options
from grading.instructor.run.grade_one import kernel_env

REPO = Path(__file__).resolve().parents[1]
BURNER = REPO / "bench" / "burner.py"


def libgomp_settings(code: str, **env: str) -> dict[str, str]:
    """OMP_WAIT_POLICY and GOMP_SPINCOUNT as libgomp applied them in a fresh process."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    environ.update(OMP_DISPLAY_ENV="VERBOSE", PYTHONPATH=str(REPO), **env)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=environ, check=True)
    settings = {}
    for line in out.stderr.splitlines():
        name, _, value = line.strip().partition(" = ")
        if name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
            settings[name] = value.strip("'")
    return settings


def test_package_import_bounds_the_openmp_spin():
    """Imported before torch, the package makes libgomp spin 10,000 times, not 300,000."""
    assert libgomp_settings("import gcl4sr_helpers, torch")["GOMP_SPINCOUNT"] == "10000"


def test_torch_imported_first_keeps_libgomp_spinning():
    """Why the order matters: libgomp reads the policy once, when torch loads it."""
    assert libgomp_settings("import torch, gcl4sr_helpers")["GOMP_SPINCOUNT"] == "300000"


def test_a_users_wait_policy_is_kept():
    settings = libgomp_settings("import gcl4sr_helpers, torch", OMP_WAIT_POLICY="ACTIVE")
    assert settings["OMP_WAIT_POLICY"] == "ACTIVE" and int(settings["GOMP_SPINCOUNT"]) > 300000
    assert libgomp_settings("import gcl4sr_helpers, torch",
                            GOMP_SPINCOUNT="500")["GOMP_SPINCOUNT"] == "500"


def test_grading_kernels_sleep_at_once(tmp_path):
    """The work limit counts CPU time, so a grading kernel's waiting threads must not spin."""
    env = kernel_env(default_options(jobs=1), tmp_path / "checks.sock", tmp_path)
    omp = {key: value for key, value in env.items() if key.startswith(("OMP_", "GOMP_"))}
    assert libgomp_settings("import gcl4sr_helpers, torch", **omp) == {
        "OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"}


@pytest.mark.parametrize("value, expected", [("", None), ("auto", None), (" AUTO ", None),
                                             ("1", 1), ("2", 2), (" 3 ", 3)])
def test_requested_threads_reads_the_knob(value, expected):
    assert requested_threads({THREADS_ENV: value}) == expected
    assert requested_threads({}) is None


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "two", "2 threads"])
def test_a_bad_thread_count_says_what_to_write(value):
    with pytest.raises(ValueError, match=r"GCL4SR_THREADS=.*whole number.*'auto'"):
        requested_threads({THREADS_ENV: value})


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_gcl4sr_threads_is_honoured_by_a_training_step(small_data, small_graph, monkeypatch,
                                                       restore_threads):
    config = CourseConfig(batch_size=64, seed=3)
    torch.set_num_threads(2)
    monkeypatch.setenv(THREADS_ENV, "1")
    trainer = build_trainer(build_model(small_data, small_graph, mmd_loss, config), config,
                            device="cpu", progress=False)
    loader = make_loader(SequenceDataset(small_data.splits["train"]), 64)
    trainer.train_epoch(loader, max_batches=1)
    assert torch.get_num_threads() == 1


def test_a_bad_gcl4sr_threads_stops_the_trainer_before_it_starts(small_data, small_graph,
                                                                 monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "many")
    config = CourseConfig(batch_size=64, seed=3)
    with pytest.raises(ValueError, match="GCL4SR_THREADS='many'"):
        build_trainer(build_model(small_data, small_graph, mmd_loss, config), config,
                      device="cpu", progress=False)


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="needs Linux's /proc/stat")
def test_busy_time_of_the_cores_includes_our_own_work():
    """What the governor subtracts as our own CPU time is inside the cores' busy time."""
    cpus = os.sched_getaffinity(0)
    before, own = _busy_seconds(cpus), os.times()
    while os.times().user - own.user < 0.5:  # half a CPU second of our own work
        pass
    spent = os.times().user + os.times().system - own.user - own.system
    assert _busy_seconds(cpus) - before >= spent - 0.05  # /proc/stat counts in 10 ms ticks


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and 2 cores")
def test_governor_drops_to_one_thread_beside_a_neighbour_on_two_cores():
    """Two cores, one held by a burner: the next step runs on one thread."""
    code = textwrap.dedent(f"""
        import os, subprocess, sys, time
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])
        import gcl4sr_helpers, torch
        from gcl4sr_helpers.runtime import ThreadGovernor
        torch.set_num_threads(2)
        governor = ThreadGovernor()
        first = governor.update()
        burner = subprocess.Popen([sys.executable, {str(BURNER)!r}, "--seconds", "10"])
        time.sleep(1.5)
        print(first, governor.update(), governor.ceiling)
        burner.kill()
    """)
    env = {k: v for k, v in os.environ.items() if k != THREADS_ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.split() == ["2", "1", "2"]
