"""Figures of the course notebook (matplotlib only).

Labels are in the edition's language (:mod:`gcl4sr_helpers.i18n`), except that the Korean
edition falls back on English where no font with Hangul is installed, so that no label ever
renders as missing-glyph boxes. Every label is a catalogue message ``plot.<key>`` (``LABELS``);
the results table (:func:`metric_table`) names its rows with the same labels as the bar chart.
:func:`korean_font` looks for one of ``KOREAN_FONTS`` among matplotlib's fonts, then among the
system's font files that matplotlib's cache predates (a font installed later, for instance
``apt-get install fonts-nanum`` on Colab), and keeps only a font that really has Hangul.
"""

from __future__ import annotations

import contextlib
import functools
import math
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from . import i18n
from .checks.mode import course_mode
from .data import SequenceData
from .i18n import Messages, language

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontEntry

#: Families with Hangul, most wanted first (every Noto Sans CJK region has Hangul).
KOREAN_FONTS = ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "NanumBarunGothic",
                "Malgun Gothic", "Apple SD Gothic Neo", "AppleGothic", "Noto Sans CJK JP",
                "Noto Sans CJK SC", "Noto Sans CJK TC")

#: Every label of the figures: the catalogue's ``plot.<key>`` messages.
LABELS = Messages("plot.")

SMALL_GRAPH_MAX_NODES = 30
HANGUL_PROBE = "\uac00\ud7a3"  # the first and last Hangul syllables, escaped: no Hangul here


def _pyplot():
    """``matplotlib.pyplot``, imported at the first figure: nbgrader's run draws none and so
    never pays for the import (0.4 CPU-s of each graded submission)."""
    import matplotlib.pyplot

    return matplotlib.pyplot


def _drawn(plot: Callable[..., Figure]) -> Callable[..., Figure | None]:
    """``plot``, except under nbgrader, where it draws nothing and says so in a line: no point
    rests on a figure, and a graded submission saves their CPU time (about 0.6 s)."""
    @functools.wraps(plot)
    def drawn(*args, **kwargs) -> Figure | None:
        if course_mode().grading:
            print(i18n.text("plot.skipped"))
            return None
        return plot(*args, **kwargs)
    return drawn


def _has_hangul(path: str) -> bool:
    from matplotlib import ft2font

    try:
        font = ft2font.FT2Font(path)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(char)) for char in HANGUL_PROBE)


def find_korean_font(entries: Iterable[FontEntry],
                     system_files: Callable[[], Iterable[str]]) -> str | None:
    """The first of ``KOREAN_FONTS`` with Hangul among ``entries`` (matplotlib's cache), else
    among the font files of ``system_files()`` the cache lacks (added to matplotlib)."""
    from matplotlib import font_manager, ft2font

    entries = list(entries)
    known = {entry.name: entry.fname for entry in entries}
    for name in KOREAN_FONTS:
        if name in known and _has_hangul(known[name]):
            return name
    cached = {entry.fname for entry in entries}
    found: dict[str, list[str]] = {}  # family -> its files (every weight)
    for path in sorted(set(system_files()) - cached):
        try:
            name = ft2font.FT2Font(path).family_name
        except (OSError, RuntimeError, ValueError):
            continue
        if name in KOREAN_FONTS and _has_hangul(path):
            found.setdefault(name, []).append(path)
    name = next((name for name in KOREAN_FONTS if name in found), None)
    for path in found.get(name, ()):
        font_manager.fontManager.addfont(path)
    return name


@functools.cache
def korean_font() -> str | None:
    """The family name of an installed font with Hangul, or None (looked up once)."""
    from matplotlib import font_manager

    return find_korean_font(font_manager.fontManager.ttflist, font_manager.findSystemFonts)


def label(key: str, **fields) -> str:
    """``LABELS[key]`` in the edition's language; in English instead of Korean if
    :func:`korean_font` found no font."""
    lang = language()
    if lang != "en" and not korean_font():
        lang = "en"
    return i18n.text(LABELS.key(key), lang, **fields)


@contextlib.contextmanager
def _fonts() -> Iterator[None]:
    """Texts made inside use the Korean font (DejaVu Sans for what it lacks), if there is one."""
    font = korean_font()
    with _pyplot().rc_context({"font.family": [font, "DejaVu Sans"]} if font else {}):
        yield


@_drawn
def plot_sequence_lengths(data: SequenceData, bins: int = 60) -> Figure:
    """Histogram of user sequence lengths (log count axis) with mean and median."""
    lengths = np.fromiter(map(len, data.sequences), dtype=np.int64, count=len(data.sequences))
    with _fonts():
        fig, ax = _pyplot().subplots(figsize=(7, 3.5))
        ax.hist(lengths, bins=bins, color="#4C72B0")
        ax.set_yscale("log")
        ax.axvline(lengths.mean(), color="#C44E52", ls="--",
                   label=label("mean", value=lengths.mean()))
        median = float(np.median(lengths))
        ax.axvline(median, color="#55A868", ls=":", label=label("median", value=median))
        ax.set_xlabel(label("lengths_x"))
        ax.set_ylabel(label("lengths_y"))
        ax.set_title(label("lengths_title", dataset=data.dataset.name, users=len(lengths)))
        ax.legend()
        fig.tight_layout()
    return fig


