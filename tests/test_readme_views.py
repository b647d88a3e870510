"""The terminal views README sends users to, run for real on the committed results: `dvc metrics show` and
`dvc metrics diff` print every conclusion's LR exactly and fit 160 columns, README's example output is what DVC
prints, and README's DAG is what `dvc dag` prints. (README's `dvc exp show` commands need experiments:
tests/test_e2e_sweep.py checks them.)"""

import json
import re

import pytest

from stages.lib.params import lr_name
from tests.pipeline import REPO_ROOT, dvc, make_repo


README = (REPO_ROOT / "README.md").read_text()


def block_after(marker: str, fence: str = "```") -> str:
    """The fenced block that follows `marker` in README, without its fences and indentation."""
    rest = README[README.index(marker):]
    start = rest.index(fence)
    body = rest[rest.index("\n", start) + 1:]
    body = body[:body.index(fence)]
    return "\n".join(line.strip() for line in body.splitlines())


def table(output: str) -> list[str]:
    return [line.rstrip() for line in output.splitlines() if line.strip()]


def conclusion_lrs(c: dict) -> list[float]:
    """Every LR the answer row names: the best LR (or its candidates), the best range's ends, the learning edges."""
    edges = c["learning_edge"]["with_early_stopping"]
    lrs = [*c["best"]["stability"]["set"], c["best_range"]["low_lr"], c["best_range"]["high_lr"],
           edges["none_up_to"], edges["all_from"], edges["all_up_to"], edges["none_from"]]
    return [lr for lr in lrs if lr is not None]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("views"))  # a git repo whose HEAD holds the committed results


def test_metrics_show_prints_every_conclusions_lr_exactly_in_160_columns(repo):
    shown = dvc(repo, "metrics", "show", extra_env={"COLUMNS": "160"}).stdout
    lines = table(shown)
    assert max(map(len, lines)) <= 160, shown
    conclusions = json.loads((repo / "metrics/summary.json").read_text())
    cells = set(re.split(r"\s{2,}", lines[1]))
    for lr in conclusion_lrs(conclusions):
        assert any(re.search(rf"(^|[ =]){re.escape(lr_name(lr))}($|[ ,])", cell) for cell in cells), (lr, cells)
    # what README shows is what DVC prints
    assert [re.split(r"\s{2,}", line) for line in lines] == [
        re.split(r"\s{2,}", line) for line in table(block_after("- `dvc metrics show`: the answer in one row"))]


def test_metrics_diff_shows_a_learning_edge_that_moved_by_less_than_1e_5(repo):
    """The edge of the study moved from 1e-05 to 6.31e-06 against the single-seed sweep: rounded to 5 decimals,
    DVC printed "1e-05 -> 1e-05, change -0.0". The answer stage, run by DVC on edited conclusions, shows both."""
    path = repo / "metrics/summary.json"
    conclusions = json.loads(path.read_text())
    committed = conclusions["learning_edge"]["with_early_stopping"]["all_from"]
    moved = 1e-05
    assert round(committed, 5) == moved != committed  # indistinguishable at 5 decimals
    conclusions["learning_edge"]["with_early_stopping"]["all_from"] = moved
    path.write_text(json.dumps(conclusions, indent=2))
    dvc(repo, "repro", "--single-item", "answer")
    diff = dvc(repo, "metrics", "diff", extra_env={"COLUMNS": "160"}).stdout
    row = next(line for line in table(diff) if "all_seeds_learn" in line)
    assert f"{lr_name(committed)} to" in row and f"{lr_name(moved)} to" in row, diff
    assert max(map(len, table(diff))) <= 160


def test_readme_draws_the_dag_dvc_prints_with_the_matrix_collapsed():
    printed = dvc(REPO_ROOT, "dag", "--collapse-foreach-matrix", "--md").stdout.strip()
    assert printed.startswith("```mermaid")
    assert printed in README, printed


def test_no_metric_shares_a_name_with_a_parameter(tmp_path):
    """`dvc exp show` names a column by its key alone unless a metric and a parameter share it; then it spells
    both out with their file (`params.yaml:sweep.lrs`, as summary.json's own `sweep.lrs` once made it)."""
    from stages.lib import answer
    from tests.committed import committed_params

    params = committed_params(tmp_path)
    names = set(params) | {f"{section}.{key}" for section, values in params.items() for key in values}
    metrics = json.loads((REPO_ROOT / answer.ANSWER_JSON).read_text())
    assert list(metrics) == list(answer.FIELDS)
    assert not {key.split(".")[0] for key in metrics} & names and not set(metrics) & names


def test_readme_states_the_committed_answer_in_its_own_words():
    """README's one-sentence answer is REPORT.md's (the report stage's, from the committed numbers), not a stale copy."""
    report = (REPO_ROOT / "REPORT.md").read_text()
    sentence = next(line for line in report.splitlines() if line.startswith("**In one sentence:** "))
    assert " ".join(sentence.removeprefix("**In one sentence:** ").split()) in " ".join(README.split())
