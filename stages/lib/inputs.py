"""Reading what another stage wrote (or what is committed as data): a damaged file stops the stage with one line
that names the file and how to get it back, not a traceback from the JSON or CSV parser."""

import json
from pathlib import Path

import pandas as pd

from stages.lib.cli import InputError


def _damaged(path: Path, error: Exception) -> InputError:
    what = f"{type(error).__name__}: {str(error).strip()[:200]}"
    return InputError(f"{path} cannot be read ({what}); restore the committed one with `git checkout -- {path}`, "
                      f"or make it again with `make run`")


def read_json(path: Path | str):
    path = Path(path)
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as e:  # ValueError: JSONDecodeError, UnicodeDecodeError
        raise _damaged(path, e) from None


def read_csv(path: Path | str) -> pd.DataFrame:
    path = Path(path)
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as e:  # ValueError: pandas' ParserError and EmptyDataError, UnicodeDecodeError
        raise _damaged(path, e) from None


def read_text(path: Path | str) -> str:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError) as e:
        raise _damaged(path, e) from None
