"""Write outputs so that an interrupted stage never leaves a half-written file behind.

Everything is written to a temporary name in the same directory, flushed to the disk (fsync), then
renamed into place, and the directory flushed too: a reader (DVC, a user, the next stage) sees either
the old file or the complete new one, even after a crash or a power cut.
"""

import glob
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


# The temporary names beside an output while it is written: `.<name>.<random>.tmp` (the new version) and, for a
# folder, `.<name>.<random>.old` (the old one, moved aside for the moment of the swap).
TMP_SUFFIX, OLD_SUFFIX = ".tmp", ".old"


def leftovers(path: Path | str) -> list[Path]:
    """What an interrupted write of `path` left beside it: a process killed while writing (SIGKILL, a power cut)
    cannot clean up its temporary names. Safe to delete when nothing is writing `path`."""
    path = Path(path)
    pattern = f".{glob.escape(path.name)}.*"
    return sorted(p for suffix in (TMP_SUFFIX, OLD_SUFFIX) for p in path.parent.glob(pattern + suffix))


def _default_mode(base: int) -> int:
    """mkstemp/mkdtemp create private (0600/0700) entries; give outputs the usual umask mode."""
    umask = os.umask(0)
    os.umask(umask)
    return base & ~umask


def _fsync(path: Path) -> None:
    """Flush a file's or a directory's contents to the disk (a directory: the names in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync(Path(folder) / name)
        _fsync(Path(folder))


@contextmanager
def atomic_path(path: Path | str):
    """Yield a temporary path next to `path`; on success rename it to `path`, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode(0o666))
        _fsync(Path(tmp))
        os.replace(tmp, path)
        _fsync(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path: Path | str):
    """Yield an empty temporary directory next to `path`; on success it replaces `path` whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, _default_mode(0o777))
        _fsync_tree(tmp)
        # Move an old version aside first, so that `path` is always either the old or the new whole folder.
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=OLD_SUFFIX, dir=path.parent))
            os.replace(path, old / path.name)
        try:
            os.replace(tmp, path)
        except BaseException:
            if old is not None:  # put the old version back: never no folder at all
                os.replace(old / path.name, path)
                old.rmdir()
            raise
        _fsync(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path: Path | str, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path | str, data) -> None:
    write_text(path, json.dumps(data, indent=2) + "\n")
