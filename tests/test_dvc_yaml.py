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
    unused = {dep for dep in stage["deps"] if dep.startswith("stages/")} - imported
    assert not unused, f"{name}: lists {sorted(unused)} in deps without importing them (a change there reruns it)"


def test_stages_import_only_lib_modules_never_each_other():
    for name, stage in STAGES.items():
        module = ROOT / (stage_module(stage).replace(".", "/") + ".py")
        others = {p for p in project_imports(stage_module(stage)) if p.parent == ROOT / "stages"} - {module}
        assert not others, f"{name} imports the stage scripts {sorted(map(str, others))}"


# Every stage's outputs as the code names them: a stage or an output added to dvc.yaml fails here until it is added.
OUTPUTS = {
    "download": {RAW_DIR},
    "split": {layout.SPLIT_DIR, layout.SPLIT_METRICS_FILE},
    "model_summary": {paths.MODEL_SUMMARY_FILE},
    "train": {f"{layout.RUNS_DIR}/${{key}}"},
    "aggregate": {paths.RUNS_CSV, paths.SWEEP_CSV, paths.CURVES_CSV, paths.SWEEP_JSON},
    "conclude": {experiment_paths.SUMMARY_JSON, experiment_paths.CONCLUSIONS_PER_LR_CSV,
                 experiment_paths.CONCLUSIONS_PER_RUN_CSV, experiment_paths.PER_LR_DIR},
    "answer": {answer.ANSWER_JSON},
    "lr_find": {paths.LR_FIND_CURVES_CSV, paths.LR_FIND_SUGGESTIONS_CSV},
    "score_lr_find": {paths.LR_FIND_SCORES_CSV, paths.LR_FIND_SUMMARY_JSON},
    "plot": {paths.PLOTS_DIR / name for name in paths.FIGURE_NAMES},
    "report": {paths.REPORT},
}


def test_output_paths_are_the_ones_the_code_names():
    assert set(OUTPUTS) == set(STAGES)
    for name, stage in STAGES.items():
        assert outs(stage) | outs(stage, "metrics") == {str(p) for p in OUTPUTS[name]}, name
    assert all("metrics" not in stage for name, stage in STAGES.items() if name != "answer")  # one metrics file


def test_every_path_the_code_names_is_in_dvc_yaml():
    """Each path constant of the three path modules is an output or a dependency of some stage in dvc.yaml (the
    checks committed as data, written by tools, are dependencies of the conclude stage)."""
    named = {str(value) for module in (layout, paths, experiment_paths) for value in vars(module).values()
             if isinstance(value, Path)}
    in_dvc_yaml = {str(item) for stage in STAGES.values() for item in outs(stage) | outs(stage, "metrics")
                   | set(stage.get("deps", []))}
    # a file inside a folder dvc.yaml names, or a folder that holds the files it names, counts
    nested = {name for name in named for item in in_dvc_yaml
              if name.startswith(f"{item}/") or item.startswith(f"{name}/")}
    assert named - in_dvc_yaml - nested == set()


def test_each_stage_depends_on_the_files_it_reads():
    assert str(layout.SPLIT_DIR) in STAGES["train"]["deps"]
    assert str(layout.RUNS_DIR) in STAGES["aggregate"]["deps"]
    assert {str(p) for p in (paths.RUNS_CSV, paths.CURVES_CSV, paths.SWEEP_JSON, experiment_paths.SUMMARY_JSON,
                             experiment_paths.CONCLUSIONS_PER_LR_CSV, experiment_paths.CONCLUSIONS_PER_RUN_CSV)
            } <= set(STAGES["plot"]["deps"])
    # the conclusions read the aggregate's tables and every check committed as data
    assert {str(p) for p in (paths.RUNS_CSV, paths.CURVES_CSV, paths.SWEEP_CSV, paths.SWEEP_JSON,
                             layout.SPLIT_METRICS_FILE, paths.ABLATION_DIR, experiment_paths.EDGE_DIR,
                             experiment_paths.SPEED_CHECK_DIR, experiment_paths.EXPERIMENTS_DIR, experiment_paths.SINGLE_SEED_SWEEP_CSV,
                             experiment_paths.VERIFY_JSON)} <= set(STAGES["conclude"]["deps"])
    assert str(experiment_paths.SUMMARY_JSON) in STAGES["answer"]["deps"]
    assert str(experiment_paths.SUMMARY_JSON) in STAGES["score_lr_find"]["deps"]
    # the report formats what other stages wrote: their files, nothing it would compute itself
    assert {str(p) for p in (paths.SWEEP_JSON, layout.SPLIT_METRICS_FILE, paths.MODEL_SUMMARY_FILE,
                             paths.LR_FIND_SUMMARY_JSON, experiment_paths.SUMMARY_JSON,
                             experiment_paths.CONCLUSIONS_PER_LR_CSV)} == {
        dep for dep in STAGES["report"]["deps"] if dep.startswith("metrics/")}


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

    for stage in train:
        # the run the stage trains when DVC runs it (DVC_STAGE is the stage's name) is the folder DVC caches
        lr, seed = train_stage.run_to_train([], {"DVC_STAGE": stage.name})
        assert [str(out) for out in stage.outs] == [str(layout.run_dir(P.run_name(lr, seed)))]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_stage_turns_a_bad_input_into_one_line_of_error(name):
    """Each stage's main() runs under cli.clear_errors: a full disk, a missing or damaged file is one line naming
    it, never a traceback (and outputs are written atomically, so nothing is left half-written)."""
    module = stage_module(STAGES[name])
    text = (ROOT / (module.replace(".", "/") + ".py")).read_text()
    assert f'with clear_errors("{module.split(".")[-1]}"):\n        main()' in text, module
