"""The LR range test (Smith 2015/2017; fastai's `lr_find`, PyTorch Lightning's `Tuner.lr_find`), and the rules
that read an LR off its loss curve.

One short run per training seed: the sweep's model, initial weights, batch order, batch size and data, and
AdamW, while the LR rises exponentially from start_lr to end_lr, one batch per step. The loss is smoothed
with a bias-corrected running average and the test stops once that smoothed loss exceeds `divergence`
times its lowest value. Every rule reads the same curve, so the rules differ only in how they read it.

The rules, each written from its tool's published definition (fastai 2.7 `fastai.callback.schedule`:
valley, steep, minimum, slide, applied as `Learner.lr_find` applies them, to the smoothed losses without the
first tenth of the planned steps and the last 5 recorded ones; Lightning 2.x `_LRFinder.suggestion`: the
steepest descent of the smoothed loss against the LR itself, without the first 10 and the last 1).
"""

import math
import time

import numpy as np
import torch

from stages.lib.optim import AdamW
from stages.lib.training import build_model, loss_fn, to_device

STOPPED_DIVERGED = "diverged"  # the smoothed loss exceeded divergence x its minimum (or was not finite)
STOPPED_END = "end_lr"  # every planned step ran

# fastai's slide rule: window and threshold (its defaults)
SLIDE_WINDOW, SLIDE_THRESHOLD = 15, 0.005


def ramp_lr(step: int, steps: int, start_lr: float, end_lr: float) -> float:
    """The LR of step 0, 1, ..., steps - 1: start_lr * (end_lr / start_lr) ** (step / steps), as fastai's
    exponential schedule (SchedExp) sets it before each batch."""
    return start_lr * (end_lr / start_lr) ** (step / steps)


class SmoothedLoss:
    """Exponential running average of the loss with bias correction (fastai's AvgSmoothLoss, Lightning's
    beta): after n values, sum((1 - beta) * beta^k * loss_{n-k}) / (1 - beta^n)."""

    def __init__(self, beta: float):
        self.beta, self.average, self.count = beta, 0.0, 0

    def add(self, loss: float) -> float:
        self.count += 1
        self.average = self.beta * self.average + (1 - self.beta) * loss
        return self.average / (1 - self.beta**self.count)


def range_test(data: dict, seed: int, settings: dict, batch_size: int, double_softmax: bool,
               device: str = "cpu") -> dict:
    """Run the test for one training seed. settings: params.lr_find_settings. Returns {"curve": rows of
    (step, lr, loss, smoothed_loss), "stopped_by", "steps", "train_images", "seconds"}."""
    start = time.perf_counter()
    train_x, train_y = to_device(*data["train"], device)
    model = build_model(seed, device)  # the same initial weights as the sweep's runs with this seed
    model.train()
    optimizer = AdamW(model.parameters(), lr=settings["start_lr"])  # the sweep's optimizer, its defaults
    batch_order = torch.Generator().manual_seed(seed)  # the sweep's batch order for this seed
    smoothed = SmoothedLoss(settings["smoothing"])
    lowest = math.inf
    curve, stopped_by = [], STOPPED_END
    batches = iter(())
    for step in range(settings["steps"]):
        batch = next(batches, None)
        if batch is None:  # a new epoch: a new permutation, as in training
            order = torch.randperm(len(train_x), generator=batch_order).to(device)
            batches = iter(order.split(batch_size))
            batch = next(batches)
        lr = ramp_lr(step, settings["steps"], settings["start_lr"], settings["end_lr"])
        optimizer.set_lr(lr)
        loss = loss_fn(model, train_x[batch], train_y[batch], double_softmax)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = loss.item()
        smooth = smoothed.add(value)
        curve.append({"step": step, "lr": lr, "loss": value, "smoothed_loss": smooth})
        lowest = min(lowest, smooth)
        if not math.isfinite(smooth) or smooth > settings["divergence"] * lowest:
            stopped_by = STOPPED_DIVERGED
            break
    return {"curve": curve, "stopped_by": stopped_by, "steps": len(curve),
            "train_images": len(curve) * batch_size, "seconds": time.perf_counter() - start}


# The rules. Each takes the recorded LRs and smoothed losses (numpy arrays, in step order) and the planned number
# of steps, trims them as its tool does, and returns the suggested LR, or None when too little curve is left.

