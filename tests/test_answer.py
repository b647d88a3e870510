"""The answer row (metrics/answer.json) from the conclude stage's conclusions: every LR exact, as text; a pick the
seeds can move written as its set."""

import json

import pandas as pd
import pytest

from stages.lib import answer, conclusions as C
from tests.synthetic import CHANCE, TOL, sweep

# 1e-6: no seed learns; 1e-3 and 3e-3 as good as each other, 3e-3 the best; 1e-2 clearly worse, 3e-2 diverges
ACC = {1e-6: [0.11] * 5, 1e-3: [0.979, 0.980, 0.978, 0.981, 0.979], 3e-3: [0.980, 0.981, 0.979, 0.982, 0.980],
       1e-2: [0.95, 0.96, 0.95, 0.96, 0.95], 3e-2: [0.11] * 5}
EPOCHS = {lr: [6] * 5 if lr in (1e-6, 3e-2) else [20, 21, 19, 20, 22] for lr in ACC}


def conclusions_of(acc=ACC, epochs=EPOCHS) -> dict:
    runs, curves = sweep(acc, epochs)
    return json.loads(json.dumps(C.json_safe(C.assemble(runs, curves, TOL, CHANCE, 5, 5000, 10000))))


def test_every_lr_is_written_exactly_as_text():
    c = conclusions_of()
    row = answer.answer_row(c)
    assert list(row) == list(answer.FIELDS)
    assert sorted(row)[0] == "answer"  # the recommended range leads, in the alphabetical order DVC prints keys in
    assert row["answer"] == "0.001 to 0.003" and row["answer_epochs"] == 20  # the range's 10 runs' median
    assert row["answer_valid"] == pytest.approx(0.9799)
    assert row["best_lr"] == "0.003" and row["best_range"] == "0.001 to 0.003"
    assert row["tradeoff_lr"] == answer.SAME_AS_BEST  # no LR saves epochs measurably
    assert row["plateau_none"] == "<=1e-06, >=0.03"  # 1e-06 would be 0.0 at DVC's 5 decimals
    assert all(isinstance(row[key], str) for key in ("answer", "best_lr", "best_range", "tradeoff_lr"))


def test_a_sweep_where_nothing_learned_has_no_range_trade_off_or_learning_span():
    acc = {lr: [0.11] * 2 for lr in (1e-6, 1e-5)}
    row = answer.answer_row(conclusions_of(acc, {lr: [6, 6] for lr in acc}))
    assert row["best_range"] is None and row["tradeoff_lr"] is None and row["answer"] is None
    assert row["plateau_none"] == "at every LR"


def test_the_row_fits_the_terminal_views_keys():
    """No key shares a name with a params.yaml section (DVC would have to tell a metric from a parameter)."""
    assert not set(answer.FIELDS) & {"data", "model", "train", "sweep", "analysis", "lr_find"}
    assert isinstance(pd.Series(answer.answer_row(conclusions_of())).to_json(), str)
