"""Trusted check server: grades student functions on hidden inputs, outside the kernel.

    python -I grading/instructor/checking/check_server.py --socket PATH [--bundle-root DIR]
        [--work-root DIR] [--every-request] [--check-wall S] [--case-wall S]
        [--check-mem-mib MIB]
    python -I grading/instructor/checking/check_server.py --warm   # forks one per request

Started *before* the student's kernel (by ``grading.grade_class``) or, when a notebook is
graded without the class command, lazily by the first hidden test cell. At start it

1. launches the sandbox zygote (``sandbox.py zygote``: torch and the engine, no
   reference, no expected values),
2. generates every hidden input and computes every expected output with
   :mod:`grading.instructor.checking.reference` in *this* process, which the student's code
   never runs in,
3. listens on a Unix socket and prints ``READY {"socket": ..., "pid": ...}`` on stdout.

Every line it words (the reply's lines, the records' reasons) is in ``--lang``, the graded
notebook's language as the class command read it from the notebook (:mod:`grading.kernel.i18n`).
Each request (one JSON line: ``{"check", "bundle", "points", "tamper"}``) names a bundle
file with the student's function (see :mod:`grading.kernel.bundle`); the server copies it
(only from beneath ``--bundle-root``, the kernel's exchange folder, when given: the server
runs as the instructor, and a path elsewhere would make it read the instructor's files), runs
it in a forked, resource-limited child of the zygote, judges the outputs and answers
``{"fraction", "points", "lines"}``. The first request per check is recorded (see
:class:`CheckServer`); on ``results`` or ``shutdown`` (stdin, i.e. only from whoever started
the server) it prints ``RESULTS [...]`` on stdout: a channel the student's kernel cannot
write to. Its work folder (hidden inputs, bundles, outputs) is made under ``--work-root``, so
that the caller can remove it even if the server was killed. The class command forks each
server from a warm one (``--warm``, :func:`_forked`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socketserver
import stat
import sys
import tempfile
import threading
import time
from pathlib import Path

if __name__ == "__main__":  # run as a script under -I: make the grading package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import torch  # noqa: E402

from grading.instructor.checking import battery, cases  # noqa: E402
from grading.instructor.checking.intake import (  # noqa: E402
    MAX_PATH,
    MAX_POINTS,
    MAX_REFUSED,
    MAX_TEXT,
    bounded,
    clip,
    copy_bundle,
    points_of,
    texts,
)
from grading.instructor.checking.zygote import Zygote  # noqa: E402
from grading.instructor.common import forking  # noqa: E402
from grading.instructor.common.options import add_check_options  # noqa: E402
from grading.instructor.common.procs import hand_over, sandbox_uid  # noqa: E402
from grading.kernel.i18n import DEFAULT, LANGUAGES, claim_text, text  # noqa: E402
from grading.kernel.registry import CHECKS as REGISTRY  # noqa: E402
from grading.kernel.registry import explain, fraction  # noqa: E402

MAX_REQUEST = 1 << 20
MAX_CLIENTS = 8  # connections served at once; more are told the server is busy
CHECKS = tuple(REGISTRY)


def _load_outputs(path: Path) -> dict:
    """The child's outputs, ``{}`` if unreadable: a regular file (the student's code owns the
    folder: a link or a FIFO planted there is not followed or waited on), weights only."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return {}
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {}
        try:
            got = torch.load(handle, weights_only=True)
        except Exception:  # noqa: BLE001 - unreadable outputs: every case is missing
            return {}
    return got if isinstance(got, dict) else {}


def _repeat(check: str, record: dict, points: float, lang: str) -> dict:
    """The reply to a later request for a recorded check: its result, not run again."""
    record["repeats"] += 1
    earned = round(points * record["fraction"], 6)
    return {"fraction": record["fraction"], "points": earned, "seq": record["seq"],
            "lines": [text("server.repeat", lang, title=REGISTRY[check].title, points=earned)]}


