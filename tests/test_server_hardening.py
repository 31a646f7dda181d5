"""Attacks on the check server as the class command starts it: a request flood, a
file-existence oracle, limits raised from inside, a fork bomb, a daemon, and what is left
after the server stops."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from test_hidden_checks import ndcg, notebook

from grading.instructor.checking import isolation
from grading.instructor.common.options import Options
from grading.instructor.common.procs import tree
from grading.instructor.run.server_process import server_line, start_server, stop_server
from grading.kernel import grade_ndcg, grade_recall, grade_witg
from grading.kernel.client import SOCKET_ENV
from grading.kernel.registry import CHECKS

needs_bwrap = pytest.mark.skipif(isolation.problem() is not None, reason="needs bubblewrap")
OPTIONS = Options(check_wall=30, case_wall=5, check_mem_mib=768, sandbox="bwrap")


def work_folders(pid: int) -> set[Path]:
    """The check server ``pid``'s work folder: its zygote's working folder and, if the server
    made that inside a folder of its own, that one."""
    for child in tree(pid):
        try:
            if b"zygote" in Path(f"/proc/{child}/cmdline").read_bytes():
                work = Path(os.readlink(f"/proc/{child}/cwd"))
                own = work.parent.name.startswith("gcl4sr-checks-")
                return {work, work.parent} if own else {work}
        except OSError:
            pass
    raise AssertionError("no zygote")


class Server:
    """A check server started by :func:`start_server`, as the class command starts one."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.exchange = folder, folder / "exchange"
        self.exchange.mkdir()
        self.proc, self.sock = start_server(folder, self.exchange, OPTIONS, folder / "log")
        assert server_line(self.proc, "READY ", 180) is not None, (folder / "log").read_text()
        self.records: list[dict] | None = None

    def ask(self, payload: dict) -> dict:
        """One raw request on the socket, as a kernel could send it."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(str(self.sock))
            conn.sendall((json.dumps(payload) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
        return json.loads(data)

    def results_line(self) -> str:
        self.proc.stdin.write(b"results\n")
        self.proc.stdin.flush()
        return server_line(self.proc, "RESULTS ", 120) or ""

    def stop(self) -> list[dict] | None:
        if self.records is None and self.proc.poll() is None:
            self.records = stop_server(self.proc)
        return self.records


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A fresh server; the kernel side's bundles go to its exchange folder."""
    srv = Server(tmp_path)
    monkeypatch.setenv(SOCKET_ENV, str(srv.sock))
    monkeypatch.setattr(tempfile, "tempdir", str(srv.exchange))
    yield srv
    srv.stop()


def rss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024


RECALL = """
def recall_at_k(actual, predicted, topk):
    total, users = 0.0, 0
    for truth, pred in zip(actual, predicted):
        truth = set(truth)
        if truth:
            users += 1
            total += len(truth & set(pred[:topk])) / len(truth)
    return total / users if users else 0.0
"""


# --------------------------------------------------------------------------- floods
@needs_bwrap
@pytest.mark.slow
def test_a_request_flood_keeps_one_bounded_record_per_check(server):
    for points in (float("nan"), float("inf"), -1.0, 1e9, "2", True, 10 ** 400):
        reply = server.ask({"check": "ndcg", "points": points, "tamper": []})
        assert "error" in reply, (points, reply)
    assert grade_recall(notebook(RECALL)["recall_at_k"], 2) == 2.0
    grown_from = rss_mib(server.proc.pid)
    tamper = ["x" * 10] * 70_000  # about 1 MB of JSON
    for index in range(60):
        reply = server.ask({"check": list(CHECKS)[index % 4], "points": 1.0, "tamper": tamper})
        assert "lines" in reply and len(json.dumps(reply)) < 8192
    assert rss_mib(server.proc.pid) - grown_from < 32
    line = server.results_line()
    assert 0 < len(line) < 64 << 10  # at most a few KB per check
    records = json.loads(line)
    assert sorted(r["check"] for r in records) == sorted(CHECKS)  # one record per check
    assert all(len(json.dumps(r)) < 16 << 10 for r in records)
    by_check = {r["check"]: r for r in records}
    assert by_check["recall"]["status"] == "ok" and by_check["recall"]["fraction"] == 1.0
    assert by_check["recall"]["repeats"] == 15 and by_check["ndcg"]["repeats"] == 14
    assert by_check["ndcg"]["status"] == "tamper"


