"""Reading params.yaml the way DVC does, and checking all of it before any stage starts work.

DVC reads params.yaml with ruamel.yaml's safe loader (YAML 1.2), names stages from the values it reads,
and rewrites the file with ruamel after `dvc exp run -S`. Reading it any other way (PyYAML is YAML 1.1:
`yes` is true, `010` is 8, `1:30` is 90, `1e-05` is a string) would make a stage see other values than
DVC does. Every key is checked (a typo is an error, never ignored) in one place, `check`.

The schema: one dataclass per section (Data, Model, Train, Sweep, Analysis, LrFind below), each field a key of
params.yaml with the function that checks it and whether every run records it. From it come the keys a section may
hold, the check of the whole file, a stage's typed settings (`read(params, Train)`), the settings a run records in
its results.json (RECORDED: stages/lib/training.py echoes them) and the settings a sweep's runs must agree on
(stages/aggregate.py). A new setting is a line in its section here, its value in params.yaml, and the code that
uses it.
"""

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from ruamel.yaml import YAML, YAMLError

PARAMS_FILE = Path("params.yaml")
MNIST_TRAIN_IMAGES = 60_000
DEVICES = ("auto", "cpu", "cuda")
# Upper bounds: a value past them is a typo, and would otherwise reach torch as an overflow traceback (a seed
# past 2**63, 10**10 threads) or run for ever. Each is far above anything the study could mean.
MAX_SEED = 2**63 - 1  # torch.manual_seed and torch.Generator take a signed 64-bit seed
MAX_THREADS = 4096
MAX_EPOCHS = 1_000_000
MAX_LR = 10.0
MAX_RUNS = 100_000  # sweep.lrs x sweep.seeds: DVC writes one stage per pair into its graph
MAX_LR_FIND_STEPS = 100_000
PRECISIONS = ("fp32", "bf16")


class ParamsError(ValueError):
    """A value in params.yaml that the study cannot run with; the message names the key."""


