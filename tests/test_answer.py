"""The answer row (metrics/answer.json) from the aggregate's summary: every LR exact, as text."""

import json

from stages.lib import answer
from tests.test_analysis import analyze, curve, run, typical_sweep


def test_every_lr_is_written_exactly_as_text():
    runs, curves = typical_sweep()
    _, _, summary = analyze(runs, curves)
    row = answer.answer_row(json.loads(json.dumps(summary)))
    assert list(row) == list(answer.FIELDS)
    assert row["best_lr"] == "0.001" and row["tradeoff_lr"] == "0.003"
    assert row["best_range"] == f"{summary['best_range']['low_lr']!r} to {summary['best_range']['high_lr']!r}"
    learning = summary["learning"]
    assert row["all_seeds_learn"] == f"{learning['all_from']!r} to {learning['all_up_to']!r}"
    assert row["no_seed_learns"].startswith("<=1e-06")  # 1e-06 would be 0.0 at DVC's 5 decimals
    assert all(isinstance(row[key], str) for key in ("best_lr", "best_range", "tradeoff_lr", "target_lr"))


def test_a_sweep_where_nothing_learned_has_no_range_trade_off_or_learning_span():
    runs = [run(lr, seed, 0.11, epochs=6) for lr in (1e-6, 1e-5) for seed in range(2)]
    curves = [curve(lr, seed, [0.1, 0.11, 0.1, 0.1, 0.1, 0.11]) for lr in (1e-6, 1e-5) for seed in range(2)]
    _, _, summary = analyze(runs, curves)
    row = answer.answer_row(json.loads(json.dumps(summary)))
    assert row["best_range"] is None and row["tradeoff_lr"] is None and row["target_lr"] is None
    assert row["all_seeds_learn"] is None and row["no_seed_learns"] == "at every LR"
