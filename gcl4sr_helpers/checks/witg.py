"""The WITG check (TODO 1), by counts and an exact fingerprint, never by an answer file.

``fingerprint = SHA-256(sorted (src, dst, round(6 · w)) triples)[:16]``: every weight is a sum
of 1, 1/2 and 1/3, so a multiple of 1/6, and the triples identify the graph exactly.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from ..data import SequenceData
from ..i18n import Messages, text
from .report import _no_dataset_reference, _Report, dataset_constants

if TYPE_CHECKING:
    from torch_geometric.data import Data

#: The worked example of the notebook (also what ``write_witg_example`` writes); the third
#: sequence repeats item 5 at distance 1, a self-loop.
WITG_EXAMPLE = ([1, 2, 3, 4], [3, 2, 5], [5, 5, 6])

WITG_HINTS = Messages("check.witg.hint.")


def _sixths(weights: np.ndarray) -> np.ndarray:
    return np.rint(weights.astype(np.float64) * 6.0).astype(np.int64)


def graph_fingerprint(edge_index: Tensor | np.ndarray, edge_attr: Tensor | np.ndarray) -> str:
    """SHA-256 (16 hex digits) of the sorted ``(src, dst, round(6 * w))`` triples."""
    src, dst = (np.asarray(torch.as_tensor(edge_index).cpu(), dtype=np.int64))
    weight = np.asarray(torch.as_tensor(edge_attr).detach().cpu().double()).reshape(-1)
    order = np.lexsort((dst, src))
    triples = np.stack([src[order], dst[order], _sixths(weight[order])], axis=1)
    return hashlib.sha256(triples.astype("<i8").tobytes()).hexdigest()[:16]


def graph_summary(graph: Data) -> dict:
    """Counts that identify a WITG: nodes, directed edges, total weight in sixths, fingerprint."""
    weight = graph.edge_attr.detach().cpu().double().reshape(-1).numpy()
    return {"nodes": int(graph.num_nodes), "edges": int(graph.edge_index.shape[1]),
            "total_sixths": int(_sixths(weight).sum()),
            "fingerprint": graph_fingerprint(graph.edge_index, graph.edge_attr)}


def write_witg_example(path: str | Path) -> Path:
    """Write the notebook's worked example as a ``user item1,item2,...`` file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{u} {','.join(map(str, s))}\n" for u, s in enumerate(WITG_EXAMPLE)),
                    encoding="utf-8")
    return path


def graph_as_dict(graph: Data) -> dict[tuple[int, int], float]:
    """``{(src, dst): weight}`` of a small graph, for printing examples."""
    src, dst = graph.edge_index.tolist()
    return {(s, d): round(float(w), 4)
            for s, d, w in zip(src, dst, graph.edge_attr.view(-1).tolist(), strict=True)}


def _witg_format(report: _Report, graph) -> bool:
    edge_index, edge_attr = getattr(graph, "edge_index", None), getattr(graph, "edge_attr", None)
    ok = (isinstance(edge_index, Tensor) and edge_index.dim() == 2 and edge_index.shape[0] == 2
          and edge_index.dtype == torch.long and isinstance(edge_attr, Tensor)
          and edge_attr.shape[0] == edge_index.shape[1] and edge_attr.is_floating_point())
    detail = (f"edge_index {tuple(edge_index.shape)}, edge_attr {tuple(edge_attr.shape)}"
              if ok else f"{type(graph).__name__}")
    return report.item(ok, text("check.witg.format"), detail, text("check.witg.format.hint"))


def _train_num_nodes(data: SequenceData) -> int:
    """``num_nodes`` of ``data``'s train sequences (``seq[:-2]``): max item id + 1."""
    return max(max(seq[:-2]) for seq in data.sequences) + 1


def _witg_structure(report: _Report, graph: Data) -> None:
    """The items every correct WITG passes, whatever the data: padding, weights, symmetry."""
    src, dst = graph.edge_index.cpu().numpy()
    weight = graph.edge_attr.detach().cpu().double().reshape(-1).numpy()
    report.item(not ((src == 0) | (dst == 0)).any(), text("check.witg.padding"),
                hint=text("check.witg.padding.hint"))
    off = float(np.abs(weight * 6.0 - np.rint(weight * 6.0)).max()) if weight.size else 0.0
    report.item(off < 1e-3, text("check.witg.sixths"), hint=text("check.witg.sixths.hint"))
    sixths = _sixths(weight)
    forward = np.stack([src, dst, sixths], 1)[np.lexsort((dst, src))]
    backward = np.stack([dst, src, sixths], 1)[np.lexsort((src, dst))]
    symmetric = bool(np.array_equal(forward, backward))
    report.item(symmetric, text("check.witg.symmetric"), hint=WITG_HINTS["one_direction"])


def check_witg(graph: Data, mode: str | None = None, quiet: bool = False,
               data: SequenceData | None = None) -> bool:
    """Compare a WITG with the stored answer graph of ``mode`` (``full`` or ``quick``) of
    ``data``'s dataset (Home without ``data``).

    Without ``mode`` the stored graph with the same node count is used. Where the dataset has
    no stored graphs, only the data-independent items run, and the node count is compared
    with ``data``'s train sequences.
    """
    constants = dataset_constants(data)
    report = _Report(text("check.witg.title"), quiet)
    if not _witg_format(report, graph):
        return report.done()
    nodes = int(graph.num_nodes)
    if constants is None:
        want = _train_num_nodes(data)
        report.item(nodes == want, text("check.witg.nodes"),
                    text("check.expected", got=f"{nodes:,}", want=f"{want:,}"),
                    text("check.witg.nodes.hint"))
        _witg_structure(report, graph)
        summary = graph_summary(graph)
        return _no_dataset_reference(report, data, {
            text("check.witg.edges"): f"{summary['edges']:,}",
            text("check.witg.total"): f"{summary['total_sixths'] / 6.0:,.3f}",
            text("check.witg.fingerprint"): summary["fingerprint"]})
    stored = constants["witg"]
    if mode is None:
        mode = next((name for name, ref in stored.items() if ref["nodes"] == nodes), "full")
    ref = stored[mode]
    report.info(text("check.witg.reference", mode=mode, nodes=ref["nodes"], edges=ref["edges"]))
    report.item(nodes == ref["nodes"], text("check.witg.nodes"),
                text("check.expected", got=f"{nodes:,}", want=f"{ref['nodes']:,}"),
                text("check.witg.nodes.hint"))
    _witg_structure(report, graph)
    summary = graph_summary(graph)
    got = (summary["edges"], summary["total_sixths"])
    matches = [name for name, wrong in ref["mistakes"].items()
               if (wrong["edges"], wrong["total_sixths"]) == got and name in WITG_HINTS]
    mistake_hint = "\n".join(WITG_HINTS[name] for name in matches)
    report.item(summary["edges"] == ref["edges"], text("check.witg.edges"),
                text("check.expected", got=f"{summary['edges']:,}", want=f"{ref['edges']:,}"),
                mistake_hint or text("check.witg.edges.hint"))
    total, want = summary["total_sixths"] / 6.0, ref["total_sixths"] / 6.0
    report.item(summary["total_sixths"] == ref["total_sixths"], text("check.witg.total"),
                text("check.expected", got=f"{total:,.3f}", want=f"{want:,.3f}"),
                mistake_hint or text("check.witg.total.hint"))
    counts_match = got == (ref["edges"], ref["total_sixths"])  # the premise of the hint below
    report.item(summary["fingerprint"] == ref["fingerprint"], text("check.witg.same"),
                summary["fingerprint"], text("check.witg.same.hint") if counts_match else "")
    return report.done()
