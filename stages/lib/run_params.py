"""Reading params.yaml the way DVC does, checking it key by key, and the sections a run is made under (data, model,
train): the part of the schema the train stage depends on.

DVC reads params.yaml with ruamel.yaml's safe loader (YAML 1.2), names stages from the values it reads,
and rewrites the file with ruamel after `dvc exp run -S`. Reading it any other way (PyYAML is YAML 1.1:
`yes` is true, `010` is 8, `1:30` is 90, `1e-05` is a string) would make a stage see other values than
DVC does. Every key is checked (a typo is an error, never ignored), by `check`.

The schema: one dataclass per section, each field a key of params.yaml with the function that checks it and whether
every run records it. The sections of the study as a whole (sweep, analysis, lr_find) and the check of the whole file
live in stages/lib/params.py, so that a new analysis setting never makes the 230 runs stale. A new run setting is a
line in its section here, its value in params.yaml, and the code that uses it.
"""


import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import ClassVar

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


def check(params: dict, sections: tuple, whole_file: bool) -> dict:
    """Every key of these sections (schema classes): known, present and valid; whole_file: and no other section.
    Returns params unchanged."""
    keys_of = {section.NAME: tuple(f.name for f in fields(section)) for section in sections}
    unknown = [name for name in params if name not in keys_of] if whole_file else []
    for name, keys in keys_of.items():
        node = params.get(name)
        if isinstance(node, dict):
            unknown += [f"{name}.{key}" for key in node if key not in keys]
    if unknown:
        known = "; ".join(f"{name}: {', '.join(keys)}" for name, keys in keys_of.items())
        raise ParamsError(f"params.yaml: unknown key {', '.join(unknown)} (a typo?). The keys are {known}")
    for section in sections:
        read(params, section)
    return params


def read(params: dict, section: type):
    """A section of params.yaml as its schema's typed settings, every key checked (the section's own rules, which
    relate its keys, in its __post_init__)."""
    name = section.NAME
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


def lr_name(lr: float) -> str:
    """How DVC spells a learning rate in a stage name: Python's str() of the float YAML loaded."""
    return str(float(lr))


def run_name(lr: float, seed: int) -> str:
    """The name DVC gives the matrix item (`train@<lr>-<seed>`): str() of each value, joined by '-'."""
    return f"{lr_name(lr)}-{seed}"


def parse_run_name(name: str) -> tuple[float, int]:
    """(lr, seed) of a run named as DVC names it (run_name), e.g. 0.001-3 or 1e-06-0. Only that exact spelling: the
    name is also the run's folder. Which runs a study has is the sweep's business (params.py), not the run's."""
    lr_text, _, seed_text = name.rpartition("-")
    example = "e.g. 0.001-3 or 1e-06-0"
    try:
        lr = float(lr_text)
    except ValueError:
        raise ParamsError(f"{name!r} is not a run name <lr>-<seed> ({example})") from None
    if not seed_text.isdigit() or not math.isfinite(lr) or not 0 < lr <= MAX_LR:
        raise ParamsError(f"{name!r} is not a run name <lr>-<seed> with 0 < lr <= {MAX_LR:g} ({example})")
    seed = seed_value(seed_text, "the run's seed")
    if run_name(lr, seed) != name:
        raise ParamsError(f"{name!r} is not spelled as DVC names the run: {run_name(lr, seed)}")
    return lr, seed


def load_checked(stage: str, read, sections: tuple = (), path: Path | str = PARAMS_FILE, whole_file: bool = False):
    """read(params) for a stage's main(), after checking these sections of params.yaml (whole_file: and that it holds
    no other): a bad value, a typo in a key or an unreadable file stops the stage with a one-line message."""
    try:
        return read(check(load_params(path), sections, whole_file))
    except (ParamsError, OSError) as e:
        raise SystemExit(f"{stage}: error: {e}") from None


# --- the sections a run is made under ------------------------------------------------------------------------

def setting(check, *, recorded: bool = False, **options):
    """A key of its section: check(params, "section.key", **options) returns its value or raises ParamsError;
    recorded: every run writes it into its results.json, and a sweep's runs must agree on it."""
    return field(metadata={"check": check, "options": options, "recorded": recorded})


@dataclass(frozen=True)
class Data:
    NAME: ClassVar[str] = "data"
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
    NAME: ClassVar[str] = "model"
    double_softmax: bool = setting(flag, recorded=True)


@dataclass(frozen=True)
class Train:
    NAME: ClassVar[str] = "train"
    batch_size: int = setting(positive_int, recorded=True, at_most=MNIST_TRAIN_IMAGES)
    patience: int = setting(positive_int, recorded=True, at_most=MAX_EPOCHS)
    max_epochs: int = setting(positive_int, recorded=True, at_most=MAX_EPOCHS)
    device: str = setting(choice, allowed=DEVICES)  # a run records the device it ran on instead
    precision: str = setting(choice, recorded=True, allowed=PRECISIONS)
    threads: int = setting(threads)  # how fast, not what: a run records the threads it had
    save_weights: bool = setting(flag)  # keep the best weights (model.pt) in the run's folder; nothing reads them


RUN_SECTIONS = (Data, Model, Train)
# What a run is made under besides its LR and seed: each run records them, a sweep's runs agree on them.
RECORDED = tuple(f.name for section in RUN_SECTIONS for f in fields(section) if f.metadata["recorded"])