class CheckServer:
    """The hidden inputs, the expected outputs and the records of one submission's checks.

    Only what counts is kept: the first request per check is graded and recorded; a later
    one is answered with that result, never run, and counted in the record's ``repeats``
    (with ``every_request``, for tests and interactive use, each is graded and the latest
    record per check kept). Every field taken from a request is bounded, so a record is at
    most seven reasons of ``MAX_REASON`` characters (about 13 KB of JSON) and the RESULTS
    line holds one per check. Student code runs as :func:`~grading.instructor.common.procs.
    sandbox_uid` when the server is root, to which each check's folders are handed over.
    Its lines and reasons are in ``lang``."""

    def __init__(self, workdir: Path, wall: float, case_wall: float, mem_mib: int,
                 bundle_root: Path | None = None, every_request: bool = False,
                 lang: str = DEFAULT) -> None:
        self.workdir, self.wall, self.case_wall, self.lang = workdir, wall, case_wall, lang
        self.bundle_root = bundle_root.absolute() if bundle_root else None
        self.every_request = every_request
        self.mem = mem_mib << 20
        self.lock = threading.Lock()
        self.records: dict[str, dict] = {}
        self.requests = 0
        self.uid = sandbox_uid()
        self.zygote = Zygote(workdir, self.uid)
        self.zygote.start()
        torch.set_num_threads(1)
        self.inputs_file, self.expected = {}, {}
        for check in CHECKS:
            folder = workdir / check
            folder.mkdir()
            inputs = battery.make_inputs(check, folder)
            self.inputs_file[check] = str(folder / "inputs.pt")
            torch.save(inputs, self.inputs_file[check])
            self.expected[check] = cases.run_cases(check, battery.reference_function(check),
                                                     inputs)
            failed = [name for name, out in self.expected[check].items() if not out["ok"]]
            if failed:
                raise RuntimeError(f"reference fails on {check} cases {failed}")
        self.zygote.wait_ready()

    @property
    def results(self) -> list[dict]:
        """The records, in the order of their requests."""
        return sorted(self.records.values(), key=lambda record: record["seq"])

    def grade(self, request: dict) -> dict:
        """The reply to one request; the first per check is graded and recorded."""
        check, points = request.get("check"), points_of(request.get("points", 1.0))
        if not isinstance(check, str) or check not in CHECKS:
            return {"error": text("server.unknown_check", self.lang, check=repr(str(check)[:40]))}
        if points is None:
            return {"error": text("server.points", self.lang, most=MAX_POINTS)}
        start = time.monotonic()
        with self.lock:
            seq, self.requests = self.requests, self.requests + 1
            if check in self.records and not self.every_request:
                return _repeat(check, self.records[check], points, self.lang)
            verdicts, public, digest, status = self._verdicts(check, request, seq)
            verdicts = [bounded(v.__dict__) for v in verdicts]
            passed = sum(v["passed"] for v in verdicts)
            record = {"seq": seq, "check": check, "passed": passed, "total": len(verdicts),
                      "fraction": fraction(check, verdicts), "status": status,
                      "verdicts": verdicts, "public": bounded(public.__dict__),
                      "bundle_sha256": digest, "seconds": round(time.monotonic() - start, 3),
                      "repeats": 0}
            self.records[check] = record
        return {"fraction": record["fraction"], "points": round(points * record["fraction"], 6),
                "lines": explain(check, verdicts, points, self.lang), "seq": seq}

    def _verdicts(self, check: str, request: dict, seq: int):
        subchecks = battery.SUBCHECKS[check]

        def all_failed(reason: str, status: str):
            return ([battery.Verdict(s.id, REGISTRY[check].label(s.id, self.lang), False,
                                     reason) for s in subchecks],
                    battery.Verdict(battery.PUBLIC, text("public.label", self.lang), False,
                                    reason), None, status)

        tamper = texts(request.get("tamper"), lambda item: claim_text(item, self.lang, "tamper."))
        if tamper:
            return all_failed(text("server.tamper", self.lang, what="; ".join(tamper)), "tamper")
        if request.get("refused"):
            return all_failed(claim_text(request["refused"], self.lang, "refused.")[:MAX_REFUSED],
                              "refused")
        run_dir = Path(tempfile.mkdtemp(prefix=f"run{seq}-", dir=self.workdir))
        bundle = run_dir / "bundle.pkl"
        refused = copy_bundle(str(request.get("bundle"))[:MAX_PATH + 1], bundle, self.bundle_root)
        if refused:
            shutil.rmtree(run_dir, ignore_errors=True)
            return all_failed(text(f"server.{refused}", self.lang), refused)
        digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
        outputs = run_dir / "outputs.pt"
        work = run_dir / "cwd"
        work.mkdir()
        hand_over(self.uid, run_dir, work)
        status, detail = self.zygote.run(
            {"check": check, "bundle": str(bundle), "inputs": self.inputs_file[check],
             "outputs": str(outputs), "log": str(run_dir / "child.log"), "workdir": str(work),
             "wall": self.wall, "case_wall": self.case_wall, "mem": self.mem}, self.wall)
        got = _load_outputs(outputs)
        missing = text(f"server.missing.{status}", self.lang, detail=detail)
        verdicts = battery.judge(check, self.expected[check], got, missing, self.lang)
        public = battery.judge_public(check, self.expected[check], got, missing, self.lang)
        shutil.rmtree(run_dir, ignore_errors=True)
        return verdicts, public, digest, status


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30
    slots = threading.BoundedSemaphore(MAX_CLIENTS)

    def handle(self) -> None:
        if not self.slots.acquire(blocking=False):
            reply = {"error": text("server.busy", self.server.checks.lang)}  # type: ignore[attr-defined]
        else:
            try:
                reply = self._reply()
            finally:
                self.slots.release()
        try:
            self.wfile.write((json.dumps(reply) + "\n").encode())
        except OSError:
            pass

    def _reply(self) -> dict:
        try:
            request = json.loads(self.rfile.readline(MAX_REQUEST))
            if not isinstance(request, dict):
                raise ValueError("request is not an object")
            return self.server.checks.grade(request)  # type: ignore[attr-defined]
        except Exception as error:  # noqa: BLE001
            return {"error": clip(f"{type(error).__name__}: {error}", MAX_TEXT)}


