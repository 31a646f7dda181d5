"""Possible copies: for each TODO, pairs of answers whose code is unusually similar once the
template's given code is removed, for a human to review (never used to change a score).

Fingerprints are copydetect's (winnowing over pygments tokens, names and strings
normalised, so renamed variables do not hide a copy; matches are local, so reordered
independent lines keep most of them). The template's given code is removed twice over: the
answer's docstrings and its lines equal to a line of the template cell (signature, given
lines) are dropped before fingerprinting, and the template is copydetect's *boilerplate*, whose
fingerprints are dropped from every answer (given code the student reformatted). For
answers ``a`` and ``b``,

    similarity = min(copied_a / own_a, copied_b / own_b)

where ``own`` is the answer's code covered by fingerprints and ``copied`` the part of it
that matches the other answer (both in characters of normalised code).
"""

from __future__ import annotations

import ast
import hashlib
import io
from itertools import combinations

import numpy as np
from copydetect import CodeFingerprint, compare_files, utils

NOISE_CHARS = 12  # copydetect's k: the shortest match that counts (normalised characters)
GUARANTEE_CHARS = 16  # every match at least this long is found (winnowing window 16 - 12 + 1)
THRESHOLD = 0.6  # listed when both answers share at least this fraction of their own code
MIN_OWN_CHARS = 40  # answers with less own code are too short to tell a copy from a formula
PREFILTER = 0.3  # pairs sharing fewer fingerprints than this fraction are not compared
DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def stable_kgram_hashes(text: str, k: int) -> np.ndarray:
    """64-bit BLAKE2 hashes of every ``k``-gram of ``text``: copydetect hashes them with
    Python's ``hash()``, salted per process, so its fingerprints and similarities changed
    from one run to the next; these do not (the report is the same file every time)."""
    return np.array([int.from_bytes(hashlib.blake2b(text[i:i + k].encode(), digest_size=8)
                                    .digest(), "little", signed=True)
                     for i in range(len(text) - k + 1)], dtype=np.int64)


utils.hashed_kgrams = stable_kgram_hashes  # what copydetect's fingerprinting calls


def fingerprint(code: str, boilerplate: np.ndarray | None = None) -> CodeFingerprint:
    return CodeFingerprint("answer.py", NOISE_CHARS, GUARANTEE_CHARS - NOISE_CHARS + 1,
                           boilerplate=boilerplate, fp=io.StringIO(code))


def similar_pairs(answers: dict[str, str], template: str) -> list[dict]:
    """``[{"a", "b", "similarity"}]`` of one TODO, most similar first, at or above
    ``THRESHOLD``; ``answers`` maps each student to the source of the answer cell."""
    boilerplate = np.array(sorted(fingerprint(template).hashes), dtype=np.int64)
    own = {student: own_code(code, template) for student, code in answers.items()}
    cache = {code: fingerprint(code, boilerplate) for code in set(own.values())}
    prints = {s: cache[own[s]] for s in sorted(own)
              if cache[own[s]].token_coverage >= MIN_OWN_CHARS}
    kinds: dict[str, list[str]] = {}  # normalised code -> its students (identical: 100 %)
    for student, found in prints.items():
        kinds.setdefault(found.filtered_code, []).append(student)
    groups = list(kinds.values())
    pairs = [(a, b, 1.0) for group in groups for a, b in combinations(group, 2)]
    shared = _shared_fingerprints([prints[group[0]].hashes for group in groups])
    for i, j in combinations(range(len(groups)), 2):
        if shared[i, j] < PREFILTER * min(shared[i, i], shared[j, j]):
            continue
        _, (sim_a, sim_b), _ = compare_files(prints[groups[i][0]], prints[groups[j][0]])
        similarity = round(float(min(sim_a, sim_b)), 3)
        if similarity >= THRESHOLD:
            pairs += [(a, b, similarity) for a in groups[i] for b in groups[j]]
    pairs = [{"a": min(a, b), "b": max(a, b), "similarity": s} for a, b, s in pairs]
    return sorted(pairs, key=lambda pair: (-pair["similarity"], pair["a"], pair["b"]))


def own_code(code: str, template: str) -> str:
    """The answer without its docstrings (when it parses) and without every line equal to a
    line of the template (a docstring goes whole: one edited line of it must not leave an
    opening quote that turns the code below into a string)."""
    docstrings: set[int] = set()
    try:
        nodes = ast.walk(ast.parse(code))
    except SyntaxError:
        nodes = iter(())
    for node in nodes:
        if isinstance(node, DOCUMENTED) and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(getattr(node.body[0], "value", None), ast.Constant) \
                and isinstance(node.body[0].value.value, str):
            docstrings.update(range(node.body[0].lineno - 1, node.body[0].end_lineno))
    given = {line.strip() for line in template.splitlines()}
    return "\n".join(line for number, line in enumerate(code.splitlines())
                     if number not in docstrings and line.strip() not in given)


def _shared_fingerprints(hash_sets: list[set]) -> np.ndarray:
    """``[n, n]`` counts of fingerprints two answers share (the diagonal: each one's own)."""
    vocabulary = {h: k for k, h in enumerate({h for hashes in hash_sets for h in hashes})}
    member = np.zeros((len(hash_sets), len(vocabulary)), dtype=np.float32)
    for row, hashes in enumerate(hash_sets):
        member[row, [vocabulary[h] for h in hashes]] = 1.0
    return member @ member.T


def groups(pairs: list[dict]) -> list[list[str]]:
    """Students linked by listed pairs (connected components), largest group first."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for pair in pairs:
        parent[root(pair["a"])] = root(pair["b"])
    found: dict[str, list[str]] = {}
    for name in sorted(parent):
        found.setdefault(root(name), []).append(name)
    return sorted(found.values(), key=lambda group: (-len(group), group))
