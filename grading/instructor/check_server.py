"""Trusted check server: grades student functions on hidden inputs, outside the kernel.

    python -I grading/instructor/check_server.py --socket PATH [--bundle-root DIR]
        [--check-wall S] [--case-wall S] [--check-mem-mib MIB]

Started *before* the student's kernel (by ``grading.grade_class``) or, when a notebook is
graded without the class command, lazily by the first hidden test cell. At start it

1. launches the sandbox zygote (``sandbox.py zygote``: torch and the engine, no
   reference, no expected values),
2. generates every hidden input and computes every expected output with
   :mod:`grading.instructor.reference` in *this* process, which the student's code never runs in,
3. listens on a Unix socket and prints ``READY {"socket": ..., "pid": ...}`` on stdout.

Each request (one JSON line: ``{"check", "bundle", "points", "tamper"}``) names a bundle
file with the student's function (see :mod:`grading.kernel.bundle`); the server copies it
(only from under ``--bundle-root``, the kernel's exchange folder, when given: the server runs
as the instructor, and a path elsewhere would make it read the instructor's files), runs it
in a forked, resource-limited child of the zygote, judges the outputs and answers
``{"fraction", "points", "lines"}``. Every answer is also recorded; on
``results`` or ``shutdown`` (stdin, i.e. only from whoever started the server) it prints
``RESULTS [...]`` on stdout: a channel the student's kernel cannot write to.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import select
import shutil
import socketserver
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

if __name__ == "__main__":  # run as a script under -I: make the grading package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: E402

from grading.instructor import battery, isolation, sandbox  # noqa: E402
from grading.instructor.options import add_check_options  # noqa: E402
from grading.instructor.procs import kill_group  # noqa: E402
from grading.kernel.client import clean_env  # noqa: E402
from grading.kernel.registry import CHECKS as REGISTRY  # noqa: E402
from grading.kernel.registry import explain, fraction  # noqa: E402

MAX_BUNDLE = 96 << 20
MAX_REQUEST = 1 << 20
CHECKS = tuple(REGISTRY)


class Zygote:
    """The sandbox zygote process and its request/reply pipe."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.counter = 0

    def start(self) -> None:
        script = Path(sandbox.__file__).resolve()
        command = [sys.executable, "-I", str(script), "zygote"]
        self.proc = subprocess.Popen(isolation.zygote_command(command, self.workdir),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     cwd=self.workdir, env=clean_env(), text=True,
                                     start_new_session=True)

    def wait_ready(self, timeout: float = 120.0) -> None:
        line = self._readline(timeout)
        if not line or not json.loads(line).get("ready"):
            raise RuntimeError("sandbox zygote did not start")

    def _readline(self, timeout: float) -> str:
        assert self.proc and self.proc.stdout
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline() if ready else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            kill_group(self.proc.pid)
            self.proc.wait()

    def run(self, request: dict, wall: float) -> tuple[str, str]:
        """Send one request; restart the zygote if it died or hung (student code hit it)."""
        self.counter += 1
        request = {**request, "id": self.counter}
        try:
            assert self.proc and self.proc.stdin
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            line = self._readline(wall + 30.0)
            reply = json.loads(line) if line else None
        except (OSError, ValueError, AssertionError):
            reply = None
        if not reply or reply.get("id") != self.counter:
            self.stop()
            self.start()
            self.wait_ready()
            return "crash", "검사 프로세스가 죽었습니다"
        return reply["status"], reply["detail"]


NOT_RECEIVED = ("nobundle", "채점할 함수를 받지 못했습니다")


