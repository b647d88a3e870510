"""Where one epoch of the project's loop spends its time: python -m bench.profile_epoch

Runs one warm-up epoch, then profiles one epoch (training steps and validation) with torch.profiler and prints
the time per kind of work (convolutions, pooling, ...) and the operators with the most self time, grouped by
input shape. `make bench` prints the same grouping. Needs `dvc repro split` first.
"""

import dataclasses
import re
import time

from torch.profiler import ProfilerActivity, profile

from stages.lib import params as P
from stages.lib.data import load_tensors
from stages.lib.training import Settings, train

# (kind of work, pattern on the operator's name); the first match wins.
CATEGORIES = (
    ("convolutions", r"^aten::(mkldnn_|_)?convolution"),
    ("max-pooling", r"^aten::max_pool2d"),
    ("ReLU, Sigmoid, softmax, loss", r"^aten::(relu|threshold|clamp_min|sigmoid|_?softmax|_?log_softmax|nll_loss)"),
    ("linear layers", r"^aten::(addmm|mm|t)$"),
    ("optimizer (fused AdamW)", r"^aten::_fused_adamw|^Optimizer\."),
    ("fills, copies, indexing", r"^aten::(fill_|zero_|zeros|copy_|_to_copy|to|index|clone|empty|resize_|as_strided)"),
)
OTHER_OPERATORS = "other operators and autograd nodes"
OUTSIDE_OPERATORS = "outside any operator (Python loop)"


def profile_one_epoch(data: dict, settings: Settings, record_shapes: bool = False) -> tuple[float, dict[str, float], object]:
    """(wall seconds, {operator name: self seconds}, profiler) for one epoch after a warm-up epoch."""
    data = {**data, "test": (data["test"][0][:1], data["test"][1][:1])}  # keep the final test pass out
    one_epoch = dataclasses.replace(settings, max_epochs=1, patience=10**6)
    train(data, one_epoch)
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=record_shapes) as prof:
        train(data, one_epoch)
    wall = time.perf_counter() - start
    self_seconds = {event.key: event.self_cpu_time_total / 1e6 for event in prof.key_averages()}
    return wall, self_seconds, prof


def group_by_category(wall_s: float, self_seconds: dict[str, float]) -> dict[str, float]:
    """Seconds per kind of work; what no operator accounts for is the Python loop around them."""
    groups = {label: 0.0 for label, _ in CATEGORIES} | {OTHER_OPERATORS: 0.0}
    for name, seconds in self_seconds.items():
        label = next((label for label, pattern in CATEGORIES if re.search(pattern, name)), OTHER_OPERATORS)
        groups[label] += seconds
    groups[OUTSIDE_OPERATORS] = max(wall_s - sum(self_seconds.values()), 0.0)
    return groups


def print_groups(wall_s: float, groups: dict[str, float], notes: dict[str, str] | None = None) -> None:
    for label, seconds in groups.items():
        print(f"  {label:38s} {seconds:6.3f} s  {seconds / wall_s:4.0%}{(notes or {}).get(label, '')}")


def main() -> None:
    params = P.load_params()
    settings = Settings.on_cpu(params, 1e-3, P.training_seeds(params)[0])
    wall, self_seconds, prof = profile_one_epoch(load_tensors(), settings, record_shapes=True)
    print(f"one epoch under the profiler: {wall:.3f} s")
    print_groups(wall, group_by_category(wall, self_seconds))
    print(prof.key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=32, max_shapes_column_width=60))


if __name__ == "__main__":
    main()
