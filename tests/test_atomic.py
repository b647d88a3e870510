"""Outputs are replaced whole or not at all, and flushed to the disk before they take the old one's place."""

import os

import pytest

from stages.lib import atomic


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_folder_is_replaced_whole_and_the_old_one_survives_a_failed_swap(tmp_path, monkeypatch):
    target = tmp_path / "run"
    target.mkdir()
    (target / "results.json").write_text("old")
    real_replace, calls = os.replace, []

    def failing_second_replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the new folder's move into place fails (disk error, kill)
            raise OSError("no space left")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing_second_replace)
    with pytest.raises(OSError):
        with atomic.atomic_dir(target) as tmp:
            (tmp / "results.json").write_text("new")
    # the old folder is back in its place, whole; the new one and every temporary folder are gone
    assert (target / "results.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]

    monkeypatch.setattr(atomic.os, "replace", real_replace)
    with atomic.atomic_dir(target) as tmp:
        (tmp / "results.json").write_text("new")
    assert (target / "results.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_files_and_folders_are_flushed_before_they_replace_the_old_ones(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
                        or real_fsync(fd))
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: events.append(("replace", str(b))) or real_replace(a, b))
    atomic.write_text(tmp_path / "a.txt", "x")
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync", "replace", "fsync"]
    assert events[0][1].endswith(".tmp") and events[2][1] == str(tmp_path)

    events.clear()
    with atomic.atomic_dir(tmp_path / "folder") as tmp:
        (tmp / "f").write_text("y")
    kinds = [kind for kind, _ in events]
    assert kinds.index("replace") > kinds.index("fsync") and kinds[-1] == "fsync"
    flushed = [path for kind, path in events if kind == "fsync"]
    assert any(path.endswith("/f") for path in flushed)


def test_leftovers_are_the_temporary_names_of_an_interrupted_write_and_nothing_else(tmp_path):
    from stages.lib import atomic

    target = tmp_path / "0.001-1"
    kept = [tmp_path / name for name in ("0.001-1", ".0.001-10.abc.tmp", "0.001-1.tmp", ".0.001-1.json")]
    left = [tmp_path / ".0.001-1.k2j3.tmp", tmp_path / ".0.001-1.x9q.old"]
    for path in kept + left:
        path.mkdir()
    assert atomic.leftovers(target) == sorted(left)
    with atomic.atomic_dir(target) as tmp:  # what the writer itself names while it works
        assert tmp in atomic.leftovers(target)
    assert atomic.leftovers(target) == sorted(left)
