"""The names of what a run reports: the model's losses and the evaluation's metrics. A module
of their own so that readers of results (the checks, the grader's report) need no torch."""

LOSS_NAMES = ("main", "gcl", "mmd")  # the model's three losses, in the order it returns them
EVAL_KS = (10, 20)  # the cut-offs of the evaluation
METRIC_NAMES = (*(f"Recall@{k}" for k in EVAL_KS), *(f"NDCG@{k}" for k in EVAL_KS))
