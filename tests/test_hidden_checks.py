"""Hidden checks: the reference passes, each typical mistake loses exactly its sub-checks,
and nothing the notebook did to the kernel's state changes a result.

The typical mistakes come from the registry :mod:`grading.instructor.builders.mistakes`,
defined in a notebook cell from their source (:func:`mistaken`), as a student's cell would
define them."""

from __future__ import annotations

import ast
import functools
import itertools
import json
import linecache
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
import types
from pathlib import Path

import pytest
import torch

from gcl4sr_helpers.checks import HINT_TABLES
from grading.instructor.builders.mistakes import MISTAKES
from grading.instructor.checking import battery, reference
from grading.instructor.run.server_process import SERVER_SCRIPT
from grading.kernel import grade_mmd, grade_ndcg, grade_recall, grade_witg
from grading.kernel.client import SOCKET_ENV, request
from grading.kernel.registry import CHECKS

_cells = itertools.count(1)


def notebook(source: str, **extra) -> dict:
    """Run ``source`` as a notebook cell would: ``__main__`` globals, source in linecache."""
    source = textwrap.dedent(source)
    filename = f"/tmp/ipykernel_0/cell{next(_cells)}.py"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__main__", **extra}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    return namespace


PRELUDE = """
import math
from typing import Dict, List, Set
import torch
from torch import Tensor
from torch_geometric.data import Data
from gcl4sr_helpers.data import read_item_sequences
from gcl4sr_helpers.losses import gaussian_kernel
"""

CONVERT = """
def convert_to_pyg_data(adjacency_list, num_nodes):
    edges, weights = [], []
    for source, neighbours in enumerate(adjacency_list):
        for target, weight in sorted(neighbours.items(), key=lambda kv: kv[1], reverse=True):
            edges.append([source, target])
            weights.append(weight)
    return Data(x=torch.arange(num_nodes).view(-1, 1),
                edge_index=torch.tensor(edges, dtype=torch.long).t().contiguous(),
                edge_attr=torch.tensor(weights, dtype=torch.float).view(-1, 1))
"""

WITG = """
def build_weighted_item_transition_graph(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: List[Dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window_size in range(1, 4):
            for i in range(len(sequence) - window_size):
                s, t = sequence[i], sequence[i + window_size]
                adjacency_list[s][t] = adjacency_list[s].get(t, 0.0) + 1.0 / window_size
                adjacency_list[t][s] = adjacency_list[t].get(s, 0.0) + 1.0 / window_size
    return convert_to_pyg_data(adjacency_list, num_nodes)
"""

RECALL = """
def recall_at_k(actual: List[list], predicted: List[list], topk: int) -> float:
    total, users = 0.0, 0
    for truth, pred in zip(actual, predicted):
        truth = set(truth)
        if not truth:
            continue
        users += 1
        total += len(truth & set(pred[:topk])) / len(truth)
    return total / users if users else 0.0
"""

NDCG = """
def _calculate_idcg(k: int) -> float:
    return sum(1.0 / math.log2(rank + 1) for rank in range(1, k + 1))

def ndcg_at_k(actual: List[list], predicted: List[list], topk: int) -> float:
    total, users = 0.0, 0
    for truth, pred in zip(actual, predicted):
        truth = set(truth)
        if not truth:
            continue
        users += 1
        dcg = sum(1.0 / math.log2(rank + 1)
                  for rank, item in enumerate(pred[:topk], 1) if item in truth)
        total += dcg / _calculate_idcg(min(topk, len(truth)))
    return total / users if users else 0.0
"""

MMD = """
def mmd_loss(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    batch = source.shape[0]
    kernels = gaussian_kernel(source, target, kernel_mul=kernel_mul,
                              kernel_num=kernel_num, fix_sigma=fix_sigma)
    xx, yy = kernels[:batch, :batch], kernels[batch:, batch:]
    xy, yx = kernels[:batch, batch:], kernels[batch:, :batch]
    return torch.mean(xx + yy - xy - yx)
"""


def witg():
    return notebook(PRELUDE + CONVERT + WITG)["build_weighted_item_transition_graph"]


def recall():
    return notebook(PRELUDE + RECALL)["recall_at_k"]


def ndcg():
    return notebook(PRELUDE + NDCG)["ndcg_at_k"]


def mmd():
    return notebook(PRELUDE + MMD)["mmd_loss"]


