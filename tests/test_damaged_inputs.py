"""Every file the final stages read may be damaged (a copy cut short, an edit gone wrong): the stage stops with one
line naming the file and how to get it back, writes nothing, and leaves no traceback. Real stages, run on a copy of
the committed results."""

import shutil
import subprocess
import sys

import pytest

from stages.lib import paths
from stages.lib.experiment_paths import CONCLUSIONS_PER_LR_CSV, SUMMARY_JSON, VERIFY_JSON
from stages.lib.layout import SPLIT_METRICS_FILE
from tests.pipeline import REPO_ROOT

# (stage, a file it reads, how it is damaged, what the stage would write)
CASES = [
    ("conclude", paths.ABLATION_RUNS_CSV, b'lr,seed\n"0.001,\n1,2,3,4\n', SUMMARY_JSON),
    ("conclude", SPLIT_METRICS_FILE, b'{"train": {"size": 30', SUMMARY_JSON),
    ("answer", SUMMARY_JSON, b"", paths.Path("metrics/answer.json")),
    ("score_lr_find", paths.LR_FIND_SUGGESTIONS_CSV, b"\xff\xfe\x00garbage", paths.LR_FIND_SCORES_CSV),
    ("plot", paths.SWEEP_JSON, b'{"best": ', paths.PLOTS_DIR / paths.FIGURE_NAMES[0]),
    ("conclude", VERIFY_JSON, b"[1, 2", SUMMARY_JSON),
    ("report", paths.LR_FIND_SUMMARY_JSON, b'{"rules": ', paths.REPORT),
    ("report", CONCLUSIONS_PER_LR_CSV, b"", paths.REPORT),
]


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """The committed results and what the final stages read, without the 230 runs."""
    copy = tmp_path_factory.mktemp("committed")
    for name in ("metrics", "plots", "params.yaml", "REPORT.md"):
        source, dest = REPO_ROOT / name, copy / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, dest)
    return copy


@pytest.mark.parametrize("stage, damaged, content, output", CASES, ids=[f"{c[0]}-{c[1].name}" for c in CASES])
def test_a_damaged_input_stops_the_stage_with_one_line(tmp_path, committed, stage, damaged, content, output):
    work = tmp_path / "work"
    shutil.copytree(committed, work)
    (work / damaged).write_bytes(content)
    before = (work / output).read_bytes() if (work / output).exists() else None
    done = subprocess.run([sys.executable, "-m", f"stages.{stage}"], cwd=work, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "MPLBACKEND": "Agg"})
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{stage}: error: {damaged} cannot be read (")
    assert lines[0].endswith(f"restore the committed one with `git checkout -- {damaged}`, or make it again with "
                             "`make run`")
    assert ((work / output).read_bytes() if (work / output).exists() else None) == before  # nothing written
