"""Run a function on the cases of a check and keep its outputs as plain numbers and tensors.

One code path for both sides: the trusted check server runs it with the reference (the
expected outputs), the sandbox child with the student's function (:mod:`.sandbox`). Nothing
here knows an expected value. A case's failure is recorded as its error's text, never raised.
"""

from __future__ import annotations

import copy
import signal
from collections.abc import Callable

import torch

from gcl4sr_helpers.data import MAX_LEN as SEQ_LEN

MAX_ERROR = 160  # characters of a student's exception message kept in a reason


class CaseTimeout(BaseException):
    """Raised by the per-case alarm inside the child (a BaseException, like a Ctrl-C)."""


def describe(error: BaseException) -> str:
    """``Type: message`` on one line, truncated (the message is student-controlled)."""
    if isinstance(error, CaseTimeout):
        return f"timed out ({error})"
    message = " ".join(str(error).split())
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 3] + "..."


# --------------------------------------------------------------------------- callers
def _call_witg(fn: Callable, case: dict) -> dict:
    from torch_geometric.data import Data

    graph = fn(case["path"])
    is_data = isinstance(graph, Data)
    edge_index = torch.as_tensor(graph.edge_index).detach().cpu().long()
    edge_attr = torch.as_tensor(graph.edge_attr).detach().cpu().double().reshape(-1)
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index has shape {list(edge_index.shape)}, not [2, E]")
    return {"num_nodes": int(graph.num_nodes), "edge_index": edge_index.clone(),
            "edge_attr": edge_attr.clone(), "is_data": is_data}


def _call_metric(fn: Callable, case: dict) -> dict:
    value = fn(copy.deepcopy(case["actual"]), copy.deepcopy(case["predicted"]), case["k"])
    return {"value": float(value)}


def _scalar(value) -> float:
    flat = torch.as_tensor(value).detach().reshape(-1)
    if flat.numel() != 1:
        raise ValueError(f"returned {flat.numel()} values, not a scalar")
    return float(flat[0])


def _call_mmd(fn: Callable, case: dict) -> dict:
    if "model" in case:
        return model_mmd(fn, case["model"])
    out = fn(case["source"].clone(), case["target"].clone(), **case.get("kwargs", {}))
    return {"value": _scalar(out), "tensor0": isinstance(out, torch.Tensor) and out.dim() == 0}


def model_mmd(fn: Callable, spec: dict) -> dict:
    """One training-mode forward and backward of a small GCL4SR using ``fn`` as its MMD."""
    from torch_geometric.data import Data

    from gcl4sr_helpers.model import GCL4SR

    torch.manual_seed(spec["seed"])
    graph = Data(x=torch.arange(spec["num_nodes"]).view(-1, 1),
                 edge_index=spec["edge_index"].clone(),
                 edge_attr=spec["edge_attr"].clone().view(-1, 1))
    model = GCL4SR(spec["num_users"], spec["num_nodes"], graph, fn,
                   hidden_size=spec["hidden_size"], max_seq_length=SEQ_LEN)
    model.train()
    torch.manual_seed(spec["seed"] + 1)
    generator = torch.Generator().manual_seed(spec["seed"] + 2)
    loss, _, _, mmd = model.calculate_loss(spec["user_ids"].clone(), spec["inputs"].clone(),
                                           spec["targets"].clone(), generator)
    loss.backward()
    grad = model.w_g.weight.grad
    return {"value": _scalar(mmd), "loss": _scalar(loss),
            "grad": float(grad.norm()) if grad is not None else 0.0}


CALLERS: dict[str, Callable[[Callable, dict], dict]] = {
    "witg": _call_witg, "recall": _call_metric, "ndcg": _call_metric, "mmd": _call_mmd}


def run_cases(check: str, fn: Callable, inputs: dict, case_wall: float | None = None,
              on_result: Callable[[dict], None] | None = None) -> dict[str, dict]:
    """``{case name: {"ok": True, ...outputs} | {"ok": False, "error": str}}``.

    Every case runs even if an earlier one failed; ``case_wall`` arms an alarm per case.
    """
    outputs: dict[str, dict] = {}
    caller = CALLERS[check]

    def on_alarm(signum, frame):
        raise CaseTimeout(f"no result within {case_wall:g} s")

    if case_wall:
        signal.signal(signal.SIGALRM, on_alarm)
    timed_out = False
    for case in inputs["cases"]:
        if timed_out:  # one endless loop is enough: do not wait again for every case
            outputs[case["name"]] = {"ok": False, "error": "skipped after a time-out"}
            if on_result:
                on_result(outputs)
            continue
        try:
            if case_wall:
                signal.setitimer(signal.ITIMER_REAL, case_wall)
            outputs[case["name"]] = {"ok": True, **caller(fn, case)}
        except BaseException as error:  # noqa: BLE001 - every failure is a reason, not a crash
            outputs[case["name"]] = {"ok": False, "error": describe(error)}
            timed_out = isinstance(error, CaseTimeout)
        finally:
            if case_wall:
                signal.setitimer(signal.ITIMER_REAL, 0)
        if on_result:
            on_result(outputs)
    return outputs
