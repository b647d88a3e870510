"""The split's tensors, as the train stage reads them.

The split stage stores uint8 images once (data/split/tensors.pt) so that every train stage starts
in a fraction of a second: no IDX parsing, no per-image transforms, no DataLoader.
"""

from pathlib import Path

import torch

from stages.lib.cli import InputError
from stages.lib.layout import TENSORS_FILE

SPLITS = ("train", "valid", "test")


def normalize(images_uint8: torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32, exactly ToTensor() then Normalize((0.5,), (0.5,))."""
    return images_uint8.unsqueeze(1).float().div(255).sub(0.5).div(0.5)


def load_tensors(path: Path | str = TENSORS_FILE) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{"train": (images, labels), "valid": ..., "test": ...}, images normalised float32, labels int64."""
    try:
        stored = torch.load(path, weights_only=True)
        return {split: (normalize(stored[f"{split}_images"]), stored[f"{split}_labels"].long()) for split in SPLITS}
    except Exception as e:  # noqa: BLE001 - whatever torch raises on a damaged file: say which file, and the fix
        raise InputError(f"{path} cannot be read ({type(e).__name__}: {str(e)[:200]}); `dvc repro` writes it "
                         f"again (the split stage)") from None
