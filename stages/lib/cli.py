"""A stage's main() in one line of error, not a traceback, when the machine refuses a write or a read, or a file it
reads is damaged."""

import errno
import sys
from contextlib import contextmanager


class InputError(Exception):
    """A file a stage reads that is missing or cannot be parsed; the message names it and says what to do
    (stages/lib/inputs.py raises it)."""


@contextmanager
def clear_errors(stage: str):
    """Turn an OSError (disk full, file too large, permission denied, a file missing) into one line that names
    the file; the stage's outputs are written atomically, so nothing half-written is left behind."""
    try:
        yield
    except InputError as e:
        sys.exit(f"{stage}: error: {e}")
    except OSError as e:
        where = f" {e.filename}:" if e.filename else ""
        hint = {errno.ENOSPC: " (the disk is full)", errno.EFBIG: " (the file is larger than the system allows)",
                errno.EDQUOT: " (over the disk quota)"}.get(e.errno, "")
        sys.exit(f"{stage}: error:{where} {e.strerror or e}{hint}; no output was half-written")
