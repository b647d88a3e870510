"""The sequential study's planner (stages/lib/adaptive.py) and the conclude rules on a ragged design, on synthetic
sweeps whose answer is known; and the replay on them (tools/adaptive.py's arithmetic)."""

import math

import numpy as np
import pytest

from stages.lib import adaptive as A, conclusions as C
from tests.synthetic import CHANCE, TOL, sweep

SEEDS = 5
# 12 LRs: a plateau (0-1), a band where seeds split (2), slow LRs far below the best (3-6), a near-best region
# (7-10; the best at 9) and one LR above it where every run fails (11). Seed noise: a fixed pattern per seed.
LRS = [1e-6 * 10 ** (k / 2) for k in range(12)]
NOISE = [0.0, 0.002, -0.002, 0.001, -0.001]
MEANS = {0: 0.11, 1: 0.11, 3: 0.90, 4: 0.92, 5: 0.94, 6: 0.95, 7: 0.976, 8: 0.978, 9: 0.980, 10: 0.979, 11: 0.11}
EPOCHS = {0: 6, 1: 6, 2: 6, 3: 300, 4: 200, 5: 120, 6: 80, 7: 30, 8: 25, 9: 20, 10: 18, 11: 6}


def full_study():
    acc, epochs = {}, {}
    for k, lr in enumerate(LRS):
        if k == 2:  # seeds 1 and 3 leave the plateau (long runs), the others do not
            acc[lr] = [0.11, 0.88, 0.11, 0.88, 0.11]
            epochs[lr] = [6, 300, 6, 300, 6]
            continue
        plateau = MEANS[k] < CHANCE
        acc[lr] = [MEANS[k] + (0 if plateau else NOISE[(s + k) % SEEDS]) for s in range(SEEDS)]
        epochs[lr] = [EPOCHS[k] + (0 if plateau else s) for s in range(SEEDS)]
    runs, curves = sweep(acc, epochs)
    return C.as_matrices(runs, curves, CHANCE, C.target_accuracy(runs, TOL))


DESIGN = A.Design(max_seeds=SEEDS, first_seeds=1, edge_seeds=3, window=2)


def test_a_ragged_design_compares_two_lrs_on_the_seeds_both_ran():
    full = full_study()
    ragged = A.seeds_at(full, np.array([1] * 7 + [5] * 5), [0, 1, 2, 3, 4])
    assert ragged.ran[:, :7].sum() == 7 and ragged.ran[:, 7:].all() and not ragged.complete
    assert np.isnan(ragged.valid[1:, 3]).all()  # the seeds not run are missing, not zeros
    picks = C.decide(ragged, TOL)
    assert picks["best"] == pytest.approx(LRS[9])
    # the LRs near the best ran every seed: their range is the full study's
    assert (picks["range_low"], picks["range_high"]) == (C.decide(full, TOL)["range_low"], C.decide(full, TOL)["range_high"])
    # an LR with one seed in common with the best is never shown as good: one pair gives no interval
    assert not C.equivalent_flags(ragged, 9, TOL)[6]
    # the learning edges count the seeds that ran: the band's one seed (seed 0) stayed on the plateau
    assert picks["none_up_to"] == pytest.approx(LRS[2]) and picks["all_from"] == pytest.approx(LRS[3])


def test_a_complete_design_is_decided_as_before():
    full = full_study()
    assert full.complete
    same = A.seeds_at(full, np.full(len(LRS), SEEDS), [4, 3, 2, 1, 0])
    assert C.decide(same, TOL) == C.decide(full, TOL)


def test_round_one_closes_far_lrs_as_worse_and_keeps_the_near_ones_open():
    full = full_study()
    one = A.seeds_at(full, np.ones(len(LRS), int), [0, 1, 2, 3, 4])
    found = {k: s for k, s in enumerate(A.statuses(one, DESIGN, TOL))}
    assert [found[k].reason for k in (4, 5)] == ["worse", "worse"]  # gaps of 4 to 6 points, one seed each
    assert all(found[k].open for k in (7, 8, 9, 10))  # within a point of the best: not shown worse
    assert {found[k].reason for k in (7, 8, 9, 10)} <= {"as good", "best", "edge"}  # 10 is next to failing runs
    assert found[0].reason == "plateau" and not found[0].open  # on the plateau, away from any change
    # the band's first seed stayed on the plateau: the change is between it and the slow LRs, so it is open
    assert found[2].reason == "edge" and found[2].open and found[1].reason == "plateau"
    assert found[5].bound > TOL and found[5].extra["df"] >= A.MIN_DF


def test_a_gap_within_the_noise_is_not_closed_with_one_seed():
    # the first seed scatters by 2 points about the slow LRs' trend: one seed cannot show a 3-point gap
    full = full_study()
    valid = full.valid.copy()
    valid[0, 3:7] += [0.02, -0.02, 0.02, -0.02]
    noisy = C.Runs(full.lrs, full.seeds, valid, full.test, full.epochs, full.to_target, full.learned, full.ran)
    one = A.seeds_at(noisy, np.ones(len(LRS), int), [0, 1, 2, 3, 4])
    found = A.statuses(one, DESIGN, TOL)
    assert found[6].open and found[6].reason == "as good" and found[6].bound < TOL
    assert not A.statuses(A.seeds_at(full, np.ones(len(LRS), int), [0, 1, 2, 3, 4]), DESIGN, TOL)[6].open


