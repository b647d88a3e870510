"""README as a front page, and the terminal views it and its docs/ pages send users to, run for real on the committed
results: README leads with the report stage's answer, short; `dvc metrics show` and `dvc metrics diff` print every
conclusion's LR exactly and fit 160 columns, docs/results.md's example output is what DVC prints, and
docs/pipeline.md's DAG is what `dvc dag` prints. (The `dvc exp show` commands need experiments:
tests/test_e2e_sweep.py checks them.)"""

import json
import re

import pytest

from stages.lib.params import lr_name
from tests.pipeline import REPO_ROOT, dvc, make_repo


README = (REPO_ROOT / "README.md").read_text()
RESULTS_PAGE = (REPO_ROOT / "docs/results.md").read_text()
PIPELINE_PAGE = (REPO_ROOT / "docs/pipeline.md").read_text()


def block_after(marker: str, text: str = RESULTS_PAGE, fence: str = "```") -> str:
    """The fenced block that follows `marker` in a page, without its fences and indentation."""
    rest = text[text.index(marker):]
    start = rest.index(fence)
    body = rest[rest.index("\n", start) + 1:]
    body = body[:body.index(fence)]
    return "\n".join(line.strip() for line in body.splitlines())


def table(output: str) -> list[str]:
    return [line.rstrip() for line in output.splitlines() if line.strip()]


def conclusion_lrs(c: dict) -> list[float]:
    """Every LR the answer row names: the recommended range's ends, the best LR (or its candidates), the best range's
    ends, the plateau edges."""
    edges, stated = c["learning_edge"]["with_early_stopping"], c["recommended"]["stated"]
    lrs = [stated["low_lr"], stated["high_lr"], *c["best"]["stability"]["set"], c["best_range"]["low_lr"],
           c["best_range"]["high_lr"], edges["none_up_to"], edges["none_from"]]
    return [lr for lr in lrs if lr is not None]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("views"), with_lock=True)  # a git repo whose HEAD holds the committed results


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
    """An edge that moves by one grid step down there (3.981e-06 to 3.162e-06, say): rounded to 5 decimals DVC would
    print "0.0 -> 0.0, change 0.0". The answer stage, run by DVC on edited conclusions, shows both."""
    path = repo / "metrics/summary.json"
    conclusions = json.loads(path.read_text())
    committed = conclusions["learning_edge"]["with_early_stopping"]["none_up_to"]
    moved = float(f"{committed / 10 ** 0.1:.4g}")  # one grid step down
    assert round(committed, 5) == round(moved, 5) and moved != committed  # indistinguishable at 5 decimals
    conclusions["learning_edge"]["with_early_stopping"]["none_up_to"] = moved
    path.write_text(json.dumps(conclusions, indent=2))
    dvc(repo, "repro", "--single-item", "answer")
    diff = dvc(repo, "metrics", "diff", extra_env={"COLUMNS": "160"}).stdout
    row = next(line for line in table(diff) if "plateau_none" in line)
    assert f"<={lr_name(committed)}" in row and f"<={lr_name(moved)}" in row, diff
    assert max(map(len, table(diff))) <= 160


def test_the_pipeline_page_draws_the_dag_dvc_prints_with_the_matrix_collapsed():
    printed = dvc(REPO_ROOT, "dag", "--collapse-foreach-matrix", "--md").stdout.strip()
    assert printed.startswith("```mermaid")
    assert printed in PIPELINE_PAGE, printed


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


def test_readme_leads_with_the_committed_answer_the_report_stage_wrote():
    """README's answer block is REPORT.md's, character for character (the report stage writes it from the committed
    numbers; copy it from REPORT.md when they change), within README's first 30 lines, in about 80 words."""
    from stages.report import ANSWER_END, ANSWER_START

    report = (REPO_ROOT / "REPORT.md").read_text()
    block = report[report.index(ANSWER_START):report.index(ANSWER_END) + len(ANSWER_END)]
    assert block in README, "README's answer is not REPORT.md's: copy the block between the answer markers"
    first = README.splitlines()[:30]
    assert ANSWER_START in first and ANSWER_END in first
    words = block.removeprefix(ANSWER_START).removesuffix(ANSWER_END).split()
    assert len(words) <= 90, len(words)
    assert block.removeprefix(ANSWER_START).lstrip().startswith("**Use ")  # the recommended range first


def test_readme_is_a_front_page_whose_links_lead_somewhere():
    """At most about 200 lines; the layout near the top half; every page it links to exists, and every docs/ page
    links back."""
    lines = README.splitlines()
    assert len(lines) <= 200
    assert lines.index("## Layout") < len(lines) * 0.8
    links = re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)\)", README)
    assert {"docs/pipeline.md", "docs/results.md", "docs/varying.md", "docs/machines.md", "docs/performance.md",
            "docs/troubleshooting.md", "docs/tests.md", "REPORT.md"} <= set(links)
    for link in links:
        assert (REPO_ROOT / link).is_file(), link
    for page in (REPO_ROOT / "docs").glob("*.md"):
        text = page.read_text()
        assert "](../README.md)" in text, page
        for link in re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)", text):
            assert (page.parent / link).resolve().is_file(), (page, link)
