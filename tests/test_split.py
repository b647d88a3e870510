import hashlib

import numpy as np
import pytest

from stages.lib.mnist import load_split, read_idx
from stages.split import class_counts, draw_split


def test_split_is_deterministic_disjoint_and_sized():
    first = draw_split(60_000, 3000, 5000, seed=20250302)
    again = draw_split(60_000, 3000, 5000, seed=20250302)
    assert first == again
    assert len(first["train"]) == 3000 and len(first["valid"]) == 5000
    assert len(set(first["train"])) == 3000 and len(set(first["valid"])) == 5000
    assert not set(first["train"]) & set(first["valid"])
    assert all(0 <= i < 60_000 for i in first["train"] + first["valid"])
    assert first["train"] == sorted(first["train"])
    assert draw_split(60_000, 3000, 5000, seed=1) != first


def test_whole_set_can_be_drawn():
    split = draw_split(10, 4, 6, seed=0)
    assert sorted(split["train"] + split["valid"]) == list(range(10))


def test_class_counts():
    assert class_counts(np.array([0, 1, 1, 9], dtype=np.uint8)) == {
        "0": 1, "1": 2, "2": 0, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0, "9": 1}


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_read_idx_round_trip(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.uint64).reshape(3, 28, 28) % 256
    labels = np.array([3, 1, 4])
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    got_images, got_labels = load_split(tmp_path, "train")
    assert got_images.shape == (3, 28, 28) and got_images.dtype == np.uint8
    assert (got_images == images).all() and (got_labels == labels).all()


def test_read_idx_rejects_other_files(tmp_path):
    (tmp_path / "x").write_bytes(b"\x1f\x8b\x08\x00 gzip, not idx")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "x")
    write_idx(tmp_path / "y", np.zeros((2, 2)))
    (tmp_path / "y").write_bytes((tmp_path / "y").read_bytes()[:-1])
    with pytest.raises(ValueError, match="size does not match"):
        read_idx(tmp_path / "y")


def test_a_changed_or_truncated_raw_file_is_named_before_it_is_read(tmp_path):
    from stages.split import RawFileError, check_raw_files
    contents = {"a-idx1-ubyte": b"one" * 10, "b-idx3-ubyte": b"two" * 10}
    expected = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    check_raw_files(tmp_path, expected)
    (tmp_path / "b-idx3-ubyte").write_bytes(contents["b-idx3-ubyte"][:7])
    with pytest.raises(RawFileError, match=r"b-idx3-ubyte is not the original MNIST file"):
        check_raw_files(tmp_path, expected)
    (tmp_path / "a-idx1-ubyte").unlink()
    with pytest.raises(RawFileError, match=r"a-idx1-ubyte is missing"):
        check_raw_files(tmp_path, expected)
