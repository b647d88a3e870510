"""Faults a stage meets on a real machine: a full disk (here: a file-size limit, the same error path without
needing root to mount a small filesystem). A clear one-line error, and no output half-written."""

import json
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.committed import committed_params_text
from tests.synthetic import write_run

REPO_ROOT = Path(__file__).resolve().parents[1]


def limit_file_size(max_bytes: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    return apply


def test_a_full_disk_while_aggregating_gives_one_line_and_keeps_the_old_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO_ROOT / "stages", tmp_path / "stages")
    params = committed_params_text().replace("seeds: [0, 1, 2, 3, 4]", "seeds: [0, 1, 2]")
    (tmp_path / "params.yaml").write_text(params)
    lrs = [float(line.strip(" -")) for line in params.split("lrs:")[1].splitlines() if line.strip().startswith("-")]
    for lr in lrs:
        for seed in range(3):
            write_run(lr, seed, 0.9 + seed / 100)
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "sweep.json").write_text('{"old": true}\n')

    result = subprocess.run([sys.executable, "-m", "stages.aggregate"], cwd=tmp_path, capture_output=True,
                            text=True, preexec_fn=limit_file_size(5_000), timeout=300)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("aggregate: error: ") and "larger than the system allows" in last, last
    assert "no output was half-written" in last
    # the old output is untouched, and no temporary file is left next to it
    assert json.loads((metrics / "sweep.json").read_text()) == {"old": True}
    assert sorted(p.name for p in metrics.iterdir()) == ["sweep.json"]

    # with room to write, the same stage succeeds
    done = subprocess.run([sys.executable, "-m", "stages.aggregate"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads((metrics / "sweep.json").read_text())["sweep"]["runs"] == len(lrs) * 3
