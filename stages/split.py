"""Stage split: draw the training and validation sets from MNIST's 60,000 training images.

train_size + valid_size distinct images are drawn with data.split_seed (no overlap); the test set is the
untouched 10,000-image MNIST test set. Writes the indices, the images as uint8 tensors for the train
stage, and the class counts of each split (the study relies on balanced classes).
"""

import sys

import numpy as np
import torch

from stages.lib import atomic, params as P
from stages.lib.cli import clear_errors
from stages.lib.layout import INDICES_FILE, SPLIT_DIR, SPLIT_METRICS_FILE, TENSORS_FILE
from stages.lib.mnist import RAW_DIR, SHA256, load_split, sha256_of


def draw_split(n_images: int, train_size: int, valid_size: int, seed: int) -> dict[str, list[int]]:
    """Disjoint, sorted index lists into the n_images training images."""
    drawn = np.random.default_rng(seed).permutation(n_images)[: train_size + valid_size]
    return {"train": sorted(drawn[:train_size].tolist()), "valid": sorted(drawn[train_size:].tolist())}


def class_counts(labels: np.ndarray) -> dict[str, int]:
    counts = np.bincount(labels, minlength=10)
    return {str(digit): int(n) for digit, n in enumerate(counts)}


class RawFileError(RuntimeError):
    pass


def check_raw_files(raw_dir=RAW_DIR, expected: dict = SHA256) -> None:
    """The raw files are the verified originals: a changed or truncated one is named, never read."""
    for name, sha in expected.items():
        path = raw_dir / name
        if not path.is_file():
            raise RawFileError(f"{path} is missing")
        if sha256_of(path) != sha:
            raise RawFileError(f"{path} is not the original MNIST file (its SHA-256 differs)")


def main() -> None:
    data = P.load_settings("split", P.Data)
    train_size, valid_size = data.train_size, data.valid_size
    try:
        check_raw_files()
    except RawFileError as e:
        sys.exit(f"split: error: {e}. `dvc repro` (or `make run`) downloads it again: DVC sees the download "
                 f"stage's output changed.")

    train_images, train_labels = load_split(RAW_DIR, "train")
    test_images, test_labels = load_split(RAW_DIR, "t10k")
    indices = draw_split(len(train_images), train_size, valid_size, data.split_seed)
    splits = {
        "train": (train_images[indices["train"]], train_labels[indices["train"]]),
        "valid": (train_images[indices["valid"]], train_labels[indices["valid"]]),
        "test": (test_images, test_labels),
    }

    with atomic.atomic_dir(SPLIT_DIR) as tmp:
        atomic.write_json(tmp / INDICES_FILE.name, indices)
        tensors = {}
        for name, (images, labels) in splits.items():
            tensors[f"{name}_images"] = torch.from_numpy(images.copy())
            tensors[f"{name}_labels"] = torch.from_numpy(labels.copy())
        torch.save(tensors, tmp / TENSORS_FILE.name)
    atomic.write_json(
        SPLIT_METRICS_FILE,
        {name: {"size": len(labels), "class_counts": class_counts(labels)} for name, (_, labels) in splits.items()},
    )
    print(f"split: {train_size} train / {valid_size} valid / {len(test_labels)} test images", file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("split"):
        main()
