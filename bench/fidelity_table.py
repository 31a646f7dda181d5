"""Print the one-epoch fidelity table (markdown) from bench/results/one_epoch_fidelity.json.

    python -m bench.fidelity_table
"""

import json

from gcl4sr_helpers.names import LOSS_NAMES, METRIC_NAMES

from .fidelity_one_epoch import MODES, OUT

KEYS = (*LOSS_NAMES, *METRIC_NAMES)


def main() -> None:
    data = json.loads(OUT.read_text())
    print("| | " + " | ".join(KEYS) + " |")
    print("|---" * (len(KEYS) + 1) + "|")
    for label, key in (("seed notebook", "seed_notebook"),
                       ("original code, Linux 2-core", "seed_code_linux_2core")):
        print(f"| {label} | " + " | ".join(f"{data[key][k]:.4f}" for k in KEYS) + " |")
    for mode in MODES:
        if mode not in data:
            continue
        runs, summary = data[mode]["runs"], data[mode]["summary"]
        seeds = ", ".join(str(r["seed"]) for r in runs)
        spread = len(runs) > 1  # one seed has no spread to show
        cells = [f"{summary[k]['mean']:.4f}" + (f" ± {summary[k]['std']:.4f}" if spread else "")
                 for k in KEYS]
        print(f"| engine `{mode}` (seeds {seeds}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
