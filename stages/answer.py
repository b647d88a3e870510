"""Stage answer: the study's answer in one short row, metrics/answer.json, from the conclude stage's conclusions.

The file `dvc metrics show`, `dvc metrics diff` and `dvc exp show` print: the recommended range first, with its
epochs and accuracy, then the best LR, the best range, the trade-off LR and the learning edges, every LR as exact
text (stages/lib/answer.py says why). Everything else about the conclusions: metrics/summary.json.
"""

import sys

from stages.lib import answer, atomic, inputs
from stages.lib.cli import clear_errors
from stages.lib.experiment_paths import SUMMARY_JSON


def main() -> None:
    row = answer.answer_row(inputs.read_json(SUMMARY_JSON))
    atomic.write_json(answer.ANSWER_JSON, row)
    print(f"answer: use lr {row['answer']} (about {row['answer_epochs']} epochs); best lr {row['best_lr']}, best range "
          f"{row['best_range']}", file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("answer"):
        main()
