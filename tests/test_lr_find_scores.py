"""The range test's suggestions judged against a hand-made sweep (tests/synthetic.py's typical sweep:
LRs 1e-6 ... 3e-2, 3 seeds, best LR 1e-3, best range 1e-3 to 3e-3, trade-off 3e-3)."""

import math

import pandas as pd
import pytest

from stages.lib import lr_find_scores as S
from tests.synthetic import ACC, EPOCHS, typical_sweep, written


def test_a_suggestion_snaps_to_the_nearest_grid_lr_in_decades():
    grid = [1e-3, 3.162e-3, 1e-2]
    assert S.snap(1.26e-3, grid) == 1e-3  # 0.1 decades from 1e-3, 0.4 from 3.162e-3
    assert S.snap(1.8e-3, grid) == 3.162e-3  # log10: -2.745, nearer -2.5 than -3
    assert S.snap(1e-8, grid) == 1e-3 and S.snap(5.0, grid) == 1e-2


@pytest.fixture(scope="module")
def sweep():
    """(runs, lrs, summary) as the score_lr_find stage reads them: the conclude stage's tables per run and per LR."""
    tables = written(*typical_sweep())
    return tables["judged"], tables["lrs"], tables["summary"]


def suggestions(by_rule: dict) -> pd.DataFrame:
    return pd.DataFrame([{"seed": seed, "rule": rule, "suggested_lr": lr, "stopped_by": "end_lr", "steps": 200,
                          "epochs": 2.0}
                         for rule, lrs in by_rule.items() for seed, lr in enumerate(lrs)])


def test_each_seed_and_rule_is_judged_by_the_same_seeds_run_at_the_snapped_lr(sweep):
    runs, lrs, summary = sweep
    scores = S.score(suggestions({"valley": [1.1e-3, 2.5e-3, 1e-8], "steep": [1e-2, None, 1e-2]}), runs, lrs, summary)
    assert list(scores.columns) == S.SCORE_COLUMNS
    assert scores["rule"].tolist() == ["valley"] * 3 + ["steep"] * 3  # the rules in the stage's order
    valley = scores[scores["rule"] == "valley"].set_index("seed")
    assert valley.loc[0, "grid_lr"] == 1e-3 and valley.loc[1, "grid_lr"] == 3e-3 and valley.loc[2, "grid_lr"] == 1e-6
    assert valley.loc[0, "decades_to_best"] == pytest.approx(math.log10(1.1))
    assert valley.loc[0, "decades_to_tradeoff"] == pytest.approx(math.log10(1.1e-3 / 3e-3))
    assert valley.loc[1, "valid_acc"] == ACC[3e-3][1] and valley.loc[0, "valid_acc"] == ACC[1e-3][0]
    assert valley.loc[[0, 1], "in_best_range"].tolist() == [True, True] and not valley.loc[2, "in_best_range"]
    assert valley.loc[2, "outside_grid"] and not valley.loc[2, "learned"]  # 1e-8: below the grid, at 1e-6
    assert valley.loc[0, "total_epochs"] == 2.0 + EPOCHS[1e-3]
    assert valley.loc[0, "sweep_epochs"] == sum(EPOCHS.values())
    steep = scores[scores["rule"] == "steep"].set_index("seed")
    assert math.isnan(steep.loc[1, "grid_lr"]) and steep.loc[1, "range_test_epochs"] == 2.0  # no suggestion: kept


def test_per_rule_how_often_in_the_best_range_how_far_and_what_accuracy(sweep):
    runs, lrs, summary = sweep
    scores = S.score(suggestions({"valley": [1e-3, 3e-3, 1e-2], "lightning": [None, None, None]}), runs, lrs, summary)
    per_rule = S.rule_summary(scores, summary)
    valley = per_rule["valley"]
    assert valley["suggested"] == 3 and valley["in_best_range"] == 2 and valley["learned"] == 3
    assert valley["suggested_lr_median"] == pytest.approx(3e-3) and valley["spread_decades"] == pytest.approx(1.0)
    assert valley["decades_to_best_median"] == round(math.log10(3), 3)  # to 3 decimals in the summary
    accs = [ACC[1e-3][0], ACC[3e-3][1], ACC[1e-2][2]]
    assert valley["valid_acc_mean"] == pytest.approx(sum(accs) / 3, abs=1e-6)
    assert valley["gap_to_best_mean"] == pytest.approx(summary["best"]["valid_mean"] - sum(accs) / 3, abs=1e-6)
    assert valley["valid_acc_min"] == pytest.approx(min(accs))
    assert per_rule["lightning"]["suggested"] == 0 and per_rule["lightning"]["suggested_lr_median"] is None
