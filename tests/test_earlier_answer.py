"""The study's answer against the earlier single-seed sweep's: that sweep judged by the study's rules, and which
conclusions held or moved, on hand-made sweeps and on the committed single-seed sweep."""

import pandas as pd

from stages import report
from stages.lib import earlier_answer
from stages.lib.experiment_paths import SINGLE_SEED_SWEEP_CSV
from tests.committed import REPO_ROOT
from tests.synthetic import CHANCE, analyze, run, typical_sweep


def single_seed_sweep(seed: int, changed: dict | None = None) -> pd.DataFrame:
    """One run per LR, taken from the typical 3-seed sweep's seed `seed`; changed: {lr: other accuracy}."""
    runs, _ = typical_sweep()
    one = [r | {"best_valid_acc": (changed or {}).get(r["lr"], r["best_valid_acc"])} for r in runs if r["seed"] == seed]
    return pd.DataFrame(one).drop(columns="seed")


def test_the_committed_single_seed_sweep_by_the_studys_rules():
    sweep = pd.read_csv(REPO_ROOT / SINGLE_SEED_SWEEP_CSV)
    assert len(sweep) == 46
    answer = earlier_answer.single_seed_answer(sweep, tolerance=0.005, chance_level=CHANCE)
    assert answer["best"]["lr"] == 0.002512 and answer["best"]["valid_mean"] == 0.9804
    assert (answer["best_range"]["low_lr"], answer["best_range"]["high_lr"]) == (0.0001585, 0.003981)
    # fewest epochs in the range: 17 at 0.003162 (0.00631 took 17 too, but lies outside the contiguous range)
    assert answer["tradeoff"]["lr"] == 0.003162 and answer["tradeoff"]["epochs_median"] == 17
    learning = answer["learning"]
    assert (learning["none_up_to"], learning["all_from"], learning["partial"]) == (6.31e-06, 7.943e-06, [])
    assert (learning["all_up_to"], learning["none_from"], learning["partial_high"]) == (0.01, 0.01259, [])
    assert answer["time_to_target"]["lr"] is None  # no learning curves were kept


def test_a_single_seed_that_agrees_except_at_the_learning_edge():
    _, _, study = analyze(*typical_sweep())
    # seed 2 learned at 1e-5 (0.90), where the study has a band: seeds 0 and 1 did not (0.11, 0.50)
    single = earlier_answer.single_seed_answer(single_seed_sweep(2), 0.005, CHANCE)
    rows = {r["conclusion"]: r for r in earlier_answer.compare(study, single, [study["best"]["lr"]])}
    assert rows["best LR"] == {"conclusion": "best LR", "single": "0.001", "study": "0.001", "held": True,
                               "how": "one of the LRs the study's seeds choose the best from"}
    assert rows["best range"]["held"] and rows["best range"]["how"] == "the same LRs"
    assert rows["trade-off LR"]["held"] and rows["trade-off LR"]["single"] == "0.003"
    low = rows["no learning at and below"]
    assert not low["held"] and low["how"] == "with more seeds, a band of LRs where only some seeds learn"
    assert low["single"] == "none at 1e-06, all at 1e-05"
    assert low["study"] == "none at 1e-06, some seeds at 1e-05 (2/3), all at 0.0001"
    high = rows["no learning at and above"]
    assert high["held"] and high["study"] == "all at 0.01, none at 0.03"


def test_a_single_seed_whose_lucky_run_widens_the_range_and_moves_the_tradeoff():
    _, _, study = analyze(*typical_sweep())
    # seed 0's run at 0.01 reached 0.978 instead of 0.970: within 0.005 of its best, and the fewest epochs (15)
    single = earlier_answer.single_seed_answer(single_seed_sweep(0, {1e-2: 0.978}), 0.005, CHANCE)
    rows = {r["conclusion"]: r for r in earlier_answer.compare(study, single, [study["best"]["lr"]])}
    assert rows["best LR"]["held"]
    assert not rows["best range"]["held"] and rows["best range"]["how"] == "upper end 0.01 → 0.003"
    assert rows["best range"]["single"] == "0.001 to 0.01 (3 LRs)"
    trade = rows["trade-off LR"]
    assert (trade["single"], trade["study"], trade["held"]) == ("0.01", "0.003", False)
    assert trade["how"] == "the single seed's pick is outside the study's best range"

    rows = earlier_answer.compare(study, single, [study["best"]["lr"]])

    def section(rows: list[dict], same_grid: bool) -> str:  # as the conclude stage passes the comparison on
        single = {"file": "metrics/single_seed_sweep.csv", "lrs": 46, "same_grid": same_grid, "rows": rows,
                  "held": [r["conclusion"] for r in rows if r["held"]],
                  "moved": [r["conclusion"] for r in rows if not r["held"]]}
        return "\n".join(report.against_single_seed(single, study["sweep"]["seeds"]))

    text = section(rows, same_grid=True)
    assert "| trade-off LR | 0.01 | 0.003 | **moved**: the single seed's pick is outside the study's best range |" in text
    assert "| this study (3 seeds per LR) |" in text and "are not the single-seed sweep's 46" not in text
    assert "are not the single-seed sweep's 46" in section([], same_grid=False)
    assert text.endswith("Held: best LR, no learning at and above. Moved: best range, trade-off LR, "
                         "no learning at and below.")


def test_a_study_where_nothing_learned_keeps_nothing_of_the_single_seeds_answer():
    _, _, study = analyze([run(lr, seed, 0.11) for lr in (1e-3, 3e-3) for seed in range(2)])
    single = earlier_answer.single_seed_answer(single_seed_sweep(0), 0.005, CHANCE)
    rows = {r["conclusion"]: r for r in earlier_answer.compare(study, single, [study["best"]["lr"]])}
    assert not rows["best LR"]["held"] and not rows["best range"]["held"]
    assert (rows["trade-off LR"]["study"], rows["trade-off LR"]["held"]) == ("none", False)
    assert rows["best range"]["study"] == "none"
