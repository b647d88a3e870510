"""Training one model at one fixed learning rate, with the seed's early stopping.

Plain PyTorch: the split's images sit in memory as one tensor, batches are index slices of it,
evaluation runs under inference mode. The training seed fixes the initial weights and the batch
order, so two runs with the same seed differ only in their learning rate.
"""

import math
import time
from dataclasses import dataclass, fields

import torch
from torch import nn

from stages.lib import run_params
from stages.lib.machine import cpu_name
from stages.lib.model import CNN
from stages.lib.optim import AdamW
from stages.lib.run_params import RECORDED

# Evaluation batch size, by device. On CPU, batches of ~128 keep each layer's activations in cache
# (measured: 128 is ~2x faster than 1000 here); a GPU wants large batches.
EVAL_BATCH = {"cpu": 128, "cuda": 2048}

STOPPED_EARLY = "early_stopping"
STOPPED_MAX_EPOCHS = "max_epochs"
STOPPED_DIVERGED = "diverged"


@dataclass(frozen=True)
class Settings:
    """What one run is made with: its LR and seed, and the values of the model and train sections of params.yaml it
    uses, by the schema's names (stages/lib/params.py). Those the schema marks recorded go into the run's
    results.json in this order."""
    lr: float
    seed: int
    device: str
    precision: str  # "fp32", or "bf16": autocast to bfloat16
    batch_size: int
    patience: int
    max_epochs: int
    double_softmax: bool

    @classmethod
    def of_run(cls, lr: float, seed: int, sections: dict) -> "Settings":
        """A run's settings from its LR, its seed and the checked sections' values ({name: value}), by name."""
        return cls(lr=lr, seed=seed, **{f.name: sections[f.name] for f in fields(cls) if f.name not in ("lr", "seed")})

    @classmethod
    def on_cpu(cls, params: dict, lr: float, seed: int) -> "Settings":
        """The study's settings from params.yaml (checked) for an LR and seed, on the CPU (benchmarks, tests)."""
        sections = {**vars(run_params.read(params, run_params.Model)), **vars(run_params.read(params, run_params.Train)),
                    "device": "cpu"}
        return cls.of_run(lr, seed, sections)


class EarlyStopping:
    """Counts epochs since the last strictly better validation accuracy."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best_score = -math.inf
        self.best_epoch = 0
        self.epochs_since_best = 0

    def update(self, epoch: int, score: float) -> bool:
        """Record an epoch's score; True when it is a new best (a strict improvement)."""
        if score > self.best_score:
            self.best_score, self.best_epoch, self.epochs_since_best = score, epoch, 0
            return True
        self.epochs_since_best += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.epochs_since_best >= self.patience


def resolve_device(requested: str) -> str:
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train.device is cuda, but PyTorch sees no CUDA device")
    return requested


def build_model(seed: int, device: str) -> CNN:
    """The same initial weights for every run with this seed."""
    torch.manual_seed(seed)
    return CNN().to(device=device, memory_format=torch.channels_last)


def _autocast(settings: Settings):
    return torch.autocast(
        device_type=torch.device(settings.device).type,
        dtype=torch.bfloat16,
        enabled=settings.precision == "bf16",
    )


def loss_fn(model: CNN, images: torch.Tensor, labels: torch.Tensor, double_softmax: bool) -> torch.Tensor:
    logits = model.logits(images)
    # The original notebook fed the Softmax output into CrossEntropyLoss, which applies softmax again.
    scores = torch.softmax(logits, dim=1) if double_softmax else logits
    return nn.functional.cross_entropy(scores.float(), labels)


@torch.inference_mode()
def accuracy(model: CNN, images: torch.Tensor, labels: torch.Tensor, settings: Settings) -> float:
    model.eval()
    batch = EVAL_BATCH.get(torch.device(settings.device).type, 1024)
    correct = torch.zeros((), dtype=torch.long, device=images.device)
    with _autocast(settings):
        for start in range(0, len(images), batch):
            predictions = model(images[start : start + batch]).argmax(dim=1)
            correct += (predictions == labels[start : start + batch]).sum()
    return correct.item() / len(images)


