"""The params.yaml that is committed, for unit tests: not the workspace's, which `dvc exp apply` or a
`dvc exp run -S` in this checkout may have changed."""

import subprocess
import tempfile
from pathlib import Path

from stages.lib import params as P

REPO_ROOT = Path(__file__).resolve().parents[1]


def committed_params_text() -> str:
    shown = subprocess.run(["git", "show", "HEAD:params.yaml"], cwd=REPO_ROOT, capture_output=True, text=True)
    # outside a git checkout (an unpacked archive), the file itself is all there is
    return shown.stdout if shown.returncode == 0 else (REPO_ROOT / "params.yaml").read_text()


def committed_params(tmp_dir: Path | None = None) -> dict:
    """The committed params.yaml, loaded as DVC loads it (written to tmp_dir, or to a temporary folder)."""
    if tmp_dir is None:
        with tempfile.TemporaryDirectory() as scratch:
            return committed_params(Path(scratch))
    path = Path(tmp_dir) / "params.yaml"
    path.write_text(committed_params_text())
    return P.load_params(path)
