"""What a run's arithmetic ran on: the CPU, and the instruction set each math library dispatched to.

Two x86-64 machines with the same CPU label can round differently. PyTorch's own kernels, oneDNN (convolutions) and
MKL (matrix products) each pick code for the widest vector instructions the CPU offers (AVX-512 where it has them,
else AVX2), and two runs that picked differently part from the first epochs on. Each run records what was picked,
so that `make verify` can say before comparing whether identity is to be expected.
"""

import ctypes
import os
import platform
import re
import sys
import tempfile
from contextlib import contextmanager

import torch

# The environment variables that cap what each library may pick (read when the library loads): recorded when set.
PIN_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR")
# The instruction-set words of the libraries' own verbose lines, by library.
ONEDNN_ISA = re.compile(r"isa:([^,\n]+)")
MKL_ISA = re.compile(r"architecture (.+?), Lnx")  # e.g. "Intel(R) AVX2 enabled processors" ("Intel(R) Architecture
# processors" on AMD's CPUs: MKL's generic code)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{platform.machine()} ({os.cpu_count()} cores)"


def math_dispatch(device: str) -> dict:
    """{"cpu_capability", "onednn_isa", "mkl_isa", "isa_pins"}: what PyTorch, oneDNN and MKL run on this CPU (each
    library's own words; null where it said nothing), and the pins set in the environment. On a GPU the numbers come
    from CUDA, and only the pins and PyTorch's CPU capability are recorded."""
    record = {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "onednn_isa": None, "mkl_isa": None}
    if torch.device(device).type == "cpu":
        record["onednn_isa"] = _first(ONEDNN_ISA, _verbose_lines(torch.backends.mkldnn, _convolution))
        record["mkl_isa"] = _first(MKL_ISA, _verbose_lines(torch.backends.mkl, _matrix_product))
    record["isa_pins"] = {name: os.environ[name] for name in PIN_VARIABLES if name in os.environ}
    return record


def _convolution() -> None:
    images = torch.ones(4, 3, 28, 28).contiguous(memory_format=torch.channels_last)  # small ones skip oneDNN
    torch.nn.functional.conv2d(images, torch.ones(8, 3, 3, 3))


def _matrix_product() -> None:
    torch.ones(64, 64) @ torch.ones(64, 64)


def _verbose_lines(backend, work) -> str:
    """What the library prints on its own standard output (the C one, file descriptor 1) while work() runs with its
    verbose mode on."""
    if not getattr(backend, "is_available", lambda: True)():
        return ""
    with tempfile.TemporaryFile() as sink:
        with _stdout_to(sink):
            with backend.verbose(backend.VERBOSE_ON):
                work()
        sink.seek(0)
        return sink.read().decode("utf-8", "replace")


@contextmanager
def _stdout_to(sink):
    """File descriptor 1 into sink while the block runs; C's buffered output is flushed into it before it ends."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(sink.fileno(), 1)
    try:
        yield
    finally:
        ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


def _first(pattern: re.Pattern, text: str) -> str | None:
    found = pattern.search(text)
    return found.group(1).strip() if found else None
