"""The committed study matches the committed code: in a fresh copy, `dvc status` finds no stage whose code, params or
command changed since its results were recorded, only outputs that a clone has no cache for; and dvc.lock holds
no entry of a stage that dvc.yaml no longer has."""

import json

from tests.pipeline import dvc, make_repo

# What a fresh clone may show: outputs not in its (empty) DVC cache, and so the data a stage reads that another
# stage writes (MNIST, the split, the runs' folders), until it trains or pulls them.
MISSING = {"not in cache", "deleted", "modified"}


def made_by_a_stage(path: str, outs: set[str]) -> bool:
    return path in outs or any(out.startswith(f"{path}/") for out in outs)


def test_every_stage_is_recorded_with_the_code_and_params_it_has_now(tmp_path):
    from dvc.repo import Repo

    repo = make_repo(tmp_path)
    with Repo(str(repo)) as dvc_repo:
        outs = {str(out) for stage in dvc_repo.index.stages for out in stage.outs}
    status = json.loads(dvc(repo, "status", "--json").stdout)
    stale = {}
    for stage, changes in status.items():
        for change in changes:
            for kind, entries in change.items() if isinstance(change, dict) else [("changed", change)]:
                for path, what in entries.items() if isinstance(entries, dict) else [(entries, "")]:
                    if kind in ("changed outs", "changed deps") and what in MISSING and made_by_a_stage(path, outs):
                        continue
                    stale.setdefault(stage, []).append(f"{kind}: {path} {what}")
    assert not stale, ("dvc.lock does not match the code (changed code or params since these stages ran; or an "
                       f"experiment's params applied in the workspace): {json.dumps(stale, indent=1)[:3000]}")


def test_dvc_lock_holds_only_stages_of_dvc_yaml(tmp_path):
    from dvc.repo import Repo
    from ruamel.yaml import YAML

    from tests.pipeline import REPO_ROOT

    with Repo(str(REPO_ROOT)) as repo:
        stages = {stage.addressing.split(":")[-1] for stage in repo.index.stages}
    locked = set(YAML(typ="safe").load((REPO_ROOT / "dvc.lock").read_text())["stages"])
    assert locked - stages == set(), "entries of stages dvc.yaml no longer has (delete them from dvc.lock)"
    assert stages - locked == set()
