"""A stage's main() in one line of error, not a traceback, when the machine refuses a write or a read."""

import errno
import sys
from contextlib import contextmanager


@contextmanager
def clear_errors(stage: str):
    """Turn an OSError (disk full, file too large, permission denied, a file missing) into one line that names
    the file; the stage's outputs are written atomically, so nothing half-written is left behind."""
    try:
        yield
    except OSError as e:
        where = f" {e.filename}:" if e.filename else ""
        hint = {errno.ENOSPC: " (the disk is full)", errno.EFBIG: " (the file is larger than the system allows)",
                errno.EDQUOT: " (over the disk quota)"}.get(e.errno, "")
        sys.exit(f"{stage}: error:{where} {e.strerror or e}{hint}; no output was half-written")
