"""Stops the runner's process groups when the runner dies without stopping them itself.

    python -m tools.process_guard        (started by tools/run_study.py, never by hand)

The runner starts each worker (`dvc repro` of a train stage, and the stage's own process under it) in a process
group of its own, so that Ctrl-C in a terminal reaches the runner alone and the runner stops the workers in
order. If the runner is killed (`kill -9`, out of memory, a crash), nobody would stop those groups: they would
go on training as orphans, holding DVC's lock. This guard reads, on its standard input, one line per group the
runner starts ("+<pgid>") and ends ("-<pgid>"); the runner's end, however it comes, closes that pipe, and the
guard then sends every group still listed SIGINT (DVC stops its stage and leaves no partial output), and SIGKILL
to what is left after the grace period.
"""

import os
import signal
import sys
import time

GRACE_S = 20  # as run_study.STOP_GRACE_S: how long a group may take to stop after SIGINT


def alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a reused id in another user's hands: not ours
        return False
    return True


def stop(groups: set[int], grace_s: float = GRACE_S) -> None:
    for pgid in groups:
        if alive(pgid):
            os.killpg(pgid, signal.SIGINT)
    deadline = time.time() + grace_s
    while time.time() < deadline and any(alive(pgid) for pgid in groups):
        time.sleep(0.2)
    for pgid in groups:
        if alive(pgid):
            os.killpg(pgid, signal.SIGKILL)


def main() -> None:
    # the runner's own Ctrl-C, hang-up or SIGTERM must not end the guard before the pipe tells it what to do
    for ignored in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(ignored, signal.SIG_IGN)
    groups: set[int] = set()
    for line in sys.stdin:
        sign, number = line[:1], line[1:].strip()
        if number.isdecimal():
            (groups.add if sign == "+" else groups.discard)(int(number))
    stop(groups)


if __name__ == "__main__":
    main()
