"""The release's Korean attaches particles to their word, after bold, italics, code and math.

``**전역 그래프**를``, not ``**전역 그래프** 를``: a particle (조사) or the copula (이다) is
written without a space, even when the word before it is bold, italic, code or a formula. The scan
covers every cell students receive: markdown, the TODO docstrings, messages and comments.
"""

import re

import nbformat
import pytest

from grading.release import RELEASE

PARTICLES = (
    "은", "는", "이", "가", "을", "를", "의", "에", "에서", "에서는", "에는", "에도",
    "에게", "로", "으로", "로는", "으로는", "로만", "으로만", "로서", "으로서", "와", "과",
    "와는", "과는", "도", "만", "까지", "까지만", "부터", "마다", "처럼", "보다", "만큼",
    "이나", "나", "이란", "란", "이라", "라", "이라는", "라는", "이라서", "라서", "인",
    "입니다", "이고", "이며", "이면", "이므로", "이지만", "였습니다", "이었습니다", "됩니다",
    "되는",
)
#: A bold, italic, code or inline-math span, a space or line break, then a particle ending its word.
DETACHED = re.compile(
    r"(\*\*[^*\n]+\*\*|(?<![*\w])\*[^*\s][^*\n]*\*(?![*\w])|`+[^`\n]+`+"
    r"|(?<!\$)\$[^$\n]+\$(?!\$))(?: +|[ \t]*\n[ \t]*)"
    rf"({'|'.join(sorted(PARTICLES, key=len, reverse=True))})(?![가-힣])")


def detached_particles(text: str) -> list[str]:
    """Every ``span particle`` with a space between them, as written in ``text``."""
    return [match.group(0) for match in DETACHED.finditer(text)]


@pytest.mark.parametrize("text, gap", [
    ("**전역 그래프** 를 끌어오는", "**전역 그래프** 를"),
    ("`gaussian_kernel` 은 주어집니다", "`gaussian_kernel` 은"),
    ("그래프는 **무방향** 이라 두 방향", "**무방향** 이라"),
    ("$1/k$ 을 더합니다", "$1/k$ 을"),
    ("``Data`` 를 반환", "``Data`` 를"),
    ("*Restart Kernel* 로 확인", "*Restart Kernel* 로"),
    ("**3개**\n  까지만", "**3개**\n  까지만"),
    ("`edge_attr [E, 1]` 입니다.", "`edge_attr [E, 1]` 입니다"),
])
def test_a_detached_particle_is_caught(text, gap):
    assert detached_particles(text) == [gap]


@pytest.mark.parametrize("text", [
    "**전역 그래프**를 끌어오는", "`gaussian_kernel`은 주어집니다", "`k` 이번에는",
    "**합계** 20점", "$k$ 개를", "a * b 를", "2 * 3 * 4 는", "`x`, `y` 입력",
    "**진행 방법**\n\n- 이",
])
def test_attached_or_unrelated_text_passes(text):
    assert detached_particles(text) == []


def test_release_attaches_every_particle():
    found = [(index, gap) for index, cell in enumerate(nbformat.read(RELEASE, as_version=4).cells)
             for gap in detached_particles(cell.source)]
    assert not found, "조사를 앞말에 붙여 쓰세요 (셀 번호, 본문): " + "; ".join(
        f"{index}: {gap!r}" for index, gap in found)
