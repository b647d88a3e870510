"""The train stage's own pieces: settings from params.yaml, the progress line, the history file."""

import copy
import io
import tempfile

import pytest

from stages import train as stage
from stages.lib import params as P
from stages.lib.training import EarlyStopping
from tests.committed import committed_params

PARAMS = committed_params(tempfile.mkdtemp())


def with_change(key, value):
    params = copy.deepcopy(PARAMS)
    section, name = key.split(".")
    params[section][name] = value
    return params


def test_defaults_read_from_params_yaml():
    settings, train = stage.read_settings(PARAMS, 1e-05, 3)
    assert settings.lr == 1e-05 and settings.seed == 3
    assert (settings.batch_size, settings.patience, settings.double_softmax) == (32, 5, False)
    assert (settings.device, settings.precision, train.threads, train.save_weights) == ("auto", "fp32", 0, False)


@pytest.mark.parametrize("key, value", [
    ("train.device", "tpu"), ("train.precision", "fp8"), ("train.threads", -1), ("train.patience", 0),
    ("train.batch_size", 0.5), ("model.double_softmax", "yes"), ("train.max_epochs", None),
    ("train.save_weights", "no")])
def test_bad_training_params_name_the_key(key, value):
    with pytest.raises(P.ParamsError, match=key.replace(".", r"\.")):
        stage.read_settings(with_change(key, value), 0.001, 0)


@pytest.mark.parametrize("argv, environ, run", [
    ([], {"DVC_STAGE": "train@1e-05-3"}, (1e-05, 3)),  # as DVC runs it
    ([], {"DVC_STAGE": "train@0.03162-0"}, (0.03162, 0)),
    ([], {"DVC_STAGE": "train@0.002-7"}, (0.002, 7)),  # any run a design declares: the sweep is not the stage's
    (["0.001-4"], {"DVC_STAGE": "aggregate"}, (0.001, 4)),  # by hand: the argument wins
    (["train@1e-06-1"], {}, (1e-06, 1)),
])
def test_the_run_comes_from_dvc_stage_or_one_argument(argv, environ, run):
    lr, seed = stage.run_to_train(argv, environ)
    assert (lr, seed) == run and type(lr) is float and type(seed) is int


@pytest.mark.parametrize("argv, environ, message", [
    ([], {}, r"no run named: DVC sets DVC_STAGE=train@<lr>-<seed>"),
    ([], {"DVC_STAGE": "train@"}, r"no run named"),
    (["0.001", "3"], {}, r"usage: python -m stages\.train \[<lr>-<seed>\]"),
    (["1.0e-05-0"], {}, r"'1\.0e-05-0' is not spelled as DVC names the run: 1e-05-0"),
    (["0.0010-0"], {}, r"not spelled as DVC names the run: 0\.001-0"),
    ([], {"DVC_STAGE": "train@0.001-0;touch${IFS}PWNED"}, r"is not a run name <lr>-<seed>"),
    (["-0.001-0"], {}, r"is not a run name"), (["0-0"], {}, r"with 0 < lr <= 10"), (["fast-0"], {}, r"not a run name"),
    (["inf-0"], {}, r"with 0 < lr"), (["nan-0"], {}, r"with 0 < lr"), (["11.0-0"], {}, r"with 0 < lr <= 10"),
    (["0.001--1"], {}, r"not a run name"), (["0.001-x"], {}, r"not a run name"), (["0.001-1.5"], {}, r"not a run name"),
    (["0.001-99999999999999999999"], {}, r"must be an integer from 0 to 2\*\*63 - 1"),
])
def test_a_name_that_is_not_a_run_is_refused_with_one_line(argv, environ, message):
    with pytest.raises(P.ParamsError, match=message):
        stage.run_to_train(argv, environ)


def test_the_stage_as_dvc_runs_it_refuses_a_name_that_is_not_a_run(tmp_path, monkeypatch):
    import subprocess
    import sys

    from tests.pipeline import REPO_ROOT

    done = subprocess.run([sys.executable, "-m", "stages.train"], cwd=REPO_ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "DVC_STAGE": "train@0.5-0`touch PWNED`"})
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "train: error: '0.5-0`touch PWNED`' is not a run name <lr>-<seed> with 0 < lr <= 10 (e.g. 0.001-3 or 1e-06-0)"]
    assert not (REPO_ROOT / "PWNED").exists()


class NotATerminal(io.StringIO):
    def isatty(self):
        return False


def test_progress_in_a_log_is_one_line_per_ten_epochs_not_a_flood():
    out = NotATerminal()
    progress, stopper = stage.ProgressLine("0.001", out), EarlyStopping(5)
    for epoch in range(1, 26):
        stopper.update(epoch, epoch / 100)
        progress({"epoch": epoch, "train_loss": 1 / epoch, "valid_acc": epoch / 100, "elapsed_s": epoch * 0.5}, stopper)
    progress.finish({"stopped_by": "early_stopping", "epochs": 25, "train_time_s": 12.5, "best_valid_acc": 0.25,
                     "best_epoch": 25, "test_acc": 0.24})
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("train@0.001  epoch  10  loss 0.1000  valid 0.1000  best 0.1000 (epoch 10)")
    assert lines[-1] == ("train@0.001: early_stopping after 25 epochs (12.5 s); best valid 0.2500 at epoch 25, "
                         "test 0.2400")


def test_history_csv():
    text = stage.history_csv([{"epoch": 1, "train_loss": 2.3, "valid_acc": 0.1, "elapsed_s": 1.5}])
    assert text == "epoch,train_loss,valid_acc,elapsed_s\n1,2.3,0.1,1.5\n"


def test_a_damaged_split_is_one_line_naming_it_in_every_stage_that_reads_it(tmp_path):
    import subprocess
    import sys

    from tests.pipeline import REPO_ROOT

    (tmp_path / "data/split").mkdir(parents=True)
    (tmp_path / "data/split/tensors.pt").write_bytes(b"PK\x03\x04 cut short")
    (tmp_path / "params.yaml").write_text((REPO_ROOT / "params.yaml").read_text())
    for stage, env in (("train", {"DVC_STAGE": "train@0.001-0"}), ("lr_find", {})):
        done = subprocess.run([sys.executable, "-m", f"stages.{stage}"], cwd=tmp_path, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), **env})
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1 and len(lines) == 1, done.stderr
        assert lines[0].startswith(f"{stage}: error: data/split/tensors.pt cannot be read (")
        assert lines[0].endswith("`dvc repro` writes it again (the split stage)")
    assert not (tmp_path / "data/runs").exists() and not (tmp_path / "metrics").exists()