class _SocketServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _serve(checks: CheckServer, path: str, out, uid: int | None = None) -> None:
    """Answer on the socket ``path`` (its owner's alone: ``uid``'s if given) until ``shutdown``
    (or the end of stdin); RESULTS lines."""
    old_umask = os.umask(0o077)
    server = _SocketServer(path, _Handler)
    os.umask(old_umask)
    if uid is not None:
        os.chown(path, uid, uid)
    server.checks = checks  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("READY " + json.dumps({"socket": path, "pid": os.getpid()}), file=out, flush=True)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--bundle-root", type=Path,
                        help="accept bundles only from under this folder (the kernel's TMPDIR)")
    parser.add_argument("--work-root", type=Path,
                        help="make the work folder under this folder, which the caller removes "
                             "if the server could not (default: the temporary folder)")
    parser.add_argument("--socket-uid", type=int,
                        help="give the socket to this uid (the kernel's, when it runs as one)")
    parser.add_argument("--every-request", action="store_true",
                        help="grade every request, keeping the latest record per check (tests, "
                             "interactive use); by default only the first per check counts")
    parser.add_argument("--lang", choices=LANGUAGES, default=DEFAULT,
                        help="the language of the replies and reasons: the graded notebook's")
    add_check_options(parser)
    args = parser.parse_args(argv)
    os.umask(0o022)  # the sandbox's uid reads the hidden inputs; the folder itself is private
    top = Path(tempfile.mkdtemp(prefix="gcl4sr-checks-", dir=args.work_root))
    workdir = top / "sandbox"
    workdir.mkdir()
    checks = None
    try:
        checks = CheckServer(workdir, args.check_wall, args.case_wall, args.check_mem_mib,
                             args.bundle_root, args.every_request, args.lang)
        _serve(checks, args.socket, sys.stdout, args.socket_uid)
    finally:
        if checks:
            checks.zygote.stop()
        shutil.rmtree(top, ignore_errors=True)
        try:
            os.unlink(args.socket)
        except OSError:
            pass


def _forked(argv: list[str]) -> int:
    """One check server forked from ``check_server.py --warm``, a warm server
    (:mod:`grading.instructor.common.forking`): the imports above (torch, PyG, the engine, the
    reference: 2.3 CPU-s) are made once per grader instead of once per submission. The warm
    server does nothing else: each forked server makes its hidden inputs and expected outputs
    in its own folder (0.1 s), as a server started alone does."""
    main(argv)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == [forking.WARM]:
        forking.serve(_forked)
    else:
        main()
    sys.stdout.flush()
    os._exit(0)  # cleaned up: skip the interpreter's teardown of torch (about a second)
