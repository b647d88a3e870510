"""dvc.yaml agrees with the code: every module a stage imports is one of its deps, and every path it
writes or reads is the one the code names (stages/lib/paths.py, stages/lib/layout.py,
stages/lib/experiment_paths.py)."""

import ast
from pathlib import Path

import pytest
import yaml

from stages.lib import answer, experiment_paths, layout, paths
from stages.lib.mnist import RAW_DIR

ROOT = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def project_imports(module: str, seen: set | None = None) -> set[str]:
    """The stages.* modules `module` imports, directly or through other project modules, as file paths."""
    seen = set() if seen is None else seen
    path = ROOT / (module.replace(".", "/") + ".py")
    if path in seen or not path.is_file():
        return seen
    seen.add(path)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stages"):
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            for name in [node.module, *names]:
                project_imports(name, seen)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("stages"):
                    project_imports(alias.name, seen)
    return seen


def stage_module(stage: dict) -> str:
    return stage["cmd"].split()[2]  # python -m stages.<name> ...


def outs(stage: dict, key: str = "outs") -> set[str]:
    return {next(iter(o)) if isinstance(o, dict) else o for o in stage.get(key, [])}


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_imported_project_module_is_a_dependency(name):
    stage = STAGES[name]
    imported = {str(p.relative_to(ROOT)) for p in project_imports(stage_module(stage))}
    imported -= {"stages/__init__.py", "stages/lib/__init__.py"}
    assert imported, name
    missing = imported - set(stage["deps"])
    assert not missing, f"{name}: imports {sorted(missing)} without listing them in deps"


def test_stages_import_only_lib_modules_never_each_other():
    for name, stage in STAGES.items():
        module = ROOT / (stage_module(stage).replace(".", "/") + ".py")
        others = {p for p in project_imports(stage_module(stage)) if p.parent == ROOT / "stages"} - {module}
        assert not others, f"{name} imports the stage scripts {sorted(map(str, others))}"


def test_output_paths_are_the_ones_the_code_names():
    assert outs(STAGES["download"]) == {str(RAW_DIR)}
    assert outs(STAGES["split"]) == {str(layout.SPLIT_DIR), str(layout.SPLIT_METRICS_FILE)}
    assert outs(STAGES["model_summary"]) == {str(paths.MODEL_SUMMARY_FILE)}
    assert outs(STAGES["train"]) == {f"{layout.RUNS_DIR}/${{key}}"}
    assert outs(STAGES["aggregate"]) == {str(p) for p in (paths.RUNS_CSV, paths.SWEEP_CSV, paths.CURVES_CSV,
                                                          paths.PER_LR_DIR, paths.SUMMARY_JSON)}
    assert outs(STAGES["conclude"]) == {str(experiment_paths.CONCLUSIONS_JSON),
                                        str(experiment_paths.CONCLUSIONS_PER_LR_CSV)}
    assert outs(STAGES["answer"], "metrics") == {str(answer.ANSWER_JSON)}
    assert all("metrics" not in stage for name, stage in STAGES.items() if name != "answer")  # one metrics file
    assert outs(STAGES["plot"]) == {str(paths.PLOTS_DIR / name) for name in paths.FIGURE_NAMES}
    assert outs(STAGES["report"]) == {str(paths.REPORT)}


def test_each_stage_depends_on_the_files_it_reads():
    assert str(layout.SPLIT_DIR) in STAGES["train"]["deps"]
    assert str(layout.RUNS_DIR) in STAGES["aggregate"]["deps"]
    assert {str(p) for p in (paths.RUNS_CSV, paths.SWEEP_CSV, paths.CURVES_CSV, paths.SUMMARY_JSON,
                             experiment_paths.CONCLUSIONS_JSON)} <= set(STAGES["plot"]["deps"])
    # the conclusions read the aggregate's tables and every check committed as data
    assert {str(p) for p in (paths.RUNS_CSV, paths.CURVES_CSV, layout.SPLIT_METRICS_FILE, paths.ABLATION_DIR,
                             experiment_paths.EDGE_DIR, experiment_paths.EXPERIMENTS_DIR)} <= set(STAGES["conclude"]["deps"])
    assert str(experiment_paths.CONCLUSIONS_JSON) in STAGES["answer"]["deps"]
    assert str(experiment_paths.CONCLUSIONS_JSON) in STAGES["score_lr_find"]["deps"]
    assert {str(p) for p in (paths.SUMMARY_JSON, paths.SWEEP_CSV, layout.SPLIT_METRICS_FILE,
                             paths.MODEL_SUMMARY_FILE, paths.SINGLE_SEED_SWEEP_CSV, paths.RUNS_CSV,
                             experiment_paths.VERIFY_JSON)} <= set(STAGES["report"]["deps"])


def test_train_is_a_matrix_over_the_sweeps_lrs_and_seeds_with_only_cached_outputs():
    train = STAGES["train"]
    assert train["matrix"] == {"lr": "${sweep.lrs}", "seed": "${sweep.seeds}"}
    # no value of params.yaml in the command a shell runs: the stage finds its run from DVC_STAGE
    assert train["cmd"] == "python -m stages.train"
    # run-cache: DVC never saves a stage with an uncached output (DVC PR #8738)
    assert all(not isinstance(o, dict) for o in train["outs"])
    # the sweep's own lists are not params of a run: adding an LR or a seed must not rerun the others
    assert set(train["params"]) == {"model", "train"}


def test_each_train_stage_dvc_names_writes_the_folder_the_code_reads():
    """DVC's own reading of dvc.yaml and params.yaml: the stage name, its command and its output agree with
    stages.lib.params.run_name and stages.lib.layout.run_dir for every LR and seed of the sweep."""
    from dvc.repo import Repo

    from stages.lib import params as P

    with Repo(str(ROOT)) as repo:
        train = [stage for stage in repo.index.stages if stage.name.startswith("train@")]
    sweep = P.load_params(ROOT / "params.yaml")["sweep"]
    assert len(train) == len(sweep["lrs"]) * len(sweep["seeds"])
    from stages import train as train_stage

    params = P.check(P.load_params(ROOT / "params.yaml"))
    for stage in train:
        # the run the stage trains when DVC runs it (DVC_STAGE is the stage's name) is the folder DVC caches
        lr, seed = train_stage.run_to_train(params, [], {"DVC_STAGE": stage.name})
        assert [str(out) for out in stage.outs] == [str(layout.run_dir(P.run_name(lr, seed)))]
