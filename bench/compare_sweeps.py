"""Compare two sweeps, e.g. fp32 against bf16: python -m bench.compare_sweeps A.csv B.csv [PLOT.png]

Prints, per learning rate, both validation and test accuracies, epochs and training times, then the largest
differences and each sweep's conclusions (best LR, trade-off LR, no-learning threshold); with PLOT.png, also
draws both accuracy curves against the learning rate.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from stages.lib import analysis, params as P


def conclusions(table: pd.DataFrame, params: dict) -> dict:
    return analysis.summarize(table, P.fraction(params, "analysis.tolerance"),
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
    a, b = (pd.read_csv(path) for path in sys.argv[1:3])
    if len(sys.argv) == 4:
        plot(a, b, (sys.argv[1], sys.argv[2]), sys.argv[3])
    merged = a.merge(b, on="lr", suffixes=("_a", "_b"))
    print("| LR | valid A | valid B | test A | test B | epochs A | epochs B | time A (s) | time B (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in merged.itertuples():
        print(f"| {r.lr:g} | {r.best_valid_acc_a:.4f} | {r.best_valid_acc_b:.4f} | {r.test_acc_a:.4f} | "
              f"{r.test_acc_b:.4f} | {r.epochs_a} | {r.epochs_b} | {r.train_time_s_a:.1f} | {r.train_time_s_b:.1f} |")
    diff = (merged["best_valid_acc_b"] - merged["best_valid_acc_a"]).abs()
    print(f"\nlargest validation-accuracy difference: {diff.max():.4f} at LR {merged['lr'][diff.idxmax()]:g}; "
          f"median {diff.median():.4f}")
    print(f"total training time: A {merged['train_time_s_a'].sum():.0f} s, B {merged['train_time_s_b'].sum():.0f} s; "
          f"epochs: A {merged['epochs_a'].sum()}, B {merged['epochs_b'].sum()}")
    params = P.load_params()
    for name, table in (("A", a), ("B", b)):
        s = conclusions(table, params)
        print(f"{name}: best LR {s['best_lr']:g} ({s['best_valid_acc']:.4f}), range {s['best_range']['low_lr']:g}-"
              f"{s['best_range']['high_lr']:g}, trade-off LR {s['tradeoff_lr']:g}, no learning below "
              f"{s['no_learning_below']}")


if __name__ == "__main__":
    main()
