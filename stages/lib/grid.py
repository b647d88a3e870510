"""The learning-rate grid 10^m for m = start, start+step, ..., stop, rounded to 4 significant digits.

Four digits keep DVC's stage names (`train@1.259e-06`) and dvc.lock short and exact.
Run `python -m stages.lib.grid -6 -1.5 0.1` to print a grid as a `dvc exp run -S` argument.
"""

import argparse


def lr_grid(start: float, stop: float, step: float) -> list[float]:
    if step <= 0 or stop < start:
        raise ValueError("need start <= stop and a positive step")
    count = int(round((stop - start) / step)) + 1
    exponents = [round(start + k * step, 6) for k in range(count)]
    return [float(f"{10**m:.4g}") for m in exponents]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start", type=float, help="exponent of the smallest LR, e.g. -6")
    parser.add_argument("stop", type=float, help="exponent of the largest LR, e.g. -1.5")
    parser.add_argument("step", type=float, help="exponent step, e.g. 0.1")
    args = parser.parse_args()
    lrs = lr_grid(args.start, args.stop, args.step)
    print(f"sweep.lrs=[{','.join(map(str, lrs))}]")


if __name__ == "__main__":
    main()