def to_device(images: torch.Tensor, labels: torch.Tensor, device: str):
    return images.to(device).contiguous(memory_format=torch.channels_last), labels.to(device)


def train(data: dict, settings: Settings, on_epoch=None) -> dict:
    """Train until early stopping, max_epochs or divergence; returns results and the best weights.

    data: {"train": (images, labels), "valid": ..., "test": ...} as stages.lib.data.load_tensors gives.
    on_epoch(row, stopper): called after each epoch with that epoch's history row.
    """
    train_x, train_y = to_device(*data["train"], settings.device)
    valid_x, valid_y = to_device(*data["valid"], settings.device)
    model = build_model(settings.seed, settings.device)
    optimizer = AdamW(model.parameters(), lr=settings.lr)
    batch_order = torch.Generator().manual_seed(settings.seed)
    stopper = EarlyStopping(settings.patience)
    best_state = _copy_state(model)
    history = []
    stopped_by = STOPPED_MAX_EPOCHS
    epochs_trained = 0

    start = time.perf_counter()
    for epoch in range(1, settings.max_epochs + 1):
        epochs_trained = epoch
        model.train()
        loss_sum = torch.zeros((), device=settings.device)
        order = torch.randperm(len(train_x), generator=batch_order).to(settings.device)
        for first in range(0, len(order), settings.batch_size):
            batch = order[first : first + settings.batch_size]
            with _autocast(settings):
                loss = loss_fn(model, train_x[batch], train_y[batch], settings.double_softmax)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(batch)
        train_loss = loss_sum.item() / len(train_x)  # one host sync per epoch
        if not math.isfinite(train_loss):  # the epoch counts and is in the history; its model is not validated
            history.append({"epoch": epoch, "train_loss": train_loss, "valid_acc": math.nan,
                            "elapsed_s": time.perf_counter() - start})
            stopped_by = STOPPED_DIVERGED
            break
        valid_acc = accuracy(model, valid_x, valid_y, settings)
        if stopper.update(epoch, valid_acc):
            best_state = _copy_state(model)
        row = {"epoch": epoch, "train_loss": train_loss, "valid_acc": valid_acc, "elapsed_s": time.perf_counter() - start}
        history.append(row)
        if on_epoch:
            on_epoch(row, stopper)
        if stopper.should_stop:
            stopped_by = STOPPED_EARLY
            break
    train_time_s = time.perf_counter() - start

    model.load_state_dict(best_state)
    if stopper.best_epoch == 0:  # diverged in the first epoch: the best model is the initial one
        stopper.best_score = accuracy(model, valid_x, valid_y, settings)
    test_acc = accuracy(model, *to_device(*data["test"], settings.device), settings)
    return {
        "results": {
            "lr": settings.lr,
            "seed": settings.seed,
            "best_valid_acc": stopper.best_score,
            "test_acc": test_acc,
            "train_time_s": round(train_time_s, 3),
            "epochs": epochs_trained,
            "best_epoch": stopper.best_epoch,
            "sec_per_epoch": round(train_time_s / max(epochs_trained, 1), 4),
            "stopped_by": stopped_by,
            "device": _device_name(settings.device),
            "threads": torch.get_num_threads(),
            "cpu": cpu_name(),
            "torch": torch.__version__,
            # the settings the run was made under (params.RECORDED), so that runs made under others can be told apart
            **{f.name: getattr(settings, f.name) for f in fields(settings) if f.name in RECORDED},
            "train_size": len(train_x),
            "valid_size": len(valid_x),
        },
        "history": history,
        "best_state": best_state,
    }


def _copy_state(model: nn.Module) -> dict:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def _device_name(device: str) -> str:
    if torch.device(device).type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"