@_drawn
def plot_graph_distribution(graph) -> Figure:
    """Node degree (log-log) and edge weight distributions of a WITG."""
    src = graph.edge_index[0].cpu().numpy()
    weight = graph.edge_attr.detach().cpu().double().view(-1).numpy()
    degree = np.bincount(src, minlength=int(graph.num_nodes))[1:]  # node 0 is padding
    with _fonts():
        fig, (left, right) = _pyplot().subplots(1, 2, figsize=(11, 3.8))
        positive = degree[degree > 0]
        if positive.size:
            edges = np.unique(np.logspace(0, math.log10(positive.max() + 1), 40).astype(int))
            left.hist(positive, bins=edges, color="#4C72B0")
        left.set_xscale("log")
        left.set_yscale("log")
        left.set_xlabel(label("degree_x"))
        left.set_ylabel(label("degree_y"))
        left.set_title(label("degree_title", mean=degree.mean(), max=int(degree.max(initial=0))))
        sixths = np.rint(weight * 6).astype(np.int64)
        values, counts = np.unique(sixths[sixths <= 36], return_counts=True)
        right.bar(values / 6.0, counts, width=0.12, color="#DD8452")
        right.set_yscale("log")
        right.set_xlabel(label("weight_x"))
        right.set_ylabel(label("weight_y"))
        right.set_title(label("weight_title", edges=weight.size, max=weight.max(initial=0)))
        fig.tight_layout()
    return fig


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or values.size < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


