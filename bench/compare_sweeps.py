"""Compare two sweeps, e.g. fp32 against bf16: python -m bench.compare_sweeps A.csv B.csv [PLOT.png]

A and B: tables with one row per run, as metrics/runs.csv (a table without a `seed` column, such as the
single-seed sweeps, metrics/single_seed_sweep.csv and bench/results/sweep_bf16.csv, counts as one seed). Prints, per learning rate, both sweeps' mean
validation and test accuracies, median epochs and training times, then the largest differences and each
sweep's conclusions (best LR, trade-off LR, learning edge); with PLOT.png, also draws both accuracy curves.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from stages.lib import earlier_answer, params as P


def load(path: str) -> pd.DataFrame:
    table = pd.read_csv(path)
    return table if "seed" in table else table.assign(seed=0)


def per_lr(runs: pd.DataFrame) -> pd.DataFrame:
    return runs.groupby("lr", as_index=False).agg(
        best_valid_acc=("best_valid_acc", "mean"), test_acc=("test_acc", "mean"), epochs=("epochs", "median"),
        train_time_s=("train_time_s", "median"))


def conclusions(runs: pd.DataFrame, params: dict) -> dict:
    """The sweep's picks by the rules one run per LR allows (stages/lib/earlier_answer.py), on its mean accuracy and
    median epochs per LR: a quick side-by-side of two sweeps, not the study's conclusions (no interval, no test)."""
    return earlier_answer.single_seed_answer(per_lr(runs), P.fraction(params, "analysis.tolerance"),
                                             P.fraction(params, "analysis.chance_level"))


def plot(a: pd.DataFrame, b: pd.DataFrame, names: tuple[str, str], path: str) -> None:
    fig, ax = plt.subplots(figsize=(8, 5))
    for table, name, style in ((a, names[0], "o-"), (b, names[1], "s--")):
        ax.plot(table["lr"], table["best_valid_acc"], style, ms=4, label=f"{name}: validation")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("best validation accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(f"Accuracy by learning rate: {names[0]} against {names[1]}")
    ax.legend(loc="center left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.splitlines()[0])
    runs_a, runs_b = (load(path) for path in sys.argv[1:3])
    a, b = per_lr(runs_a), per_lr(runs_b)
    if len(sys.argv) == 4:
        plot(a, b, (sys.argv[1], sys.argv[2]), sys.argv[3])
    merged = a.merge(b, on="lr", suffixes=("_a", "_b"))
    print("| LR | valid A | valid B | test A | test B | epochs A | epochs B | time A (s) | time B (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in merged.itertuples():
        print(f"| {r.lr:g} | {r.best_valid_acc_a:.4f} | {r.best_valid_acc_b:.4f} | {r.test_acc_a:.4f} | "
              f"{r.test_acc_b:.4f} | {r.epochs_a:g} | {r.epochs_b:g} | {r.train_time_s_a:.1f} | {r.train_time_s_b:.1f} |")
    diff = (merged["best_valid_acc_b"] - merged["best_valid_acc_a"]).abs()
    print(f"\nlargest validation-accuracy difference: {diff.max():.4f} at LR {merged['lr'][diff.idxmax()]:g}; "
          f"median {diff.median():.4f}")
    print(f"total training time: A {runs_a['train_time_s'].sum():.0f} s, B {runs_b['train_time_s'].sum():.0f} s; "
          f"epochs: A {runs_a['epochs'].sum()}, B {runs_b['epochs'].sum()}")
    params = P.load_params()
    for name, runs in (("A", runs_a), ("B", runs_b)):
        s = conclusions(runs, params)
        if s["best_range"] is None:
            print(f"{name}: no LR learned")
            continue
        print(f"{name}: best LR {s['best']['lr']:g} ({s['best']['valid_mean']:.4f}), range "
              f"{s['best_range']['low_lr']:g}-{s['best_range']['high_lr']:g}, trade-off LR {s['tradeoff']['lr']:g}, "
              f"every seed learns from {s['learning']['all_from']}, none up to "
              f"{s['learning']['none_up_to']}")


if __name__ == "__main__":
    main()
