"""Reading params.yaml, and checking it before any stage starts work.

DVC rewrites params.yaml with ruamel (YAML 1.2) after `dvc exp run -S ...`, and YAML 1.2 writes
floats such as `1e-05`, which PyYAML's YAML 1.1 resolver reads as the *string* "1e-05". The loader
below adds the YAML 1.2 float rule, so both spellings load as floats.
"""

import math
import re
from pathlib import Path

import yaml

PARAMS_FILE = Path("params.yaml")
MNIST_TRAIN_IMAGES = 60_000


class ParamsError(ValueError):
    """A value in params.yaml that the study cannot run with; the message names the key."""


class _Yaml12FloatLoader(yaml.SafeLoader):
    pass


_Yaml12FloatLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
        |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)
# The float rule above also matches plain integers; keep PyYAML's int rule first for those.
for _first, _resolvers in _Yaml12FloatLoader.yaml_implicit_resolvers.items():
    _resolvers.sort(key=lambda tag_rule: tag_rule[0] != "tag:yaml.org,2002:int")


def load_params(path: Path | str = PARAMS_FILE) -> dict:
    with open(path, encoding="utf-8") as f:
        params = yaml.load(f, Loader=_Yaml12FloatLoader)
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of sections, got {type(params).__name__}")
    return params


def lookup(params: dict, key: str):
    """params["a"]["b"] for key "a.b", with an error that names the missing key."""
    node = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ParamsError(f"params.yaml: missing key {key}")
        node = node[part]
    return node


def positive_int(params: dict, key: str) -> int:
    value = lookup(params, key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParamsError(f"params.yaml: {key} must be a positive integer, got {value!r}")
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
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParamsError(f"params.yaml: {key} must be a non-negative integer, got {value!r}")
    return value


def split_seed(params: dict) -> int:
    """The seed of the train/valid draw (the split stage); training seeds are sweep.seeds."""
    return seed_value(lookup(params, "data.split_seed"), "data.split_seed")


def training_seeds(params: dict) -> list[int]:
    """The sweep's training seeds (initial weights and batch order), each one run at every LR."""
    seeds = lookup(params, "sweep.seeds")
    if not isinstance(seeds, list) or not seeds:
        raise ParamsError(f"params.yaml: sweep.seeds must be a non-empty list of training seeds, got {seeds!r}")
    values = [seed_value(s, "sweep.seeds") for s in seeds]
    duplicates = sorted({s for s in values if values.count(s) > 1})
    if duplicates:
        raise ParamsError(f"params.yaml: sweep.seeds lists {', '.join(map(str, duplicates))} more than once")
    return values


def split_sizes(params: dict) -> tuple[int, int]:
    train_size = positive_int(params, "data.train_size")
    valid_size = positive_int(params, "data.valid_size")
    if train_size + valid_size > MNIST_TRAIN_IMAGES:
        raise ParamsError(
            f"params.yaml: data.train_size + data.valid_size = {train_size + valid_size} is more than the "
            f"{MNIST_TRAIN_IMAGES} MNIST training images they are drawn from"
        )
    return train_size, valid_size


def sweep_lrs(params: dict) -> list[float]:
    """The learning rates of the sweep, in params.yaml order, each checked."""
    lrs = lookup(params, "sweep.lrs")
    if not isinstance(lrs, list) or not lrs:
        raise ParamsError(f"params.yaml: sweep.lrs must be a non-empty list of learning rates, got {lrs!r}")
    values = [positive_float({"lr": lr}, "lr") for lr in lrs]
    names = [lr_name(lr) for lr in values]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ParamsError(f"params.yaml: sweep.lrs lists {', '.join(duplicates)} more than once")
    return values


def lr_name(lr: float) -> str:
    """How DVC spells a learning rate in a stage name: Python's str() of the float YAML loaded."""
    return str(float(lr))


def run_name(lr: float, seed: int) -> str:
    """The name DVC gives the matrix item (`train@<lr>-<seed>`): str() of each value, joined by '-'."""
    return f"{lr_name(lr)}-{seed}"


def load_checked(stage: str, read, path: Path | str = PARAMS_FILE):
    """read(params) for a stage's main(): a bad params.yaml stops the stage with a one-line message."""
    try:
        return read(load_params(path))
    except (ParamsError, OSError, yaml.YAMLError) as e:
        raise SystemExit(f"{stage}: error: {e}") from None
