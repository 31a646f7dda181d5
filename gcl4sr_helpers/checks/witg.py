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
from .report import _no_dataset_reference, _Report, dataset_constants

if TYPE_CHECKING:
    from torch_geometric.data import Data

#: The worked example of the notebook (also what ``write_witg_example`` writes); the third
#: sequence repeats item 5 at distance 1, a self-loop.
WITG_EXAMPLE = ([1, 2, 3, 4], [3, 2, 5], [5, 5, 6])

WITG_HINTS = {
    "one_direction": "엣지를 한 방향으로만 더한 것 같아요. WITG는 무방향 그래프입니다: "
                     "w(a, b)에 더할 때 w(b, a)에도 같은 값을 더하세요.",
    "weight_one": "거리와 상관없이 가중치 1을 더한 것 같아요. 거리 k인 쌍에는 1/k를 더합니다.",
    "weight_k": "가중치를 k로 더한 것 같아요. 가까울수록 커야 하므로 1/k입니다.",
    "windows_1_2": "거리 k = 3인 쌍이 빠진 것 같아요 (k = 1, 2만 사용). 거리는 1, 2, 3입니다.",
    "windows_1_4": "거리 k = 4인 쌍까지 더한 것 같아요. 거리는 1, 2, 3까지입니다.",
    "last_pair_missed": "거리마다 각 시퀀스의 마지막 쌍을 빠뜨린 것 같아요 (off-by-one). 시퀀스의 "
                        "마지막 아이템도 쌍의 뒤쪽 s[t + k]가 되는지 확인하세요.",
    "overwrite": "같은 쌍이 다시 나올 때 가중치를 누적하지 않고 덮어쓴 것 같아요. 이미 쌓인 "
                 "가중치에 1/k를 더해야 합니다.",
}

NODES_HINT = ("노드는 0..최대 아이템 ID입니다: read_item_sequences가 돌려준 num_nodes를 "
              "그대로 쓰세요.")


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
    return report.item(ok, "형식 (PyG Data: edge_index [2, E] long, edge_attr [E, 1] float)",
                       detail, "convert_to_pyg_data(adjacency_list, num_nodes)의 결과를 그대로 "
                       "반환하세요.")


def _train_num_nodes(data: SequenceData) -> int:
    """``num_nodes`` of ``data``'s train sequences (``seq[:-2]``): max item id + 1."""
    return max(max(seq[:-2]) for seq in data.sequences) + 1


def _witg_structure(report: _Report, graph: Data) -> None:
    """The items every correct WITG passes, whatever the data: padding, weights, symmetry."""
    src, dst = graph.edge_index.cpu().numpy()
    weight = graph.edge_attr.detach().cpu().double().reshape(-1).numpy()
    report.item(not ((src == 0) | (dst == 0)).any(), "패딩 노드 0은 고립",
                hint="아이템 0은 패딩입니다: 시퀀스의 아이템만 연결하세요.")
    off = float(np.abs(weight * 6.0 - np.rint(weight * 6.0)).max()) if weight.size else 0.0
    report.item(off < 1e-3, "가중치는 1/6의 배수 (1, 1/2, 1/3의 합)",
                hint="거리 k(1, 2, 3)인 쌍에 1/k를 더하세요.")
    sixths = _sixths(weight)
    forward = np.stack([src, dst, sixths], 1)[np.lexsort((dst, src))]
    backward = np.stack([dst, src, sixths], 1)[np.lexsort((src, dst))]
    symmetric = bool(np.array_equal(forward, backward))
    report.item(symmetric, "대칭 (w(a, b) = w(b, a))", hint=WITG_HINTS["one_direction"])


def check_witg(graph: Data, mode: str | None = None, quiet: bool = False,
               data: SequenceData | None = None) -> bool:
    """Compare a WITG with the stored answer graph of ``mode`` (``full`` or ``quick``) of
    ``data``'s dataset (Home without ``data``).

    Without ``mode`` the stored graph with the same node count is used. Where the dataset has
    no stored graphs, only the data-independent items run, and the node count is compared
    with ``data``'s train sequences.
    """
    constants = dataset_constants(data)
    report = _Report("WITG 점검", quiet)
    if not _witg_format(report, graph):
        return report.done()
    nodes = int(graph.num_nodes)
    if constants is None:
        want = _train_num_nodes(data)
        report.item(nodes == want, "노드 수", f"{nodes:,} (기대 {want:,})", NODES_HINT)
        _witg_structure(report, graph)
        summary = graph_summary(graph)
        return _no_dataset_reference(report, data, {
            "엣지 수 (방향 포함)": f"{summary['edges']:,}",
            "가중치 합": f"{summary['total_sixths'] / 6.0:,.3f}",
            "지문": summary["fingerprint"]})
    stored = constants["witg"]
    if mode is None:
        mode = next((name for name, ref in stored.items() if ref["nodes"] == nodes), "full")
    ref = stored[mode]
    report.info(f"기준: {mode} 데이터의 정답 그래프 ({ref['nodes']:,} 노드, {ref['edges']:,} 엣지)")
    report.item(nodes == ref["nodes"], "노드 수", f"{nodes:,} (기대 {ref['nodes']:,})", NODES_HINT)
    _witg_structure(report, graph)
    summary = graph_summary(graph)
    got = (summary["edges"], summary["total_sixths"])
    matches = [name for name, wrong in ref["mistakes"].items()
               if (wrong["edges"], wrong["total_sixths"]) == got and name in WITG_HINTS]
    mistake_hint = "\n".join(WITG_HINTS[name] for name in matches)
    report.item(summary["edges"] == ref["edges"], "엣지 수 (방향 포함)",
                f"{summary['edges']:,} (기대 {ref['edges']:,})",
                mistake_hint or "거리 k(1, 2, 3)와 위치 t의 범위(t + k < len(s))를 확인하세요.")
    total, want = summary["total_sixths"] / 6.0, ref["total_sixths"] / 6.0
    report.item(summary["total_sixths"] == ref["total_sixths"], "가중치 합",
                f"{total:,.3f} (기대 {want:,.3f})",
                mistake_hint or "거리 k인 쌍의 가중치 1/k와, 같은 쌍이 다시 나올 때 가중치가 "
                "쌓이는지 확인하세요.")
    counts_match = got == (ref["edges"], ref["total_sixths"])  # the premise of the hint below
    report.item(summary["fingerprint"] == ref["fingerprint"], "정답 그래프와 동일 (지문 비교)",
                summary["fingerprint"],
                "개수는 맞지만 어떤 엣지의 가중치가 다릅니다: 어떤 쌍에 어떤 값을 더하는지 "
                "작은 예제로 다시 확인하세요." if counts_match else "")
    return report.done()
