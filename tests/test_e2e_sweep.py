"""End to end: a tiny sweep through the whole DAG with `dvc repro`, then the DVC user experience."""

import json
import re

import pytest

from stages.plot import FIGURE_NAMES
from tests.pipeline import dvc, make_repo, run, set_params

pytestmark = pytest.mark.e2e

TINY = {
    "data.train_size": 300, "data.valid_size": 300,
    "train.max_epochs": 4, "train.patience": 2,
    "sweep.lrs": [1.0e-06, 0.001, 0.01],
}


def stages_run(result) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", result.stdout)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = make_repo(tmp_path_factory.mktemp("lr-sweep"))
    set_params(repo, **TINY)
    first = dvc(repo, "repro")
    assert {"download", "split", "train@1e-06", "train@0.001", "train@0.01", "aggregate", "plot",
            "report"} <= set(stages_run(first))
    return repo


def test_repro_builds_everything_and_then_is_up_to_date(repo):
    assert "up to date" in dvc(repo, "status").stdout
    assert stages_run(dvc(repo, "repro")) == []

    sweep = (repo / "metrics/sweep.csv").read_text().splitlines()
    assert sweep[0].startswith("lr,log10_lr,best_valid_acc,test_acc,train_time_s,epochs,best_epoch,sec_per_epoch,stopped_by")
    assert [line.split(",")[0] for line in sweep[1:]] == ["1e-06", "0.001", "0.01"]
    summary = json.loads((repo / "metrics/summary.json").read_text())
    assert summary["runs"] == 3 and summary["best_lr"] in (0.001, 0.01)
    assert summary["no_learning_below"] == 0.001  # 1e-06 stays at chance in 4 epochs
    for name in FIGURE_NAMES:
        assert (repo / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "121,994" in (repo / "metrics/model_summary.txt").read_text()


def test_report_names_the_conclusions(repo):
    report = (repo / "REPORT.md").read_text()
    summary = json.loads((repo / "metrics/summary.json").read_text())
    assert "The learning-rate range with the best accuracy is" in report
    assert f"the best learning rate is {summary['tradeoff_lr']:g}" in report
    assert "Below a learning rate of 0.001, training does not progress" in report
    assert report.count("](plots/") == len(FIGURE_NAMES)
    assert "| 1e-06 |" in report and "Total params: 121,994" in report


def test_metrics_and_plots_commands(repo):
    metrics = dvc(repo, "metrics", "show").stdout
    assert "metrics/summary.json" in metrics and "best_lr" in metrics and "metrics/runs" not in metrics
    dvc(repo, "plots", "show", "-o", "plots_html")
    html = (repo / "plots_html/index.html").read_text()
    assert "Accuracy by learning rate" in html and '"type": "log"' in html
    assert "Learning curves" in html and "accuracy_vs_time.png" in html


def test_changing_one_lr_reruns_only_what_depends_on_it(repo):
    set_params(repo, **{"sweep.lrs": [1.0e-06, 0.001, 0.003]})
    assert stages_run(dvc(repo, "repro")) == ["train@0.003", "aggregate", "plot", "report"]
    # the old 0.01 results are still on disk, but the summary reads only the runs params.yaml names
    assert (repo / "metrics/runs/0.01.json").exists()
    sweep = (repo / "metrics/sweep.csv").read_text()
    assert "\n0.003," in sweep and "\n0.01," not in sweep
    assert "up to date" in dvc(repo, "status").stdout


def test_exp_run_with_a_changed_param_and_exp_show(repo):
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "tiny sweep")
    dvc(repo, "exp", "run", "-n", "patience2", "-S", "train.patience=2", "-S", "train.max_epochs=2")
    shown = dvc(repo, "exp", "show", "--no-pager", "--csv").stdout
    assert "patience2" in shown and "best_lr" in shown and "train.patience" in shown
