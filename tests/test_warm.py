"""nbgrader forked from the warm server: the command's own output, session, environment and
hard limits, and the cold path where no fork server may start."""

from __future__ import annotations

import ast
import resource
import sys

import pytest

from grading.instructor.common.procs import popen, run_logged
from grading.instructor.run import warm

NBGRADER = [sys.executable, "-m", "nbgrader"]


def test_a_forked_nbgrader_command_runs_logged(tmp_path):
    log = tmp_path / "log"
    start = warm.nbgrader_starter({resource.RLIMIT_CORE: 0})
    done = run_logged([*NBGRADER, "--version"], tmp_path, log, 120, start_with=start)
    assert done.code == 0 and not done.stopped
    text = log.read_text()
    assert text.startswith(f"$ {' '.join(NBGRADER)} --version")
    assert "Python version" in text  # nbgrader's own output reached the log


def test_the_forked_command_gets_its_limits_environment_and_session(tmp_path):
    """The config file that the forked nbgrader loads records what the command sees: the
    environment it was given (not the grader's), its hard limits, a session of its own."""
    probe = tmp_path / "probe.txt"
    (tmp_path / "nbgrader_config.py").write_text(
        "import os, resource\n"
        f"open({str(probe)!r}, 'w').write(repr((os.environ.get('GRADER_SECRET'),\n"
        "    os.environ.get('ONLY_THIS'), resource.getrlimit(resource.RLIMIT_FSIZE),\n"
        "    os.getsid(0) == os.getpid())))\n")
    env = {"PATH": "/usr/bin:/bin", "ONLY_THIS": "yes"}
    start = warm.nbgrader_starter({resource.RLIMIT_FSIZE: 1 << 20})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_SECRET", "instructor")
        run_logged([*NBGRADER, "db", "student", "list"], tmp_path, tmp_path / "log", 120, env,
                   start_with=start)
    secret, only, fsize, leader = ast.literal_eval(probe.read_text())
    assert (secret, only, fsize, leader) == (None, "yes", (1 << 20, 1 << 20), True)


def test_only_nbgrader_commands_are_forked():
    with pytest.raises(ValueError, match="not an nbgrader command"):
        warm._nbgrader_args([sys.executable, "-c", "print(1)"])


def test_without_fork_nbgrader_runs_cold(monkeypatch):
    """Where nothing can be forked, the limits wrapper starts nbgrader as before."""
    monkeypatch.setattr(warm, "can_fork", lambda: False)
    command, start = warm.nbgrader_command(["autograde", "a"], 2048, 64, 30)
    assert start is popen
    assert command[1:3] == ["-m", "grading.instructor.common.procs"] and "--cpu" in command


def test_a_command_stopped_at_its_wall_clock_leaves_the_server_working(tmp_path):
    """``run_logged`` stops a command at its wall clock by killing its tree (the child's own
    session); the server goes on forking the next command."""
    (tmp_path / "nbgrader_config.py").write_text("import time\ntime.sleep(60)\n")
    start = warm.nbgrader_starter({})
    done = run_logged([*NBGRADER, "db", "student", "list"], tmp_path, tmp_path / "log", 2,
                      start_with=start)
    assert done.stopped == "wall"
    (tmp_path / "nbgrader_config.py").unlink()
    assert run_logged([*NBGRADER, "--version"], tmp_path, tmp_path / "log", 60,
                      start_with=start).code == 0
