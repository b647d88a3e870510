"""End to end: a tiny sweep of LRs x seeds through the whole DAG with `dvc repro`, then the DVC user experience."""

import json
import re
import shlex

import pytest

from stages.lib.paths import FIGURE_NAMES
from tests.pipeline import REPO_ROOT, STUDY_MADE, TINY, copy_study, dvc, read_csv, run, set_params

TRAIN_STAGES = ["train@1e-06-0", "train@1e-06-1", "train@0.001-0", "train@0.001-1", "train@0.01-0", "train@0.01-1"]


def stages_run(result) -> list[str]:
    return stages_run_in(result.stdout)


def stages_run_in(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def stages_restored(result) -> list[str]:
    return re.findall(r"Stage '([^']+)' is cached - skipping run", result.stdout)


@pytest.fixture(scope="module")
def repo(tiny_study, tmp_path_factory):
    """The tiny study (made once per test run by `dvc repro`), copied: these tests change it."""
    first = (tiny_study / STUDY_MADE).read_text()  # what its `dvc repro` printed
    assert {"download", "split", *TRAIN_STAGES, "aggregate", "conclude", "answer", "lr_find", "score_lr_find", "plot",
            "report"} <= set(stages_run_in(first))
    return copy_study(tiny_study, tmp_path_factory.mktemp("lr-sweep") / "study")


def test_one_train_stage_per_lr_and_seed(repo):
    listed = dvc(repo, "stage", "list").stdout
    assert re.findall(r"^(train@\S+)", listed, flags=re.M) == TRAIN_STAGES


def test_repro_builds_everything_and_then_is_up_to_date(repo):
    assert "up to date" in dvc(repo, "status").stdout
    assert stages_run(dvc(repo, "repro")) == []

    runs = read_csv(repo / "metrics/runs.csv")
    assert [(r["lr"], r["seed"]) for r in runs] == [
        ("1e-06", "0"), ("1e-06", "1"), ("0.001", "0"), ("0.001", "1"), ("0.01", "0"), ("0.01", "1")]
    sweep = read_csv(repo / "metrics/sweep.csv")
    assert [r["lr"] for r in sweep] == ["1e-06", "0.001", "0.01"] and {r["seeds"] for r in sweep} == {"2"}
    for row in sweep:  # the mean lies within the seeds' range
        assert float(row["valid_min"]) <= float(row["valid_mean"]) <= float(row["valid_max"])
    assert not {"learned_fraction", "in_best_range", "pareto", "valid_ci_low"} & set(sweep[0])  # no choice in it
    curves = read_csv(repo / "metrics/learning_curves.csv")
    assert len(curves) == sum(int(r["epochs"]) for r in runs)
    per_lr = read_csv(repo / "metrics/conclusions_per_lr.csv")  # the conclude stage's: intervals, roles
    assert [r["lr"] for r in per_lr] == ["1e-06", "0.001", "0.01"]
    assert len(read_csv(repo / "metrics/conclusions_per_run.csv")) == len(runs)

    facts = json.loads((repo / "metrics/sweep.json").read_text())
    assert facts["sweep"] | {"stopped_by": None} == {"lrs": 3, "seeds": 2, "runs": 6, "stopped_by": None}
    assert set(facts) == {"sweep", "cost", "machine"}  # no pick: those are summary.json's alone
    summary = json.loads((repo / "metrics/summary.json").read_text())
    assert summary["best"]["lr"] in (0.001, 0.01)
    assert summary["learning_edge"]["with_early_stopping"]["none_up_to"] == 1e-06  # at chance in 4 epochs
    for name in FIGURE_NAMES:
        assert (repo / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "121,994" in (repo / "metrics/model_summary.txt").read_text()


def test_make_verify_retrains_committed_runs_and_finds_a_changed_number(repo):
    import sys

    import pandas as pd

    same = run(repo, sys.executable, "-m", "tools.verify", "--runs", "2")
    assert "train@1e-06-0: identical" in same.stdout and "train@0.01-1: identical" in same.stdout  # both ends
    assert "verify: 2 of 2 runs identical to the committed study, bit for bit" in same.stdout
    runs_csv = repo / "metrics/runs.csv"
    committed = runs_csv.read_text()
    try:
        runs = pd.read_csv(runs_csv)
        runs.loc[(runs["lr"] == 0.001) & (runs["seed"] == 0), "test_acc"] += 0.01
        runs.to_csv(runs_csv, index=False)
        differs = run(repo, sys.executable, "-m", "tools.verify", "--runs", "6", check=False)
    finally:
        runs_csv.write_text(committed)
    assert differs.returncode == 1, differs.stdout + differs.stderr
    assert re.search(r"train@0\.001-0: differs: test_acc \S+ \(committed \S+\)", differs.stdout)
    assert "verify: 5 of 6 runs identical" in differs.stdout and "another thread count" in differs.stdout


def test_report_states_the_conclusions_with_intervals(repo):
    report = (repo / "REPORT.md").read_text()
    c = json.loads((repo / "metrics/summary.json").read_text())
    best = c["best"]
    low, high = best["valid_interval"]
    stated = c["recommended"]["stated"]
    assert (f"**Use a learning rate of {stated['low_lr']:g}**" if stated["low_lr"] == stated["high_lr"] else
            f"**Use a learning rate from {stated['low_lr']:g} to {stated['high_lr']:g}**") in report
    assert (f"at {best['lr']:g}: {100 * best['valid_mean']:.2f}% mean validation accuracy, 95% t-interval "
            f"[{100 * low:.2f}, {100 * high:.2f}]") in report
    assert f"{c['seeds']} runs" in report and c["seeds"] == 2
    assert f"**With patience {c['patience']}, runs at LR 1e-06 and below are stopped on the initial plateau**" in report
    assert "### How stable each pick is" in report and "| best LR |" in report
    assert "## How each conclusion is chosen" in report
    assert report.count("](plots/") == len(FIGURE_NAMES)
    assert "| 1e-06 |" in report and "Total params: 121,994" in report
    # beside the earlier single-seed sweep's answer, which had other LRs than this tiny sweep
    assert "### Against the earlier single-seed sweep" in report and "| best LR | 0.002512 |" in report
    assert "are not the single-seed sweep's 46" in report


def test_metrics_and_plots_commands(repo):
    metrics = dvc(repo, "metrics", "show").stdout
    assert "metrics/answer.json" in metrics and "best_lr" in metrics and "metrics/per_lr" not in metrics
    per_lr = dvc(repo, "metrics", "show", "metrics/per_lr").stdout.splitlines()
    assert [line.split()[0] for line in per_lr[1:]] == [
        "metrics/per_lr/01_1e-06.json", "metrics/per_lr/02_0.001.json", "metrics/per_lr/03_0.01.json"]
    assert per_lr[0].split() == ["Path", "ci_high", "ci_low", "cost_s", "epochs", "learned", "role", "test", "time_s",
                                 "valid"]
    assert max(len(line) for line in per_lr) <= 160
    summary = json.loads((repo / "metrics/summary.json").read_text())
    best_row = next(line for line in per_lr if f"_{summary['best']['lr']:g}.json" in line)
    assert "best" in best_row and f"{summary['best']['valid_mean']:.5f}"[:6] in best_row
    assert "never leaves the plateau" in next(line for line in per_lr if "_1e-06.json" in line)
    dvc(repo, "plots", "show", "-o", "plots_html")
    html = (repo / "plots_html/index.html").read_text()
    assert "Accuracy by learning rate" in html and '"type": "log"' in html
    assert "Learning curves" in html and "accuracy_vs_cost.png" in html


def test_the_lr_range_test_runs_per_seed_and_is_judged_against_the_sweep(repo):
    curves = read_csv(repo / "metrics/lr_find/curves.csv")
    assert {r["seed"] for r in curves} == {"0", "1"} and len(curves) <= 2 * TINY["lr_find.steps"]
    suggestions = read_csv(repo / "metrics/lr_find/suggestions.csv")
    assert [(r["seed"], r["rule"]) for r in suggestions[:2]] == [("0", "valley"), ("0", "steep")]
    scores = read_csv(repo / "metrics/lr_find/scores.csv")
    assert len(scores) == len(suggestions) == 2 * 5
    for row in scores:  # a suggestion snaps to one of the sweep's LRs
        assert row["grid_lr"] in ("", "1e-06", "0.001", "0.01")
    report = (repo / "REPORT.md").read_text()
    assert "## Can a one-minute LR range test predict the sweep?" in report and "| valley |" in report
    assert "## Were runs still improving when early stopping ended them?" in report
    # the committed patience ablation (metrics/patience_ablation/) is read, and left out: it was made with the
    # default data sizes, not this tiny sweep's
    assert "### With more patience: the patience ablation" in report and "`patience-20`" in report
    assert "were made under other settings than this sweep's" in report
    assert (repo / "plots/lr_find.png").stat().st_size > 10_000


def test_a_parameter_round_trip_retrains_nothing(repo):
    """Run, change a train param, change it back: DVC's run-cache restores every run."""
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "tiny sweep")
    before = read_csv(repo / "metrics/runs.csv")
    # before the next test adds an LR and a seed: the tiny study's 6 runs prove it as well as 9 would
    trained = [s for s in (f"train@{lr}-{seed}" for lr in ("1e-06", "0.001", "0.01") for seed in range(2))]

    changed = dvc(repo, "exp", "run", "-n", "patience1", "-S", "train.patience=1")
    assert sorted(s for s in stages_run(changed) if s.startswith("train@")) == sorted(trained)

    back = dvc(repo, "exp", "run", "-n", "patience2-again", "-S", "train.patience=2")
    assert [s for s in stages_run(back) if s.startswith("train@")] == []
    assert sorted(s for s in stages_restored(back) if s.startswith("train@")) == sorted(trained)
    after = read_csv(repo / "metrics/runs.csv")
    same = ("lr", "seed", "best_valid_acc", "test_acc", "epochs", "best_epoch", "train_time_s", "started_at")
    assert [{k: r[k] for k in same} for r in after] == [{k: r[k] for k in same} for r in before]

    shown = dvc(repo, "exp", "show", "--no-pager", "--csv").stdout
    assert "patience1" in shown and "best_lr" in shown and "train.patience" in shown
    assert "metrics/per_lr" not in shown  # per-LR values stay out of `dvc exp show`
    # ... and `dvc metrics diff` compares them LR by LR between two experiments
    diff = dvc(repo, "metrics", "diff", "--all", "patience1", "patience2-again", "--targets", "metrics/per_lr").stdout
    assert re.search(r"metrics/per_lr/\d+_0\.001\.json\s+epochs", diff), diff


def test_changing_one_lr_or_adding_a_seed_reruns_only_what_depends_on_it(repo):
    set_params(repo, **{"sweep.lrs": [1.0e-06, 0.001, 0.003]})
    assert sorted(stages_run(dvc(repo, "repro"))) == sorted(
        ["train@0.003-0", "train@0.003-1", "aggregate", "conclude", "answer", "score_lr_find", "plot",
         "report"])  # not lr_find
    # the old 0.01 runs are still on disk, but the tables hold only the runs params.yaml names
    assert (repo / "data/runs/0.01-0/results.json").exists()
    assert [r["lr"] for r in read_csv(repo / "metrics/sweep.csv")] == ["1e-06", "0.001", "0.003"]

    set_params(repo, **{"sweep.seeds": [0, 1, 2]})
    assert sorted(stages_run(dvc(repo, "repro"))) == sorted(
        ["train@1e-06-2", "train@0.001-2", "train@0.003-2", "aggregate", "conclude", "answer", "lr_find",
         "score_lr_find", "plot", "report"])
    assert {r["seeds"] for r in read_csv(repo / "metrics/sweep.csv")} == {"3"}
    assert "up to date" in dvc(repo, "status").stdout


def readme_exp_show_commands() -> list[tuple[list[str], int]]:
    """Every distinct `dvc exp show` command in the bash blocks of README and its docs/ pages, with the narrowest
    terminal they say it fits: 100 where a comment line above one of its copies says "(100 columns)", else 160."""
    pages = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    text = "\n".join(page.read_text() for page in pages)
    widths, comment = {}, ""
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#"):
                comment = line
            elif line.startswith("dvc exp show"):
                command = tuple(shlex.split(line, comments=True))
                widths[command] = min(widths.get(command, 160), 100 if "(100 columns)" in comment else 160)
                comment = ""
    return [(list(command), width) for command, width in widths.items()]


def test_readmes_exp_show_commands_draw_every_column_they_keep(repo):
    """After an experiment that changes what README's demo changes (set sizes, the cap, seeds, LRs), each
    `dvc exp show` command in README draws all its columns (DVC drops the ones that do not fit with '…'),
    parameters included, in 160 columns and, where README says so, in 100."""
    dvc(repo, "exp", "run", "-n", "demo-like", "-S", "data.train_size=200", "-S", "data.valid_size=200",
        "-S", "train.max_epochs=3", "-S", "sweep.seeds=[0]", "-S", "sweep.lrs=[0.001,0.01]")
    commands = readme_exp_show_commands()
    assert len(commands) >= 2 and {width for _, width in commands} == {100, 160}, commands
    changed = {"data.train_size", "data.valid_size", "train.max_epochs", "sweep.seeds"}
    for command, narrowest in commands:
        for columns in (100, 160):
            if columns < narrowest:
                continue
            shown = dvc(repo, *command[1:], "--no-pager", extra_env={"COLUMNS": str(columns)}).stdout
            lines = [line for line in shown.splitlines() if line.strip()]
            assert "…" not in shown and max(map(len, lines)) <= columns, f"{command} at {columns}:\n{shown}"
            header = lines[1].split()
            assert "Experiment" in header and "demo-like" in shown, shown
            if "--only-changed" in command:  # the parameters the experiment changed are all there
                assert changed <= set(header), (command, header)
            if "[a-z_]+$" not in " ".join(command):  # every command but the parameters-only one shows the answer
                assert "answer" in header and "best_lr" in header, (command, header)
