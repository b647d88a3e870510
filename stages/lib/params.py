"""All of params.yaml: the study's sections (sweep, analysis, lr_find) beside the sections a run is made under, and
the check of the whole file that every stage but train makes before it starts work.

Reading params.yaml the way DVC does, the checks of single keys and the run's sections (data, model, train) live in
stages/lib/run_params.py, the only part of the schema the train stage depends on: a new setting of the study here
never makes the runs stale. One dataclass per section, each field a key with the function that checks it; from them
come the keys a section may hold, the check of the whole file and a stage's typed settings (`read(params, Analysis)`).
A new setting is a line in its section, its value in params.yaml, and the code that uses it.
"""

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

from stages.lib import run_params
# The names a stage reads params.yaml with, so that it needs one import (`from stages.lib import params as P`).
from stages.lib.run_params import (  # noqa: F401
    MAX_LR, MAX_SEED, PARAMS_FILE, RECORDED, RUN_SECTIONS, Data, Model, ParamsError, Train, fraction, load_params,
    lookup, lr_name, parse_run_name, positive_float, positive_int, read, run_name, seed_value, setting)

MAX_RUNS = 100_000  # sweep.lrs x sweep.seeds: DVC writes one stage per pair into its graph
MAX_LR_FIND_STEPS = 100_000
MAX_SEEDS_PER_LR = 1_000  # the adaptive study's seed counts: past any sweep.seeds a study could run
MAX_WINDOW = 100  # grid steps


def check(params: dict) -> dict:
    """Every section and key of the schema: known, present and valid. Returns params unchanged."""
    return run_params.check(params, tuple(SECTIONS.values()), whole_file=True)


def load_checked(stage: str, read, path: Path | str = PARAMS_FILE):
    """read(params) for a stage's main(), after checking all of params.yaml: a bad value, a typo in a key or
    an unreadable file stops the stage with a one-line message."""
    return run_params.load_checked(stage, read, tuple(SECTIONS.values()), path, whole_file=True)


def load_settings(stage: str, *sections: type, path: Path | str = PARAMS_FILE):
    """A stage's typed settings, the way every stage reads them: the sections it uses (one, or a tuple in the
    order asked), after checking all of params.yaml (load_checked)."""
    values = load_checked(stage, lambda params: tuple(read(params, section) for section in sections), path)
    return values[0] if len(sections) == 1 else values


def training_seeds(params: dict, key: str = "sweep.seeds") -> list[int]:
    """The sweep's training seeds (initial weights and batch order), each one run at every LR."""
    seeds = lookup(params, key)
    if not isinstance(seeds, list) or not seeds:
        raise ParamsError(f"params.yaml: sweep.seeds must be a non-empty list of training seeds, got {seeds!r}")
    for seed in seeds:  # DVC names the stage train@<lr>-<str(seed)>: a quoted '01' would not be run 1
        if isinstance(seed, str):
            raise ParamsError(f"params.yaml: sweep.seeds must hold integers without quotes, got {seed!r}")
    values = [seed_value(s, "sweep.seeds") for s in seeds]
    duplicates = sorted({s for s in values if values.count(s) > 1})
    if duplicates:
        raise ParamsError(f"params.yaml: sweep.seeds lists {', '.join(map(str, duplicates))} more than once")
    return values


def sweep_lrs(params: dict, key: str = "sweep.lrs") -> list[float]:
    """The learning rates of the sweep, in params.yaml order, each checked."""
    lrs = lookup(params, key)
    if not isinstance(lrs, list) or not lrs:
        raise ParamsError(f"params.yaml: sweep.lrs must be a non-empty list of learning rates, got {lrs!r}")
    values = [sweep_lr(lr) for lr in lrs]
    names = [lr_name(lr) for lr in values]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ParamsError(f"params.yaml: sweep.lrs lists {', '.join(duplicates)} more than once")
    return values


def sweep_lr(value) -> float:
    """One LR of sweep.lrs, as DVC will spell it in the stage name: it must be a float in the YAML itself."""
    if isinstance(value, str):
        raise ParamsError(f"params.yaml: sweep.lrs holds the text {value!r}; write the number without quotes")
    if isinstance(value, int) and not isinstance(value, bool):
        raise ParamsError(f"params.yaml: sweep.lrs holds the integer {value}: DVC would name its stages "
                          f"train@{value}-<seed>, the runs {float(value)}; write {float(value)}")
    if isinstance(value, bool) or not isinstance(value, float) or not math.isfinite(value) or not 0 < value <= MAX_LR:
        raise ParamsError(f"params.yaml: sweep.lrs must hold positive numbers up to {MAX_LR:g}, got {value!r}")
    return value


# --- the study's sections --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sweep:
    NAME: ClassVar[str] = "sweep"
    seeds: list = setting(training_seeds)
    lrs: list = setting(sweep_lrs)

    def __post_init__(self):
        runs = len(self.lrs) * len(self.seeds)
        if runs > MAX_RUNS:
            raise ParamsError(f"params.yaml: sweep.lrs x sweep.seeds makes {runs:,} runs, more than the "
                              f"{MAX_RUNS:,} one study can hold (one DVC stage each)")


@dataclass(frozen=True)
class Analysis:
    NAME: ClassVar[str] = "analysis"
    tolerance: float = setting(fraction)
    chance_level: float = setting(fraction)
    learned_accuracy: float = setting(fraction)


@dataclass(frozen=True)
class LrFind:
    NAME: ClassVar[str] = "lr_find"
    start_lr: float = setting(positive_float)
    end_lr: float = setting(positive_float)
    steps: int = setting(positive_int, at_most=MAX_LR_FIND_STEPS)
    smoothing: float = setting(fraction)
    divergence: float = setting(positive_float)

    def __post_init__(self):
        if self.end_lr <= self.start_lr:
            raise ParamsError(f"params.yaml: lr_find.end_lr ({self.end_lr:g}) must be larger than lr_find.start_lr "
                              f"({self.start_lr:g})")
        if self.steps < 10:
            raise ParamsError(f"params.yaml: lr_find.steps must be at least 10 (a loss curve to read), got {self.steps}")
        if self.smoothing == 1:
            raise ParamsError("params.yaml: lr_find.smoothing must be below 1 (1 would never move the average)")
        if self.divergence <= 1:
            raise ParamsError(f"params.yaml: lr_find.divergence must be above 1 (a multiple of the lowest loss), "
                              f"got {self.divergence:g}")


@dataclass(frozen=True)
class Adaptive:
    """The sequential study (stages/lib/adaptive.py, make replay): how it spends seeds. Its cap is sweep.seeds."""
    NAME: ClassVar[str] = "adaptive"
    first_seeds: int = setting(positive_int, at_most=MAX_SEEDS_PER_LR)
    edge_seeds: int = setting(positive_int, at_most=MAX_SEEDS_PER_LR)
    window: int = setting(positive_int, at_most=MAX_WINDOW)


SECTIONS = {section.NAME: section for section in (*RUN_SECTIONS, Sweep, Analysis, LrFind, Adaptive)}
# Every key params.yaml holds, by section: anything else is a typo.
SCHEMA = {name: tuple(f.name for f in fields(section)) for name, section in SECTIONS.items()}