def test_rounds_stop_when_nothing_is_open_and_spend_seeds_only_near_the_best_and_the_edges():
    full = full_study()
    rounds = A.run_rounds(full, [0, 1, 2, 3, 4], DESIGN, TOL)
    counts = rounds[-1]["counts"]
    assert not any(s.open for s in rounds[-1]["statuses"])
    assert all(counts[k] == SEEDS for k in (7, 8, 9, 10))  # every seed where the ranges are decided
    assert counts[4] == 1 and counts[5] == 1  # shown worse on one seed
    assert counts[2] >= 2  # the band: seeds until they split (seed 1 leaves the plateau, seed 0 did not)
    answer = A.answer(A.seeds_at(full, counts, [0, 1, 2, 3, 4]), TOL, resamples=50)
    reference = A.answer(full, TOL, resamples=50)
    assert all(A.agreement(full.lrs, answer, reference).values())
    used = np.nansum(A.seeds_at(full, counts, [0, 1, 2, 3, 4]).epochs) / np.nansum(full.epochs)
    assert used < 0.6


def test_an_lr_shown_worse_stays_closed_and_a_first_round_of_every_seed_is_the_full_study():
    full = full_study()
    rounds = A.run_rounds(full, [2, 0, 1, 4, 3], DESIGN, TOL)
    worse_once = {i for r in rounds for i, s in enumerate(r["statuses"]) if s.reason == "worse"}
    assert all(rounds[-1]["statuses"][i].reason in ("worse", "every seed") for i in worse_once)
    everything = A.run_rounds(full, [0, 1, 2, 3, 4], A.Design(max_seeds=SEEDS, first_seeds=SEEDS), TOL)
    assert len(everything) == 1 and (everything[0]["counts"] == SEEDS).all()


def test_the_procedure_observes_each_round_asks_the_first_seeds_of_the_order_and_stops_when_told():
    """sequential() is what make adaptive trains and the replay reads: each round it observes the runs asked for so
    far (the first counts[i] seeds of the order at LR i), is told after each round, and a stop ends it early."""
    full, order = full_study(), [3, 1, 4, 0, 2]
    seen, told = [], []

    def observe(counts):
        seen.append(counts.copy())
        return A.seeds_at(full, counts, order)

    rounds = A.sequential(observe, len(LRS), DESIGN, TOL, on_round=lambda r: told.append(len(r)))
    assert [r["counts"].tolist() for r in rounds] == [c.tolist() for c in seen]
    assert told == list(range(1, len(rounds) + 1))
    assert [r["counts"].tolist() for r in A.run_rounds(full, order, DESIGN, TOL)] == [c.tolist() for c in seen]
    assert sorted(A.asked_runs(LRS[:2], np.array([2, 1]), order)) == sorted([(LRS[0], 3), (LRS[0], 1), (LRS[1], 3)])
    first = A.sequential(observe, len(LRS), DESIGN, TOL, stop=lambda r: True)
    assert len(first) == 1 and any(s.open for s in first[0]["statuses"])  # stopped with LRs still open

def test_the_band_found_with_few_seeds_is_the_full_studys_band():
    # whichever seeds come first, the band LR gets seeds until they split; its neighbours on the plateau every seed
    full = full_study()
    for order in ([0, 2, 4, 1, 3], [1, 3, 0, 2, 4]):
        counts = A.run_rounds(full, order, DESIGN, TOL)[-1]["counts"]
        answer = C.decide(A.seeds_at(full, counts, order), TOL)
        assert answer["none_up_to"] == pytest.approx(LRS[1]) and answer["all_from"] == pytest.approx(LRS[3])


def test_agreement_allows_one_grid_step_and_names_what_differs():
    lrs = np.array(LRS)
    full = {"range_low": LRS[7], "range_high": LRS[10], "recommended_low": LRS[8], "recommended_high": LRS[10],
            "best": LRS[9], "best_set": [LRS[9], LRS[10]],
            "none_up_to": LRS[1], "all_from": LRS[3], "all_up_to": LRS[10], "none_from": LRS[11]}
    close = {**full, "range_low": LRS[6], "best": LRS[10]}
    assert all(A.agreement(lrs, close, full).values())
    far = {**full, "recommended_low": LRS[6], "all_from": LRS[4], "best": LRS[8]}
    assert A.agreement(lrs, far, full) == {"best_range": True, "recommended": False, "best": False, "edges": False}
    assert A.steps_apart(lrs, None, LRS[3]) == math.inf and A.steps_apart(lrs, None, None) == 0


def test_the_worse_rule_check_counts_closures_the_full_study_contradicts():
    full = full_study()
    check = A.worse_rule_check(full, DESIGN, TOL)
    assert check["closed"] >= 2 * SEEDS and check["contradicted"] == []


def test_summary_and_its_lines():
    full = full_study()
    reference = A.answer(full, TOL, resamples=50)
    replays = []
    for order in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0]):
        counts = A.run_rounds(full, order, DESIGN, TOL)[-1]["counts"]
        last = A.seeds_at(full, counts, order)
        found = A.answer(last, TOL, 50)
        replays.append({"order": order, "rounds": 3, "runs": int(last.ran.sum()), "share": 0.5, "seeds": list(counts),
                        "answer": found, "agrees": A.agreement(full.lrs, found, reference)})
    replays[1]["agrees"]["edges"] = False  # as if the second order had missed an edge
    summary = A.summarize(replays, reference, full, DESIGN, 50, shown=5)
    assert summary["agreement"]["all"] == 0.5 and summary["agreement"]["edges"] == 0.5
    assert summary["disagreements"] == 1 and summary["disagreeing"][0]["wrong"] == ["edges"]
    text = A.describe(summary)
    assert "agrees with the full study's in 50% of them, for a median 50% of its epochs" in text
    assert "disagrees with seed order [4, 3, 2, 1, 0]: edges" in text
