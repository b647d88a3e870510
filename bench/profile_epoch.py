"""Where one epoch of the project's loop spends its time: python -m bench.profile_epoch

Runs one warm-up epoch, then profiles one epoch (training steps and validation) with torch.profiler and prints
the operators with the most self time, grouped by input shape. Needs `dvc repro split` first.
"""

import dataclasses

from torch.profiler import ProfilerActivity, profile

from stages.lib import params as P
from stages.lib.data import load_tensors
from stages.lib.training import Settings, train


def main() -> None:
    params = P.load_params()
    settings = Settings(lr=1e-3, seed=P.seed(params), batch_size=P.positive_int(params, "train.batch_size"),
                        max_epochs=1, patience=10**6)
    data = load_tensors()
    data = {**data, "test": (data["test"][0][:1], data["test"][1][:1])}  # keep the final test pass out of the profile
    train(data, settings)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        train(data, dataclasses.replace(settings, max_epochs=1))
    print(prof.key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=32, max_shapes_column_width=60))


if __name__ == "__main__":
    main()