def copy_bundle(source: str, target: Path, root: Path | None) -> tuple[str, str] | None:
    """Copy the kernel's bundle file to ``target``; ``(status, reason)`` if it is refused.

    The file is opened first, and what was opened is checked: a regular file, at most
    ``MAX_BUNDLE`` bytes, and (with ``root``) really under ``root``, symbolic links and renames
    after the check included (``/proc/self/fd``)."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
    except (OSError, ValueError):
        return NOT_RECEIVED
    try:
        return _copy_open_file(fd, source, target, root)
    finally:
        os.close(fd)


def _copy_open_file(fd: int, source: str, target: Path,
                    root: Path | None) -> tuple[str, str] | None:
    if root is not None:
        opened = Path(os.readlink(f"/proc/self/fd/{fd}")) if Path("/proc/self/fd").is_dir() \
            else Path(source).resolve()
        if not opened.is_relative_to(root):
            return "nobundle", "채점할 함수는 이 제출의 교환 폴더에서만 받습니다"
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        return NOT_RECEIVED
    if info.st_size > MAX_BUNDLE:
        return "big", "함수와 함수가 쓰는 전역 값이 너무 큽니다"
    with os.fdopen(fd, "rb", closefd=False) as handle, open(target, "wb") as out:
        shutil.copyfileobj(handle, out)
    return None


class CheckServer:
    def __init__(self, workdir: Path, wall: float, case_wall: float, mem_mib: int,
                 bundle_root: Path | None = None) -> None:
        self.workdir, self.wall, self.case_wall = workdir, wall, case_wall
        self.bundle_root = bundle_root.resolve() if bundle_root else None
        self.mem = mem_mib << 20
        self.lock = threading.Lock()
        self.results: list[dict] = []
        self.zygote = Zygote(workdir)
        self.zygote.start()
        torch.set_num_threads(1)
        self.inputs_file, self.expected = {}, {}
        for check in CHECKS:
            folder = workdir / check
            folder.mkdir()
            inputs = battery.make_inputs(check, folder)
            self.inputs_file[check] = str(folder / "inputs.pt")
            torch.save(inputs, self.inputs_file[check])
            self.expected[check] = sandbox.run_cases(check, battery.reference_function(check),
                                                     inputs)
            failed = [name for name, out in self.expected[check].items() if not out["ok"]]
            if failed:
                raise RuntimeError(f"reference fails on {check} cases {failed}")
        self.zygote.wait_ready()

    def grade(self, request: dict) -> dict:
        check = request.get("check")
        if check not in CHECKS:
            return {"error": f"알 수 없는 검사 {check!r}"}
        points = float(request.get("points", 1.0))
        start = time.monotonic()
        with self.lock:
            seq = len(self.results)
            verdicts, digest, status = self._verdicts(check, request, seq)
            verdicts = [v.__dict__ for v in verdicts]
            passed = sum(v["passed"] for v in verdicts)
            record = {"seq": seq, "check": check, "passed": passed, "total": len(verdicts),
                      "fraction": fraction(check, verdicts), "status": status,
                      "verdicts": verdicts, "bundle_sha256": digest,
                      "integrity": [str(x)[:120] for x in request.get("integrity") or []][:50],
                      "seconds": round(time.monotonic() - start, 3)}
            self.results.append(record)
        return {"fraction": record["fraction"], "points": round(points * record["fraction"], 6),
                "lines": explain(check, verdicts, points), "seq": seq}

    def _verdicts(self, check: str, request: dict, seq: int):
        subchecks = battery.SUBCHECKS[check]

        def all_failed(reason: str):
            return [battery.Verdict(s.label, False, reason) for s in subchecks]

        tamper = [str(t)[:200] for t in request.get("tamper") or []]
        if tamper:
            return all_failed("점수 표시를 바꿨습니다: " + "; ".join(tamper)), \
                None, "tamper"
        if request.get("refused"):
            return all_failed(str(request["refused"])[:300]), None, "refused"
        run_dir = Path(tempfile.mkdtemp(prefix=f"run{seq}-", dir=self.workdir))
        bundle = run_dir / "bundle.pkl"
        refused = copy_bundle(str(request.get("bundle")), bundle, self.bundle_root)
        if refused:
            status, reason = refused
            return all_failed(reason), None, status
        digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
        outputs = run_dir / "outputs.pt"
        work = run_dir / "cwd"
        work.mkdir()
        status, detail = self.zygote.run(
            {"check": check, "bundle": str(bundle), "inputs": self.inputs_file[check],
             "outputs": str(outputs), "log": str(run_dir / "child.log"), "workdir": str(work),
             "wall": self.wall, "case_wall": self.case_wall, "mem": self.mem}, self.wall)
        got = {}
        if outputs.exists():
            try:
                got = torch.load(outputs, weights_only=True)
                if not isinstance(got, dict):
                    got = {}
            except Exception:  # noqa: BLE001 - unreadable outputs: every case is missing
                got = {}
        missing = {"ok": "결과가 없습니다",
                   "timeout": f"{detail} 안에 결과가 나오지 않았습니다 (끝나지 않는 반복문이거나 "
                              "너무 느립니다)",
                   "signal": f"결과가 없습니다: 검사 프로세스가 강제로 끝났습니다 ({detail}; "
                             "메모리나 CPU 시간 제한을 넘었나요?)",
                   "exit": f"결과가 없습니다: 함수가 프로세스를 끝냈습니다 ({detail})",
                   "crash": f"결과가 없습니다: {detail}"}[status]
        verdicts = battery.judge(check, self.expected[check], got, missing)
        shutil.rmtree(run_dir, ignore_errors=True)
        return verdicts, digest, status


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def handle(self) -> None:
        try:
            line = self.rfile.readline(MAX_REQUEST)
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("request is not an object")
            reply = self.server.checks.grade(request)  # type: ignore[attr-defined]
        except Exception as error:  # noqa: BLE001
            reply = {"error": f"{type(error).__name__}: {error}"}
        try:
            self.wfile.write((json.dumps(reply) + "\n").encode())
        except OSError:
            pass


class _SocketServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--bundle-root", type=Path,
                        help="accept bundles only from under this folder (the kernel's TMPDIR)")
    add_check_options(parser)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="gcl4sr-checks-"))
    out = sys.stdout
    checks = None
    try:
        checks = CheckServer(workdir, args.check_wall, args.case_wall, args.check_mem_mib,
                             args.bundle_root)
        old_umask = os.umask(0o077)
        server = _SocketServer(args.socket, _Handler)
        os.umask(old_umask)
        server.checks = checks  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print("READY " + json.dumps({"socket": args.socket, "pid": os.getpid()}), file=out,
              flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command in ("results", "shutdown"):
                with checks.lock:
                    print("RESULTS " + json.dumps(checks.results), file=out, flush=True)
            if command == "shutdown":
                break
        else:  # stdin closed: whoever started us is gone
            with checks.lock:
                print("RESULTS " + json.dumps(checks.results), file=out, flush=True)
        server.server_close()
    finally:
        if checks:
            checks.zygote.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            os.unlink(args.socket)
        except OSError:
            pass


if __name__ == "__main__":
    main()
