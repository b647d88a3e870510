"""The four original MNIST IDX files: where they live, their checksums, how to read them."""

import hashlib
from pathlib import Path

import numpy as np

# The layout torchvision.datasets.MNIST("data/raw") reads without downloading.
RAW_DIR = Path("data/raw/MNIST/raw")

# SHA-256 of the uncompressed files.
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

_IDX_UBYTE = 0x08


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_idx(path: Path | str) -> np.ndarray:
    """An IDX file of unsigned bytes (the format of all four MNIST files) as a uint8 array."""
    data = Path(path).read_bytes()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _IDX_UBYTE:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(data) != header + int(np.prod(shape)):
        raise ValueError(f"{path}: size does not match the IDX header's shape {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load_split(raw_dir: Path | str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) and labels (N,) of split "train" (60,000) or "t10k" (10,000)."""
    raw_dir = Path(raw_dir)
    images = read_idx(raw_dir / f"{split}-images-idx3-ubyte")
    labels = read_idx(raw_dir / f"{split}-labels-idx1-ubyte")
    if len(images) != len(labels):
        raise ValueError(f"{raw_dir}: {len(images)} {split} images but {len(labels)} labels")
    return images, labels