def load_params(path: Path | str = PARAMS_FILE) -> dict:
    """params.yaml as DVC reads it (ruamel.yaml, safe, YAML 1.2)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        params = YAML(typ="safe").load(text)
    except YAMLError as e:
        raise ParamsError(f"{path} is not valid YAML: {e}") from None
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of sections, got {type(params).__name__}")
    return params


def check(params: dict) -> dict:
    """Every section and key of the schema: known, present and valid. Returns params unchanged."""
    unknown = [f"{section}" for section in params if section not in SECTIONS]
    for section, keys in SCHEMA.items():
        node = params.get(section)
        if isinstance(node, dict):
            unknown += [f"{section}.{key}" for key in node if key not in keys]
    if unknown:
        known = "; ".join(f"{section}: {', '.join(keys)}" for section, keys in SCHEMA.items())
        raise ParamsError(f"params.yaml: unknown key {', '.join(unknown)} (a typo?). The keys are {known}")
    for section in SECTIONS.values():
        read(params, section)
    return params


def read(params: dict, section: type):
    """A section of params.yaml as its schema's typed settings, every key checked (the section's own rules, which
    relate its keys, in its __post_init__)."""
    name = SECTION_NAMES[section]
    return section(**{f.name: f.metadata["check"](params, f"{name}.{f.name}", **f.metadata["options"])
                      for f in fields(section)})


def lookup(params: dict, key: str):
    """params["a"]["b"] for key "a.b", with an error that names the missing key."""
    node = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ParamsError(f"params.yaml: missing key {key}")
        node = node[part]
    return node


def positive_int(params: dict, key: str, at_most: int | None = None) -> int:
    value = lookup(params, key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParamsError(f"params.yaml: {key} must be a positive integer, got {value!r}")
    if at_most is not None and value > at_most:
        raise ParamsError(f"params.yaml: {key} must be at most {at_most:,}, got {value:,}")
    return value


def positive_float(params: dict, key: str) -> float:
    value = lookup(params, key)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamsError(f"params.yaml: {key} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ParamsError(f"params.yaml: {key} must be a positive finite number, got {value!r}")
    return float(value)


def fraction(params: dict, key: str) -> float:
    value = lookup(params, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ParamsError(f"params.yaml: {key} must be a number between 0 and 1, got {value!r}")
    return float(value)


def choice(params: dict, key: str, allowed: tuple) -> str:
    value = lookup(params, key)
    if value not in allowed:
        raise ParamsError(f"params.yaml: {key} must be one of {', '.join(map(str, allowed))}; got {value!r}")
    return value


def flag(params: dict, key: str) -> bool:
    value = lookup(params, key)
    if not isinstance(value, bool):
        raise ParamsError(f"params.yaml: {key} must be true or false, got {value!r}")
    return value


def seed_value(value, key: str) -> int:
    """A random seed: a non-negative integer (a string of digits too, as on a stage's command line)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise ParamsError(f"params.yaml: {key} must be an integer from 0 to 2**63 - 1, got {value!r}")
    return value


def threads(params: dict, key: str = "train.threads") -> int:
    value = lookup(params, key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_THREADS:
        raise ParamsError(f"params.yaml: train.threads must be 0 (PyTorch's default) or a number of threads up to "
                          f"{MAX_THREADS}, got {value!r}")
    return value


def split_seed(params: dict, key: str = "data.split_seed") -> int:
    """The seed of the train/valid draw (the split stage); training seeds are sweep.seeds."""
    return seed_value(lookup(params, key), key)


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


def sweep_size(params: dict) -> int:
    """The number of train stages: one per LR and seed."""
    sweep = read(params, Sweep)
    return len(sweep.lrs) * len(sweep.seeds)


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


def lr_name(lr: float) -> str:
    """How DVC spells a learning rate in a stage name: Python's str() of the float YAML loaded."""
    return str(float(lr))


def run_name(lr: float, seed: int) -> str:
    """The name DVC gives the matrix item (`train@<lr>-<seed>`): str() of each value, joined by '-'."""
    return f"{lr_name(lr)}-{seed}"


def load_settings(stage: str, *sections: type, path: Path | str = PARAMS_FILE):
    """A stage's typed settings, the way every stage reads them: the sections it uses (one, or a tuple in the
    order asked), after checking all of params.yaml (load_checked)."""
    values = load_checked(stage, lambda params: tuple(read(params, section) for section in sections), path)
    return values[0] if len(sections) == 1 else values


def load_checked(stage: str, read, path: Path | str = PARAMS_FILE):
    """read(params) for a stage's main(), after checking all of params.yaml: a bad value, a typo in a key or
    an unreadable file stops the stage with a one-line message."""
    try:
        return read(check(load_params(path)))
    except (ParamsError, OSError) as e:
        raise SystemExit(f"{stage}: error: {e}") from None


def lr_find_settings(params: dict) -> dict:
    """The LR range test's settings (section lr_find), checked: an LR ramp from start_lr up to end_lr."""
    return vars(read(params, LrFind))


# --- the schema: one dataclass per section of params.yaml -------------------------------------------------------

def setting(check, *, recorded: bool = False, **options):
    """A key of its section: check(params, "section.key", **options) returns its value or raises ParamsError;
    recorded: every run writes it into its results.json, and a sweep's runs must agree on it."""
    return field(metadata={"check": check, "options": options, "recorded": recorded})


@dataclass(frozen=True)
class Data:
    split_seed: int = setting(split_seed)  # the train/valid draw only
    train_size: int = setting(positive_int, recorded=True)
    valid_size: int = setting(positive_int, recorded=True)

    def __post_init__(self):
        if self.train_size + self.valid_size > MNIST_TRAIN_IMAGES:
            raise ParamsError(
                f"params.yaml: data.train_size + data.valid_size = {self.train_size + self.valid_size} is more than "
                f"the {MNIST_TRAIN_IMAGES} MNIST training images they are drawn from")


@dataclass(frozen=True)
class Model:
    double_softmax: bool = setting(flag, recorded=True)


@dataclass(frozen=True)
class Train:
    batch_size: int = setting(positive_int, recorded=True, at_most=MNIST_TRAIN_IMAGES)
    patience: int = setting(positive_int, recorded=True, at_most=MAX_EPOCHS)
    max_epochs: int = setting(positive_int, recorded=True, at_most=MAX_EPOCHS)
    device: str = setting(choice, allowed=DEVICES)  # a run records the device it ran on instead
    precision: str = setting(choice, recorded=True, allowed=PRECISIONS)
    threads: int = setting(threads)  # how fast, not what: a run records the threads it had


@dataclass(frozen=True)
class Sweep:
    seeds: list = setting(training_seeds)
    lrs: list = setting(sweep_lrs)

    def __post_init__(self):
        runs = len(self.lrs) * len(self.seeds)
        if runs > MAX_RUNS:
            raise ParamsError(f"params.yaml: sweep.lrs x sweep.seeds makes {runs:,} runs, more than the "
                              f"{MAX_RUNS:,} one study can hold (one DVC stage each)")


@dataclass(frozen=True)
class Analysis:
    tolerance: float = setting(fraction)
    chance_level: float = setting(fraction)


@dataclass(frozen=True)
class LrFind:
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


SECTIONS = {"data": Data, "model": Model, "train": Train, "sweep": Sweep, "analysis": Analysis, "lr_find": LrFind}
SECTION_NAMES = {section: name for name, section in SECTIONS.items()}
# Every key params.yaml holds, by section: anything else is a typo.
SCHEMA = {name: tuple(f.name for f in fields(section)) for name, section in SECTIONS.items()}
# What a run is made under besides its LR and seed: each run records them, a sweep's runs agree on them.
RECORDED = tuple(f.name for section in SECTIONS.values() for f in fields(section) if f.metadata["recorded"])
