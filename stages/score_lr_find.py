"""Stage score_lr_find: the LR range test's suggestions judged against the sweep.

Reads metrics/lr_find/suggestions.csv (the lr_find stage), the sweep's runs (aggregate) and its conclusions
(conclude: the best LR, the best range, the trade-off, which runs learned); writes metrics/lr_find/scores.csv (one row per seed and rule) and
metrics/lr_find/summary.json (one entry per rule). The rules of judging are in stages/lib/lr_find_scores.py.
"""

import sys

from stages.lib import atomic, inputs, lr_find_scores
from stages.lib.cli import clear_errors
from stages.lib.experiment_paths import CONCLUSIONS_PER_LR_CSV, CONCLUSIONS_PER_RUN_CSV, SUMMARY_JSON
from stages.lib.paths import LR_FIND_SCORES_CSV, LR_FIND_SUGGESTIONS_CSV, LR_FIND_SUMMARY_JSON, RUNS_CSV


def main() -> None:
    suggestions = inputs.read_csv(LR_FIND_SUGGESTIONS_CSV)
    judged, test = inputs.read_csv(CONCLUSIONS_PER_RUN_CSV), inputs.read_csv(RUNS_CSV)[["lr", "seed", "test_acc"]]
    runs = judged.merge(test, on=["lr", "seed"], validate="one_to_one")
    lrs, summary = inputs.read_csv(CONCLUSIONS_PER_LR_CSV), inputs.read_json(SUMMARY_JSON)
    scores = lr_find_scores.score(suggestions, runs, lrs, summary)
    per_rule = lr_find_scores.rule_summary(scores, summary)
    atomic.write_text(LR_FIND_SCORES_CSV, scores.to_csv(index=False))
    atomic.write_json(LR_FIND_SUMMARY_JSON, {**lr_find_scores.overview(scores, per_rule, summary), "rules": per_rule})
    for rule, facts in per_rule.items():
        print(f"score_lr_find: {rule}: in the best range for {facts['in_best_range']}/{facts['suggested']} seeds, "
              f"median {facts['decades_to_best_median']} decades from the best LR", file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("score_lr_find"):
        main()