# --------------------------------------------------------------------------- file oracle
def refusals(exchange: Path) -> dict[str, str]:
    """Bundle paths that must all get the same refusal (none of them a bundle of this kernel)."""
    link = exchange / "link.pkl"
    link.symlink_to("/etc/passwd")
    (exchange / "folder").mkdir()
    os.mkfifo(exchange / "fifo")
    return {"missing": str(exchange / "gone" / "bundle.pkl"), "outside": "/etc/passwd",
            "link": str(link), "dotdot": f"{exchange}/../../../../../../etc/passwd",
            "folder": str(exchange / "folder"), "fifo": str(exchange / "fifo"),
            "empty": "", "root": str(exchange)}


def test_copy_bundle_opens_nothing_outside_the_exchange_folder(tmp_path, monkeypatch):
    from grading.instructor.checking import intake

    exchange = tmp_path / "exchange"
    (exchange / "sub").mkdir(parents=True)
    opened = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *, dir_fd=None):
        opened.append((str(path), dir_fd))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    cases = refusals(exchange)
    monkeypatch.setattr(os, "open", spy)
    replies = {name: intake.copy_bundle(path, tmp_path / "copy", exchange)
               for name, path in cases.items()}
    assert len(set(replies.values())) == 1 and None not in replies.values(), replies
    absolute = {path for path, dir_fd in opened if dir_fd is None}
    assert absolute <= {str(exchange), str(exchange.resolve()), str(tmp_path / "copy")}, opened
    good = exchange / "sub" / "bundle.pkl"
    good.write_bytes(b"bundle")
    assert intake.copy_bundle(str(good), tmp_path / "copy", exchange) is None
    assert (tmp_path / "copy").read_bytes() == b"bundle"
    with open(good, "wb") as handle:
        handle.truncate(intake.MAX_BUNDLE + 1)
    assert intake.copy_bundle(str(good), tmp_path / "copy", exchange) == "big"


@needs_bwrap
@pytest.mark.slow
def test_refused_bundles_get_one_identical_reply(server):
    cases = refusals(server.exchange)
    seen = set()
    for check, name in zip(CHECKS, ("missing", "outside", "link", "dotdot"), strict=True):
        reply = server.ask({"check": check, "points": 1.0, "bundle": cases[name]})
        assert reply["points"] == 0.0, (name, reply)
        seen.add(json.dumps([line.replace(CHECKS[check].title, "T") for line in reply["lines"]]))
    assert len(seen) == 1, seen
    records = json.loads(server.results_line())
    assert {r["status"] for r in records} == {"nobundle"}
    assert len({v["reason"] for r in records for v in [*r["verdicts"], r["public"]]}) == 1


# --------------------------------------------------------------------------- limits
RAISE_AND_ALLOCATE = """
import resource

def recall_at_k(actual, predicted, topk):
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    except ValueError:
        pass
    return float(len(bytearray(2 << 30)))
"""

RAISE_AND_WRITE = """
import resource
import signal

FAILED = []

def ndcg_at_k(actual, predicted, topk):
    if FAILED:
        raise OSError(FAILED[0])
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    except ValueError:
        pass
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    chunk = bytes(1 << 20)
    try:
        with open("big.bin", "wb") as handle:
            for _ in range(300):
                handle.write(chunk)
    except OSError as error:
        FAILED.append(str(error))
        raise
    return 300.0
"""


@needs_bwrap
@pytest.mark.slow
def test_student_code_cannot_raise_its_own_limits(server, capsys):
    assert grade_recall(notebook(RAISE_AND_ALLOCATE)["recall_at_k"], 2) == 0.0
    out = capsys.readouterr().out
    assert "MemoryError" in out and "반환값" not in out, out
    assert grade_ndcg(notebook(RAISE_AND_WRITE)["ndcg_at_k"], 2) == 0.0
    out = capsys.readouterr().out
    assert "File too large" in out and "반환값" not in out, out