def _fastai_trim(lrs: np.ndarray, losses: np.ndarray, planned_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Learner.lr_find: skip the first tenth of the planned steps and the last 5 recorded; cut at the first NaN."""
    lrs, losses = lrs[planned_steps // 10 : -5], losses[planned_steps // 10 : -5]
    finite = np.isfinite(losses)
    if not finite.all():
        first_bad = int(np.argmin(finite))
        lrs, losses = lrs[:first_bad], losses[:first_bad]
    return lrs, losses


def fastai_valley(lrs, losses, planned_steps: int) -> float | None:
    """fastai `valley` (the default since fastai 2.5): the longest valley is the longest run of ever lower
    losses (a strictly decreasing subsequence); the suggestion sits at its start plus a third plus a sixth of
    its length, i.e. about half way down the valley."""
    lrs, losses = _fastai_trim(np.asarray(lrs), np.asarray(losses), planned_steps)
    if len(losses) < 2:
        return None
    length = [1] * len(losses)  # length[i]: the longest decreasing subsequence that ends at i
    for i in range(1, len(losses)):
        for j in range(i):
            if losses[i] < losses[j]:
                length[i] = max(length[i], length[j] + 1)
    end = int(np.argmax(length))  # the first of the longest
    start = end - length[end]  # fastai counts the valley back from its end by its length
    third = length[end] / 3
    return float(lrs[max(start + int(third) + int(third / 2), 0)])


def fastai_steep(lrs, losses, planned_steps: int) -> float | None:
    """fastai `steep`: the LR where the loss falls fastest per unit of log(LR) (forward differences)."""
    lrs, losses = _fastai_trim(np.asarray(lrs), np.asarray(losses), planned_steps)
    if len(losses) < 2:
        return None
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    return float(lrs[int(np.argmin(slopes))])


def fastai_minimum(lrs, losses, planned_steps: int) -> float | None:
    """fastai `minimum` (the "minimum / 10" rule of the fastai course): a tenth of the LR at the lowest loss."""
    lrs, losses = _fastai_trim(np.asarray(lrs), np.asarray(losses), planned_steps)
    if len(losses) < 1:
        return None
    return float(lrs[int(np.argmin(losses))] / 10)


def fastai_slide(lrs, losses, planned_steps: int) -> float | None:
    """fastai `slide` (the interval slide rule): from the end of the curve, slide a window of 15 steps to the
    left while the loss's slopes (per step) at its two ends differ by more than 0.005; the suggestion is the
    window's left end where they last differed (or the first window's left end)."""
    lrs, losses = _fastai_trim(np.asarray(lrs), np.asarray(losses), planned_steps)
    if len(losses) <= SLIDE_WINDOW:
        return None
    slope = np.gradient(losses)
    right, left = len(losses) - 1, len(losses) - 1 - SLIDE_WINDOW
    suggestion = lrs[left]
    while left >= 0 and abs(slope[right] - slope[left]) > SLIDE_THRESHOLD:
        suggestion = lrs[left]
        right, left = right - 1, left - 1
    return float(suggestion)


def lightning_steepest(lrs, losses, planned_steps: int) -> float | None:
    """Lightning `Tuner.lr_find` suggestion: skip the first 10 and the last 1 points, drop non-finite losses,
    and take the LR where the loss's gradient with respect to the LR itself (not its log; central differences
    on the uneven LR spacing) is most negative."""
    lrs, losses = np.asarray(lrs)[10:-1], np.asarray(losses)[10:-1]
    finite = np.isfinite(losses)
    lrs, losses = lrs[finite], losses[finite]
    if len(losses) < 2:
        return None
    return float(lrs[int(np.argmin(np.gradient(losses, lrs)))])


RULES = {  # name: (rule, what it is, in one line)
    "valley": (fastai_valley, "fastai's default: about half way down the longest stretch of falling loss"),
    "steep": (fastai_steep, "fastai: where the loss falls fastest per decade of LR"),
    "minimum/10": (fastai_minimum, "fastai: a tenth of the LR with the lowest loss"),
    "slide": (fastai_slide, "fastai: the interval slide rule (window 15, threshold 0.005)"),
    "lightning": (lightning_steepest, "PyTorch Lightning: steepest descent of the loss against the LR"),
}


def suggestions(curve: list[dict], planned_steps: int) -> dict[str, float | None]:
    """Every rule's suggestion from one seed's curve."""
    lrs = np.array([row["lr"] for row in curve], dtype=float)
    losses = np.array([row["smoothed_loss"] for row in curve], dtype=float)
    return {name: rule(lrs, losses, planned_steps) for name, (rule, _) in RULES.items()}