@_drawn
def plot_losses(history: Sequence[Sequence[float]], baselines: Mapping[str, float] | None = None,
                smooth: int = 10) -> Figure:
    """Per-batch ``(main, gcl, mmd)`` losses; ``baselines`` draws no-learning levels."""
    values = np.asarray(history, dtype=np.float64).reshape(-1, 3)
    baselines = baselines or {}
    window = max(1, min(smooth, values.shape[0] // 5))
    with _fonts():
        fig, axes = _pyplot().subplots(1, 3, figsize=(13, 3.5))
        for ax, column, name in zip(axes, values.T, ("main", "gcl", "mmd"), strict=True):
            steps = np.arange(1, column.size + 1)
            ax.plot(steps, column, color="#4C72B0", alpha=0.35 if window > 1 else 1.0,
                    marker="o" if column.size < 20 else None, label=label("per_batch"))
            if window > 1:
                ax.plot(steps[window - 1:], _smooth(column, window), color="#4C72B0",
                        label=label("moving_average", window=window))
            if name in baselines:
                ax.axhline(baselines[name], color="#C44E52", ls="--", label=label("no_learning"))
            ax.set_title(label("loss_title", name=name, mean=column.mean()))
            ax.set_xlabel(label("batch"))
            ax.legend(fontsize=8)
        fig.tight_layout()
    return fig


@_drawn
def plot_metric_comparison(rows: Mapping[str, Mapping[str, float]], dataset: str) -> Figure:
    """Grouped bars of Recall@k / NDCG@k for each named result on the named dataset."""
    names = list(rows)
    metrics = list(next(iter(rows.values())))
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(metrics))
    with _fonts():
        fig, ax = _pyplot().subplots(figsize=(9, 3.8))
        for i, name in enumerate(names):
            ax.bar(x + i * width - 0.4 + width / 2, [rows[name][m] for m in metrics], width,
                   label=name)
        ax.set_xticks(x, metrics)
        ax.set_ylabel(label("score"))
        ax.set_title(label("metrics_title", dataset=dataset))
        ax.legend(fontsize=8)
        fig.tight_layout()
    return fig


def _columns(text: str) -> int:
    """Columns ``text`` takes in a monospace font: a wide character (Hangul) takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def metric_table(rows: Mapping[str, Mapping[str, float]], title: str) -> str:
    """The rows of :func:`plot_metric_comparison` as a text table: one line per name, one
    column per metric, the names padded to one width (Hangul counted as two columns)."""
    metrics = list(next(iter(rows.values())))
    width = max(map(_columns, [title, *rows])) + 2

    def line(name: str, cells: Iterable[str]) -> str:
        return name + " " * (width - _columns(name)) + "".join(cells)

    return "\n".join([line(title, (f"{metric:>11}" for metric in metrics)),
                      *(line(name, (f"{values[metric]:>11.4f}" for metric in metrics))
                        for name, values in rows.items())])


def _weight_text(weight: float | None) -> str:
    """A weight below 1 as its fraction (``1/3``), others as decimals (``1.5``); ``-`` when the
    edge is missing."""
    if weight is None:
        return "-"
    fraction = Fraction(weight).limit_denominator(6)
    exact = abs(float(fraction) - weight) < 1e-4
    return str(fraction) if exact and weight < 1 else f"{weight:.3g}"


@_drawn
def plot_small_graph(graph, title: str | None = None) -> Figure:
    """Draw a small graph as it is: nodes on a circle, one line per linked pair (width and
    label: the weight), a ring beside a node for a self-loop. A pair whose two directions
    differ shows both weights, ``w(a, b) / w(b, a)``; a node without edges is drawn hollow."""
    nodes = int(graph.num_nodes)
    if nodes > SMALL_GRAPH_MAX_NODES:
        raise ValueError(i18n.text("plot.too_big", most=SMALL_GRAPH_MAX_NODES, nodes=nodes))
    src, dst = graph.edge_index.cpu().tolist()
    weights = dict(zip(zip(src, dst, strict=True), graph.edge_attr.detach().cpu().view(-1).tolist(),
                       strict=True))
    angle = 2 * math.pi * np.arange(nodes) / max(nodes, 1) + math.pi / 2
    xy = np.stack([np.cos(angle), np.sin(angle)], 1)
    linked = set(src) | set(dst)
    from matplotlib.patches import Circle

    with _fonts():
        fig, ax = _pyplot().subplots(figsize=(5, 5))
        for a, b in sorted({(min(s, d), max(s, d)) for s, d in weights}):
            forward, backward = weights.get((a, b)), weights.get((b, a))
            width = 1 + 2.5 * max(w for w in (forward, backward) if w is not None)
            text = _weight_text(forward) if forward == backward or a == b else \
                f"{_weight_text(forward)} / {_weight_text(backward)}"
            if a == b:  # a ring outside the circle of nodes
                centre = xy[a] * 1.28
                ax.add_patch(Circle(centre, 0.16, fill=False, lw=width, color="#DD8452"))
                ax.text(*(xy[a] * 1.55), text, ha="center", va="center", fontsize=11)
                continue
            ax.plot(*zip(xy[a], xy[b], strict=True), color="#4C72B0", lw=width, alpha=0.75,
                    zorder=1)
            at = xy[a] + 0.38 * (xy[b] - xy[a])  # off the middle, where crossing lines meet
            ax.text(*at, text, ha="center", va="center", fontsize=10,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"}, zorder=3)
        for node in range(nodes):
            on = node in linked
            ax.add_patch(Circle(xy[node], 0.11, zorder=4, lw=1.5, ec="#4C72B0",
                                fc="#4C72B0" if on else "white"))
            ax.text(*xy[node], str(node), ha="center", va="center", zorder=5, fontsize=11,
                    color="white" if on else "#4C72B0")
        ax.set_xlim(-1.85, 1.85)
        ax.set_ylim(-1.85, 1.85)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title or label("graph_title", nodes=nodes, edges=len(weights)))
        fig.tight_layout()
    return fig


def _mostpop_line(ax, value: float) -> None:
    ax.axhline(value, color="#C44E52", ls="--", label=label("mostpop"))


@_drawn
def plot_lesson(lesson: Mapping) -> Figure:
    """The kit's measured runs (:meth:`~gcl4sr_helpers.dataset.DatasetInfo.lesson`): the course
    run's test Recall@20 and NDCG@20 against training minutes, and full training's validation
    curves of the model and two ablations, each beside the most-popular baseline."""
    course, full = lesson["course_run"], lesson["full_training"]
    minutes = [p["minutes"] for p in course["points"]]
    with _fonts():
        fig, axes = _pyplot().subplots(1, 3, figsize=(14, 3.8))
        for ax, metric in zip(axes[:2], ("Recall@20", "NDCG@20"), strict=True):
            ax.plot(minutes, [p["test"][metric] for p in course["points"]], marker="o",
                    color="#4C72B0", label=label("course_model"))
            _mostpop_line(ax, course["mostpop"][metric])
            ax.set_xlabel(label("minutes", cpu=course["machine"].split(",")[0]))
            ax.set_title(label("course_title", metric=metric, batch=course["batch_size"]))
            ax.set_xlim(left=0)
            ax.legend(fontsize=8)
        ax = axes[2]
        for name, run in full["runs"].items():
            ax.plot(range(1, len(run["valid"]) + 1), run["valid"], marker=".",
                    label=label(f"run_{name}"))
        _mostpop_line(ax, full["mostpop_valid"])
        ax.set_xlabel(label("epoch"))
        ax.set_title(label("full_title", metric=full["metric"], batch=full["batch_size"]))
        ax.legend(fontsize=8)
        fig.tight_layout()
    return fig


@_drawn
def plot_validation_curve(points: Sequence[Mapping[str, float]],
                          mostpop: Mapping[str, float]) -> Figure:
    """Validation Recall@20 and NDCG@20 of ``points`` (``{"epoch": e, metric: value}``) by
    epoch, beside the most-popular baseline's."""
    epochs = [p["epoch"] for p in points]
    with _fonts():
        fig, axes = _pyplot().subplots(1, 2, figsize=(9, 3.5))
        for ax, metric in zip(axes, ("Recall@20", "NDCG@20"), strict=True):
            ax.plot(epochs, [p[metric] for p in points], marker="o", color="#4C72B0")
            _mostpop_line(ax, mostpop[metric])
            ax.set_xticks(epochs)
            ax.set_xlabel(label("epoch"))
            ax.set_title(label("valid_title", metric=metric))
            ax.legend(fontsize=8)
        fig.tight_layout()
    return fig