def test_the_limits_wrapper_sets_hard_limits():
    probe = ("import resource\n"
             "for kind in (resource.RLIMIT_AS, resource.RLIMIT_FSIZE, resource.RLIMIT_CPU):\n"
             "    try:\n"
             "        resource.setrlimit(kind, (resource.RLIM_INFINITY,) * 2)\n"
             "    except ValueError:\n"
             "        pass\n"
             "    print(*resource.getrlimit(kind))\n")
    done = subprocess.run([sys.executable, "-m", "grading.instructor.common.procs",
                           "--as-mib", "2048", "--fsize-mib", "8", "--cpu", "100", "--",
                           sys.executable, "-c", probe],
                          capture_output=True, text=True, timeout=60, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.split("\n")[:3] == [f"{2048 << 20} {2048 << 20}", f"{8 << 20} {8 << 20}",
                                           "100 100"], done.stdout


# --------------------------------------------------------------------------- processes
FORK_BOMB = """
import os
import time

STARTED = []

def recall_at_k(actual, predicted, topk):
    if not STARTED:
        count = 0
        for _ in range(400):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            count += 1
        STARTED.append(count)
    return float(STARTED[0]) + 0.5
"""


TAKE_OVER = """
import os

def ndcg_at_k(actual, predicted, topk):
    try:
        return len(os.listdir(f"/proc/{os.getppid()}/fd")) + 0.5
    except OSError as error:
        raise RuntimeError(f"zygote closed ({error.errno})") from None
"""


@needs_bwrap
@pytest.mark.slow
def test_a_fork_bomb_stays_under_the_process_cap(server, capsys):
    from grading.instructor.checking.sandbox import CHECK_TASKS

    assert grade_recall(notebook(FORK_BOMB)["recall_at_k"], 2) == 0.0
    started = {float(n) - 0.5 for n in re.findall(r"반환값 ([\d.e+]+)\)", capsys.readouterr().out)}
    # the cap: the sandbox's tasks when the check started (zygote, child, threads) + CHECK_TASKS
    assert len(started) == 1 and 0 < started.pop() <= CHECK_TASKS + 8
    # nor can a check use the zygote (its pipes, ptrace) to fork past the cap
    assert grade_ndcg(notebook(TAKE_OVER)["ndcg_at_k"], 2) == 0.0
    assert "zygote closed (13)" in capsys.readouterr().out


DAEMON = """
import os

def recall_at_k(actual, predicted, topk):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "{TOKEN}"])
        os._exit(0)
    os.waitpid(pid, 0)
    return 0.0
"""

ZYGOTE_KILLER = """
import os
import signal

def build_weighted_item_transition_graph(path):
    os.kill(os.getppid(), signal.SIGKILL)
"""

def with_token(token: str) -> list[int]:
    """Processes whose command line holds ``token``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and token.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@needs_bwrap
@pytest.mark.slow
def test_nothing_a_check_started_outlives_it_or_the_server(server, capsys):
    token = f"3600.{random.randrange(10 ** 8, 10 ** 9)}"
    try:
        started, work = set(tree(server.proc.pid)), work_folders(server.proc.pid)
        assert grade_witg(notebook(ZYGOTE_KILLER)["build_weighted_item_transition_graph"],
                          3) == 0.0  # the zygote is started again, from a lasting thread
        assert grade_recall(notebook(DAEMON.replace("{TOKEN}", token))["recall_at_k"], 2) == 0.0
        assert with_token(token) == []  # the double-forked daemon died with its check
        assert grade_ndcg(ndcg(), 2) == 2.0, capsys.readouterr().out
        started |= set(tree(server.proc.pid))
        records = server.stop()
        assert [r["check"] for r in records] == ["witg", "recall", "ndcg"]
        assert records[0]["status"] == "crash"
        assert [pid for pid in started if alive(pid)] == []
        assert [path for path in work if path.exists()] == []  # its work folder is gone
    finally:
        for pid in with_token(token):
            os.kill(pid, 9)