def mistaken(mistake_id: str):
    """The registry's mistake ``mistake_id`` as a notebook cell defines it (from its source)."""
    mistake = MISTAKES[mistake_id]
    return notebook(PRELUDE + CONVERT + mistake.source())[mistake.function.__name__]


def start_server(tmp_path_factory, lang: str) -> tuple[subprocess.Popen, Path, Path]:
    """A check server with short limits whose replies are in ``lang``: the process, its
    socket and its exchange folder (the only one it takes bundles from)."""
    path = tmp_path_factory.mktemp("srv") / "checks.sock"
    exchange = tmp_path_factory.mktemp("exchange")
    log = open(path.with_name("server.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-I", str(SERVER_SCRIPT), "--socket", str(path),
                             "--bundle-root", str(exchange), "--every-request", "--lang", lang,
                             "--check-wall", "20", "--case-wall", "3", "--check-mem-mib", "768"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    assert proc.stdout.readline().startswith(b"READY ")
    return proc, path, exchange


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One Korean check server, used through $GCL4SR_GRADER_SOCKET; bundles come from its
    exchange folder, where this process's temporary files now go."""
    proc, path, exchange = start_server(tmp_path_factory, "ko")
    old, old_tmp = os.environ.get(SOCKET_ENV), tempfile.tempdir
    os.environ[SOCKET_ENV], tempfile.tempdir = str(path), str(exchange)
    yield proc
    tempfile.tempdir = old_tmp
    if old is None:
        del os.environ[SOCKET_ENV]
    else:
        os.environ[SOCKET_ENV] = old
    # read the final RESULTS line while waiting: it outgrows the pipe's buffer
    proc.communicate(b"shutdown\n", timeout=180)  # a loaded machine stops the zygote slowly


def results(proc) -> list[dict]:
    proc.stdin.write(b"results\n")
    proc.stdin.flush()
    line = proc.stdout.readline().decode()
    assert line.startswith("RESULTS ")
    return json.loads(line[len("RESULTS "):])


def lost_labels(out: str) -> list[str]:
    """Labels of the sub-checks named in the printed lines."""
    return [re.search(r"\[(.*?)\]: ", line).group(1) for line in out.splitlines() if "]: " in line]


def lost(capsys) -> list[str]:
    return lost_labels(capsys.readouterr().out)


def labels(check, *indices, lang="ko"):
    return [CHECKS[check].label(battery.SUBCHECKS[check][i].id, lang) for i in indices]


# --------------------------------------------------------------------------- correct / wrong
@pytest.mark.parametrize("grade, make, points", [
    (grade_witg, witg, 3), (grade_recall, recall, 2), (grade_ndcg, ndcg, 2), (grade_mmd, mmd, 3)])
def test_a_correct_answer_gets_full_points(server, capsys, grade, make, points):
    assert grade(make(), points) == points
    assert capsys.readouterr().out == ""


def test_reference_itself_passes_every_case(tmp_path):
    for check in battery.SUBCHECKS:
        from grading.instructor.checking.cases import run_cases

        inputs = battery.make_inputs(check, tmp_path)
        want = run_cases(check, battery.reference_function(check), inputs)
        assert all(v.passed for v in battery.judge(check, want, want))


def test_witg_one_direction_loses_the_whole_part(server, capsys):
    assert grade_witg(mistaken("witg.one_direction"), 3) == 0.0
    out = capsys.readouterr().out
    assert out.count("\n") == 6 and "반대 방향 (v, u)가 없는 엣지" in out
    assert "핵심 하위 검사 [무작위 시퀀스의 엣지 집합]에서 틀려" in out.splitlines()[0]
    assert lost_labels(out) == labels("witg", 1, 2, 3, 4, 5)


def test_ndcg_without_the_cap_loses_exactly_the_cases_where_truth_is_shorter_than_k(
        server, capsys):
    assert grade_ndcg(mistaken("ndcg.idcg_k"), 2) == 0.0  # it passed k=1 and "more than k"
    assert lost(capsys) == labels("ndcg", 0, 2, 4)


def test_mmd_sign_error_loses_the_whole_part(server, capsys):
    assert grade_mmd(mistaken("mmd.sign"), 3) == 0.0  # it passed identical batches
    assert lost(capsys) == labels("mmd", 0, 1, 2, 3, 5)


# --------------------------------------------------------------------------- the registry
def test_every_hint_of_the_students_checks_names_a_registry_mistake():
    """Each hint key is a mistake of the registry (check_constants stores what it gives),
    whose hint is that text, in both languages; every mistake says what it gets wrong in
    both."""
    for check, table in HINT_TABLES.items():
        for key, text in table.items():
            assert MISTAKES[f"{check}.{key}"].hint == text, (check, key)
    for mistake in MISTAKES.values():
        english, korean = mistake.what("en"), mistake.what("ko")
        assert mistake.check in HINT_TABLES and english and not re.search("[가-힣]", english)
        assert re.search("[가-힣]", korean)


def test_a_mistakes_source_is_the_notebook_function_it_computes():
    """The source a submission gets: no decorator, renamed (a signature over two lines stays
    aligned), and defined in a notebook cell it computes what the registry's function does."""
    actual, predicted = [[1, 2, 3, 4], [7], []], [[1, 9, 2, 8, 3], [3, 7, 1], [2]]
    source, target = torch.randn(4, 20), torch.randn(4, 20) + 0.5
    for mistake in MISTAKES.values():
        text = mistake.source("a_students_function")
        assert text.startswith("def a_students_function("), mistake.id
        lines, indent = text.splitlines(), text.index("(") + 1
        assert ast.parse(text).body[0].name == "a_students_function"
        if not lines[0].endswith(":"):
            assert lines[1][:indent].isspace() and lines[1][indent] != " ", lines[:2]
        fn = notebook(PRELUDE + CONVERT + text)["a_students_function"]
        if mistake.check in ("mmd", "nt_xent"):
            assert torch.equal(fn(source, target), mistake.function(source, target)), mistake.id
        for k in (1, 2, 3) if mistake.check in ("recall", "ndcg") else ():
            try:
                want = mistake.function(actual, predicted, k)
            except ZeroDivisionError:  # ndcg.rank_from_zero: log2(1) = 0
                with pytest.raises(ZeroDivisionError):
                    fn(actual, predicted, k)
                continue
            assert fn(actual, predicted, k) == want, (mistake.id, k)


# --------------------------------------------------------------------------- evidence
STUBS = [  # answers that do nothing: each passes a degenerate sub-check, none earns a point
    (grade_witg, PRELUDE + "from gcl4sr_helpers.graph import convert_to_pyg_data\n\n"
                 "def f(path):\n    _, n = read_item_sequences(path)\n"
                 "    return convert_to_pyg_data([dict() for _ in range(n)], n)\n"),
    (grade_recall, "def f(actual, predicted, topk):\n    return 0.0\n"),
    (grade_ndcg, "def f(actual, predicted, topk):\n    return 0.0\n"),
    (grade_mmd, PRELUDE + "def f(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):"
                "\n    return torch.zeros(())\n"),
]


@pytest.mark.parametrize("grade, source", STUBS, ids=["witg", "recall", "ndcg", "mmd"])
def test_stubs_earn_nothing(server, capsys, grade, source):
    assert grade(notebook(source)["f"], 3) == 0.0
    out = capsys.readouterr().out
    assert "핵심 하위 검사" in out.splitlines()[0] and out.count("\n") == 6  # 5 lost, 1 passed


@pytest.mark.parametrize("grade, mistake, passed_before", [
    (grade_witg, "witg.windows_1_2", 2),  # node count, length-2 sequences
    (grade_recall, "recall.precision", 1),  # no user with a truth
    (grade_mmd, "mmd.wrong_bandwidth", 2),  # fix_sigma
], ids=["witg-window-1-2", "recall-divided-by-k", "mmd-wrong-bandwidth"])
def test_near_misses_lose_the_whole_part(server, capsys, grade, mistake, passed_before):
    assert grade(mistaken(mistake), 3) == 0.0
    record = results(server)[-1]
    assert record["passed"] == passed_before and record["fraction"] == 0.0
    assert labels(record["check"], 0 if record["check"] != "witg" else 1)[0] in lost(capsys)


def test_unweighted_witg_keeps_the_structure_sub_checks(server, capsys):
    assert grade_witg(mistaken("witg.weight_one"), 3) == 1.5
    assert lost(capsys) == labels("witg", 2, 4, 5)


def test_every_reason_line_is_korean(server, capsys):
    for grade, source in STUBS:
        grade(notebook(source)["f"], 3)
    grade_ndcg(notebook("def ndcg_at_k(a, p, k):\n    while True:\n        pass\n")["ndcg_at_k"],
               2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 20
    for line in lines:  # the reason after the label, or the whole line
        assert re.search("[가-힣]", line.split("]: ", 1)[-1]), line


def test_an_english_server_words_every_line_in_english(tmp_path_factory, monkeypatch, capsys):
    """The language is the server's (the class command reads it from the notebook); the
    kernel's own words (a refusal, the tampering it found) travel as keys the server words."""
    proc, path, exchange = start_server(tmp_path_factory, "en")
    monkeypatch.setenv(SOCKET_ENV, str(path))
    monkeypatch.setenv("GCL4SR_LANG", "ko")  # what the kernel says of itself changes nothing
    monkeypatch.setattr(tempfile, "tempdir", str(exchange))
    try:
        assert grade_witg(mistaken("witg.one_direction"), 3) == 0.0
        for grade, source in STUBS:
            grade(notebook(source)["f"], 3)
        assert grade_recall(notebook("f = lambda a, p, k: 0.0")["f"], 2) == 0.0
        out = capsys.readouterr().out
        hook = types.SimpleNamespace(displayhook=object(), display_formatter=None)
        monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: hook))
        grade_ndcg(ndcg(), 2)
        tampered = capsys.readouterr().out
    finally:
        proc.communicate(b"shutdown\n", timeout=180)
    lines = out.splitlines()
    assert len(lines) > 20 and not re.search("[가-힣]", out + tampered), out + tampered
    assert lines[0] == ("-3 WITG: the core sub-check [edge set on random sequences] failed, so "
                        "this part scores 0. The other sub-checks count only once the core one "
                        "passes.")
    assert "some edge (u, v) has no reverse (v, u): did you add both directions?" in out
    assert "a lambda cannot be graded: define the function with def" in out
    assert "the score display was altered: sys.displayhook was replaced" in tampered
    assert lost_labels(out)[:5] == labels("witg", 1, 2, 3, 4, 5, lang="en")


def test_mmd_that_ignores_its_kernel_arguments_loses_those_cases(server, capsys):
    assert grade_mmd(mistaken("mmd.ignores_kwargs"), 3) == 2.0
    assert lost(capsys) == labels("mmd", 2, 3)


def test_detached_mmd_loses_the_model_case(server, capsys):
    assert grade_mmd(mistaken("mmd.detached"), 3) == 2.5
    assert lost(capsys) == labels("mmd", 5)


def test_counting_empty_truths_as_zero_is_caught(server, capsys):
    assert grade_recall(mistaken("recall.empty_as_zero"), 2) == 0.0  # it passed 4 edge cases
    assert labels("recall", 0, 4) == lost(capsys)


# Rules of the docstrings that only the hidden checks see broken: each loses its own sub-check.
@pytest.mark.parametrize("grade, mistake, points, kept, lost_indices", [
    (grade_recall, "recall.truth_as_list", 2, 5 / 3, (2,)),  # [3, 3] as two targets
    (grade_ndcg, "ndcg.truth_as_list", 2, 5 / 3, (2,)),  # [7, 7]: an IDCG of two hits
    (grade_ndcg, "ndcg.idcg_list", 2, 5 / 3, (4,)),  # 5 targets, 3 recommended, k=10
    # [5, 5, 6] and the long sequence of items 1..30 repeat items at distances 1 to 3
    (grade_witg, "witg.self_loop_skipped", 3, 2.0, (4, 5)),  # no w(5, 5)
    (grade_witg, "witg.self_loop_once", 3, 2.0, (4, 5)),  # w(5, 5) = 1, not 2
], ids=["recall-duplicates", "ndcg-duplicates", "ndcg-idcg-list", "witg-no-self-loop",
        "witg-self-loop-once"])
def test_each_rule_of_the_docstrings_has_its_sub_check(server, capsys, grade, mistake, points,
                                                        kept, lost_indices):
    assert grade(mistaken(mistake), points) == pytest.approx(kept)
    assert lost(capsys) == labels(grade.__name__.removeprefix("grade_"), *lost_indices)


def test_hard_coded_home_graph_fails_on_hidden_inputs(server, capsys, tmp_path):
    home = tmp_path / "home_train.txt"
    home.write_text("1 1,2,3,4\n2 2,5,3\n3 6,1\n")
    ns = notebook(PRELUDE + "\nANSWER = None\n\ndef build_weighted_item_transition_graph(p):\n"
                  "    return ANSWER\n")
    ns["ANSWER"] = reference.build_weighted_item_transition_graph(str(home))
    assert grade_witg(ns["build_weighted_item_transition_graph"], 3) == 0.0
    assert "노드 수가 참조 답안과 다릅니다" in capsys.readouterr().out


def test_helpers_constants_closures_and_tensor_globals_travel(server, capsys):
    ns = notebook(PRELUDE + """
WINDOWS = (1, 2, 3)
SCALE = {"one": 1.0}
ZERO = torch.zeros(())

def _hits(truth, pred, k):
    return len(truth & set(pred[:k]))

def make_recall():
    empty = 0.0
    def recall_at_k(actual: List[list], predicted: List[list], topk: int) -> float:
        scores = [_hits(set(a), p, topk) / len(set(a)) * SCALE["one"]
                  for a, p in zip(actual, predicted) if a]
        return sum(scores) / len(scores) + float(ZERO) if scores else empty
    return recall_at_k

recall_at_k = make_recall()
""")
    assert grade_recall(ns["recall_at_k"], 2) == 2.0, capsys.readouterr().out


# --------------------------------------------------------------------------- refusals
def test_objects_that_are_not_notebook_functions_get_zero_with_a_reason(server, capsys):
    class Callable:
        def __call__(self, *args):
            return 0.0

    refused = [lambda a, p, k: 0.0, functools.partial(reference.recall_at_k),
               reference.recall_at_k, Callable(), math.fsum]
    for fn in refused:
        assert grade_recall(fn, 2) == 0.0
    out = capsys.readouterr().out
    assert "강사 전용 grading 패키지" in out and "lambda" in out
    assert "노트북에서 def로 정의한 함수를 넘겨야 합니다" in out


def test_a_notebook_function_that_calls_the_reference_is_refused(server, capsys):
    ns = notebook("import grading.instructor.checking.reference as ref\n\n"
                  "def recall_at_k(a, p, k):\n"
                  "    return ref.recall_at_k(a, p, k)\n")
    assert grade_recall(ns["recall_at_k"], 2) == 0.0
    assert "강사 전용 grading 패키지" in capsys.readouterr().out


def test_importing_grading_inside_the_sandbox_fails(server, capsys):
    ns = notebook("def recall_at_k(a, p, k):\n"
                  "    import grading.instructor.checking.reference as ref\n"
                  "    return ref.recall_at_k(a, p, k)\n")
    assert grade_recall(ns["recall_at_k"], 2) == 0.0
    assert "ImportError: grading is not available to student code" in capsys.readouterr().out


# --------------------------------------------------------------------------- isolation
def test_monkeypatched_kernel_state_changes_nothing(server, capsys, monkeypatch):
    import gcl4sr_helpers.losses
    import grading.instructor.checking.reference

    right_mmd, wrong_mmd, right_witg = mmd(), mistaken("mmd.sign"), witg()
    wrong_recall = mistaken("recall.precision")
    monkeypatch.setattr(torch, "manual_seed", lambda seed: None)
    monkeypatch.setattr(torch, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(torch, "equal", lambda *a, **k: True)
    monkeypatch.setattr(math, "isclose", lambda *a, **k: True)
    monkeypatch.setattr(random, "Random", lambda seed=None: random.SystemRandom())
    monkeypatch.setattr(gcl4sr_helpers.losses, "gaussian_kernel",
                        lambda s, t, *a, **k: torch.zeros(2 * len(s), 2 * len(s)))
    monkeypatch.setattr(grading.instructor.checking.reference, "recall_at_k", wrong_recall)
    monkeypatch.setattr(grading.instructor.checking.reference, "mmd_loss",
                        lambda *a, **k: torch.tensor(0.0))
    monkeypatch.setattr(battery, "judge", lambda *a, **k: [])
    assert grade_recall(wrong_recall, 2) < 2.0
    assert grade_recall(recall(), 2) == 2.0
    assert grade_mmd(right_mmd, 3) == 3.0  # gaussian_kernel is re-imported from disk
    assert grade_mmd(wrong_mmd, 3) == 0.0
    assert grade_witg(right_witg, 3) == 3.0


def test_student_code_cannot_reach_the_reference(server, capsys):
    """The sandbox process has no reference module loaded and cannot import one."""
    ns = notebook("""
import sys
def recall_at_k(actual, predicted, topk):
    found = [m for m in sys.modules if m.split(".")[0] in ("grading", "reference")]
    found += [m for m, mod in list(sys.modules.items())
              if m != "__main__" and "ndcg_at_k" in getattr(mod, "__dict__", {})]
    try:
        import grading
        found.append("import")
    except ImportError:
        pass
    return 0.5 + len(found)
""")
    grade_recall(ns["recall_at_k"], 2)
    assert "반환값 0.5)" in capsys.readouterr().out


def test_display_tampering_is_detected(server, capsys, monkeypatch):
    hook = types.SimpleNamespace(displayhook=object(), display_formatter=None)
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: hook
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert grade_recall(recall(), 2) == 0.0
    out = capsys.readouterr().out
    assert "sys.displayhook을 바꿨습니다" in out
    assert results(server)[-1]["status"] == "tamper"


def test_visible_points_are_judged_on_the_server_not_in_the_process_that_ran_them(server):
    """The public verdict compares outputs on the server: a function that makes every
    comparison in its own process true (math.isclose, builtins) still fails it."""
    grade_recall(recall(), 2)
    assert results(server)[-1]["public"] == {
        "id": battery.PUBLIC, "label": "공개 테스트 (채점 서버에서 공개 예제로 다시 실행)",
        "passed": True, "reason": ""}
    ns = notebook("""
import builtins
import math
def ndcg_at_k(actual, predicted, topk):
    math.isclose = lambda *args, **kwargs: True
    builtins.abs = lambda value: 0.0
    return 0.0
""")
    grade_ndcg(ns["ndcg_at_k"], 3)
    public = results(server)[-1]["public"]
    assert not public["passed"] and public["reason"].startswith("'hand_k1' 예제: 값이 틀렸습니다")


# --------------------------------------------------------------------------- limits
def test_endless_loop_is_stopped_and_costs_only_that_check(server, capsys):
    """The loop is stopped on the first case (a public example: the visible test's verdict
    says so), and every later case is skipped instead of waiting again."""
    ns = notebook("def ndcg_at_k(a, p, k):\n    while True:\n        pass\n")
    assert grade_ndcg(ns["ndcg_at_k"], 2) == 0.0
    assert "앞 사례가 시간 제한을 넘겨" in capsys.readouterr().out
    assert "초 안에 결과가 나오지 않았습니다" in results(server)[-1]["public"]["reason"]
    assert grade_recall(recall(), 2) == 2.0


def test_memory_hog_and_exit_are_contained(server, capsys):
    hog = notebook("def recall_at_k(a, p, k):\n    return len(bytearray(8 << 30))\n")
    assert grade_recall(hog["recall_at_k"], 2) == 0.0
    assert "MemoryError" in capsys.readouterr().out
    quitter = notebook("import os\n\ndef recall_at_k(a, p, k):\n    os._exit(3)\n")
    assert grade_recall(quitter["recall_at_k"], 2) == 0.0
    assert "결과가 없습니다" in capsys.readouterr().out


def test_server_records_every_request(server):
    record = results(server)[-1]
    assert set(record) >= {"check", "fraction", "verdicts", "status", "bundle_sha256"}
    assert all(0.0 <= r["fraction"] <= 1.0 for r in results(server))


def test_reasons_never_quote_an_expected_value(server, capsys, tmp_path):
    from grading.instructor.checking.cases import run_cases

    wrong = mistaken("ndcg.idcg_k")
    grade_ndcg(wrong, 2)
    out = capsys.readouterr().out
    want = run_cases("ndcg", reference.ndcg_at_k, battery.make_inputs("ndcg", tmp_path))
    numbers = set(re.findall(r"\d+\.\d+", out))
    for value in (v["value"] for v in want.values()):
        if value not in (0.0, 1.0):
            assert not {f"{value:.6g}", f"{value:.4f}", f"{value:.3f}", repr(value)} & numbers


def test_the_server_takes_bundles_only_from_the_exchange_folder(server):
    """The server runs as the instructor: a bundle path outside the kernel's exchange folder,
    or a link inside it to the reference, would make it read the instructor's files."""
    answer = Path(reference.__file__)
    link = Path(tempfile.mkdtemp()) / "bundle.pkl"
    link.symlink_to(answer)
    for bundle, reason in ((answer, "교환 폴더에서만"), (link, "교환 폴더에서만"),
                           (link.parent, "받지 못했습니다")):
        reply = request({"check": "recall", "points": 1.0, "bundle": str(bundle)})
        assert reply.get("points") == 0.0, (bundle, reply)
        assert any(reason in line for line in reply["lines"]), (bundle, reply["lines"])
        assert results(server)[-1]["status"] == "nobundle"
