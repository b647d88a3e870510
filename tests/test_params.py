import io

import pytest
from ruamel.yaml import YAML

from stages.lib import params as P, run_params
from stages.lib.grid import lr_grid
from tests.committed import committed_params_text


def test_default_grid_is_10_to_the_m_for_m_from_minus_6_to_minus_1_5(defaults):
    lrs = P.sweep_lrs(defaults)
    assert len(lrs) == 46
    for k, lr in enumerate(lrs):
        m = -6.0 + 0.1 * k
        assert lr == float(f"{10**m:.4g}"), (k, lr)
        assert float(f"{lr:.4g}") == lr  # at most 4 significant digits: short, exact stage names
        assert abs(lr / 10**m - 1) < 5e-4
    assert lrs[0] == 1e-06 and lrs[1] == 1.259e-06 and lrs[-1] == 0.03162


def test_lr_grid_helper_makes_the_default_grid(defaults):
    assert lr_grid(-6, -1.5, 0.1) == P.sweep_lrs(defaults)
    assert lr_grid(-3, -2, 0.5) == [0.001, 0.003162, 0.01]
    with pytest.raises(ValueError):
        lr_grid(-2, -3, 0.1)


def test_yaml_1_2_floats_as_ruamel_writes_them_load_as_floats(tmp_path):
    # DVC rewrites params.yaml with ruamel after `dvc exp run -S`; write it the same way.
    yaml = YAML()
    data = yaml.load(committed_params_text())
    data["sweep"]["lrs"] = [1e-05, 0.001, 3e-06]
    data["analysis"]["tolerance"] = 5e-3
    out = io.StringIO()
    yaml.dump(data, out)
    assert "1e-05" in out.getvalue()  # the spelling PyYAML's own loader reads as a string
    path = tmp_path / "params.yaml"
    path.write_text(out.getvalue())

    params = P.load_params(path)
    assert P.sweep_lrs(params) == [1e-05, 0.001, 3e-06]
    assert all(isinstance(lr, float) for lr in params["sweep"]["lrs"])
    assert params["analysis"]["tolerance"] == 0.005
    assert params["data"]["split_seed"] == 20250302 and isinstance(params["data"]["split_seed"], int)
    assert params["sweep"]["seeds"] == [0, 1, 2, 3, 4]
    assert params["train"]["device"] == "auto"


@pytest.mark.parametrize("text, expected", [("1e-05", 1e-05), ("-2E+3", -2000.0), ("1.0e-06", 1e-06), (".5", 0.5)])
def test_float_spellings(tmp_path, text, expected):
    path = tmp_path / "p.yaml"
    path.write_text(f"x: {text}\ny: 7\nz: '1e-05'\n")
    params = P.load_params(path)
    assert params["x"] == expected and isinstance(params["x"], float)
    assert params["y"] == 7 and isinstance(params["y"], int)
    assert params["z"] == "1e-05"  # quoted strings stay strings


def sizes(train, valid):
    return {"data": {"split_seed": 1, "train_size": train, "valid_size": valid}}


@pytest.mark.parametrize(
    "train, valid, key",
    [(0, 5000, "data.train_size"), (-3, 5000, "data.train_size"), (3000.5, 5000, "data.train_size"),
     ("3000", 5000, "data.train_size"), (True, 5000, "data.train_size"), (3000, 0, "data.valid_size"),
     (3000, None, "data.valid_size")],
)
def test_bad_split_sizes_name_the_parameter(train, valid, key):
    with pytest.raises(P.ParamsError, match=key.replace(".", r"\.")):
        P.read(sizes(train, valid), P.Data)


def test_split_sizes_cannot_exceed_the_training_set():
    assert P.read(sizes(30000, 30000), P.Data) == P.Data(split_seed=1, train_size=30000, valid_size=30000)
    with pytest.raises(P.ParamsError, match=r"data\.train_size \+ data\.valid_size = 60001"):
        P.read(sizes(30000, 30001), P.Data)


def test_missing_key_is_named():
    with pytest.raises(P.ParamsError, match=r"missing key data\.valid_size"):
        P.read({"data": {"split_seed": 1, "train_size": 10}}, P.Data)


@pytest.mark.parametrize("lrs", [[], "0.001", [0.001, -1.0], [0.001, "fast"], [0.001, 0.001]])
def test_bad_sweep_lrs(lrs):
    with pytest.raises(P.ParamsError, match="sweep.lrs|lr"):
        P.sweep_lrs({"sweep": {"lrs": lrs}})


def test_run_name_matches_dvc_matrix_names():
    assert [P.lr_name(v) for v in (1e-06, 1.259e-06, 0.0001, 0.001, 0.03162, "1e-05")] == [
        "1e-06", "1.259e-06", "0.0001", "0.001", "0.03162", "1e-05"]
    assert P.run_name(1e-05, 3) == "1e-05-3" and P.run_name(0.001, 0) == "0.001-0"


def test_training_seeds_and_split_seed():
    assert P.training_seeds({"sweep": {"seeds": [0, 1, 7]}}) == [0, 1, 7]
    assert run_params.split_seed({"data": {"split_seed": 20250302}}) == 20250302
    assert P.seed_value("12", "sweep.seeds") == 12  # as the train stage gets it on its command line


@pytest.mark.parametrize("seeds", [[], 3, [0, -1], [0, 1.5], [0, True], [1, 1], ["a"]])
def test_bad_training_seeds_name_the_key(seeds):
    with pytest.raises(P.ParamsError, match=r"sweep\.seeds"):
        P.training_seeds({"sweep": {"seeds": seeds}})


def test_a_missing_split_seed_is_named():
    with pytest.raises(P.ParamsError, match=r"data\.split_seed"):
        run_params.split_seed({"data": {"train_size": 10}})


def test_load_checked_turns_bad_params_into_a_one_line_exit(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("data: {split_seed: 1, train_size: -1, valid_size: 10}\n")
    with pytest.raises(SystemExit, match=r"^split: error: params\.yaml: data\.train_size must be a positive"):
        P.load_checked("split", lambda params: P.read(params, P.Data), path)


def test_params_load_exactly_as_dvc_loads_them(tmp_path):
    """DVC (ruamel, YAML 1.2) names stages from these values; a stage must see the same ones."""
    from dvc.utils.serialize import parse_yaml

    text = ("a: yes\nb: 010\nc: 1:30\nd: 1e-5\ne: 1.0e-06\nf: .5\ng: 0o10\nh: ~\ni: on\nj: 0x1F\nk: '7'\n"
            "l: [1, 1.0, 2.5e-3]\n")
    path = tmp_path / "params.yaml"
    path.write_text(text)
    assert P.load_params(path) == parse_yaml(text, str(path))
    loaded = P.load_params(path)
    assert (loaded["a"], loaded["b"], loaded["c"], loaded["d"]) == ("yes", 10, "1:30", 1e-05)


def test_the_committed_params_pass_every_check(defaults):
    assert P.check(defaults) is defaults


def test_the_largest_values_in_bounds_pass(defaults):
    defaults["data"]["split_seed"] = defaults["sweep"]["seeds"][-1] = 2**63 - 1
    defaults["train"].update(threads=4096, max_epochs=1_000_000, patience=1_000_000, batch_size=60_000)
    defaults["sweep"]["lrs"][-1] = 10.0
    assert P.check(defaults) is defaults


@pytest.mark.parametrize("section, key", [("train", "patiense"), ("analysis", "tolerence"), ("sweep", "seed")])
def test_a_typo_in_a_key_is_an_error_not_ignored(defaults, section, key):
    defaults[section][key] = 3
    with pytest.raises(P.ParamsError, match=rf"unknown key {section}\.{key} \(a typo\?\)"):
        P.check(defaults)


def test_an_unknown_section_is_an_error(defaults):
    defaults["optimiser"] = {"lr": 1}
    with pytest.raises(P.ParamsError, match=r"unknown key optimiser"):
        P.check(defaults)


@pytest.mark.parametrize("key, value, message", [
    ("analysis.tolerance", 2, r"analysis\.tolerance must be a number between 0 and 1"),
    ("analysis.chance_level", "low", r"analysis\.chance_level"),
    ("train.threads", -2, r"train\.threads"),
    ("data.split_seed", 1.5, r"data\.split_seed"),
    ("sweep.seeds", ["01"], r"sweep\.seeds must hold integers without quotes"),
    ("lr_find.end_lr", 1e-8, r"lr_find\.end_lr \(1e-08\) must be larger than lr_find\.start_lr \(1e-07\)"),
    ("lr_find.start_lr", -1.0, r"lr_find\.start_lr must be a positive finite number"),
    ("lr_find.steps", 5, r"lr_find\.steps must be at least 10"),
    ("lr_find.smoothing", 1.0, r"lr_find\.smoothing must be below 1"),
    ("lr_find.divergence", 1.0, r"lr_find\.divergence must be above 1"),
    # bounds: past them a value is a typo, and reached torch as an overflow traceback or ran for ever
    ("data.split_seed", 2**63, r"data\.split_seed must be an integer from 0 to 2\*\*63 - 1, got 9223372036854775808"),
    ("sweep.seeds", [0, 2**64], r"sweep\.seeds must be an integer from 0 to 2\*\*63 - 1"),
    ("train.threads", 10_000_000_000, r"train\.threads must be 0 \(PyTorch's default\) or a number of threads up to 4096"),
    ("train.max_epochs", 10**7, r"train\.max_epochs must be at most 1,000,000, got 10,000,000"),
    ("train.patience", 10**7, r"train\.patience must be at most 1,000,000"),
    ("train.batch_size", 60_001, r"train\.batch_size must be at most 60,000"),
    ("sweep.lrs", [0.001, 20.0], r"sweep\.lrs must hold positive numbers up to 10, got 20\.0"),
    ("sweep.seeds", list(range(3000)), r"sweep\.lrs x sweep\.seeds makes 138,000 runs, more than the 100,000"),
    ("lr_find.steps", 10**9, r"lr_find\.steps must be at most 100,000"),
])
def test_every_section_is_checked_in_one_place(defaults, key, value, message):
    section, name = key.split(".")
    defaults[section][name] = value
    with pytest.raises(P.ParamsError, match=message):
        P.check(defaults)


@pytest.mark.parametrize("lrs, message", [
    ([1], r"holds the integer 1: DVC would name its stages train@1-<seed>, the runs 1\.0; write 1\.0"),
    (["0.00010"], r"holds the text '0\.00010'; write the number without quotes"),
    ([1e-05, 0.00001], r"lists 1e-05 more than once"),
])
def test_lr_spellings_that_would_not_match_dvc_stage_names_are_refused(lrs, message):
    with pytest.raises(P.ParamsError, match=message):
        P.sweep_lrs({"sweep": {"lrs": lrs}})


def test_bad_yaml_stops_a_stage_with_one_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("data: {train_size: 10\n")
    with pytest.raises(SystemExit, match=r"^split: error: .*params\.yaml is not valid YAML"):
        P.load_checked("split", lambda params: P.read(params, P.Data), path)


def test_one_schema_gives_the_keys_the_check_the_recorded_settings_and_the_sweeps_agreement(defaults):
    """A setting lives in its section's dataclass: from it come the keys params.yaml may hold, the typed settings a
    stage reads, what a run records, what a sweep's runs must agree on and what the study's checks must share."""
    from dataclasses import fields

    from stages import aggregate, conclude
    from stages.lib import conclusions
    from stages.lib.training import Settings

    assert {section: set(keys) for section, keys in P.SCHEMA.items()} == {
        section: set(values) for section, values in defaults.items()}  # the schema is the committed file's keys
    train = P.read(defaults, P.Train)
    assert (train.batch_size, train.patience, train.device) == (32, 5, "auto") and isinstance(train, P.Train)
    # a run's settings are the schema's model and train values, by name
    run_fields = {f.name for f in fields(Settings)} - {"lr", "seed"}
    assert run_fields <= set(P.SCHEMA["model"]) | set(P.SCHEMA["train"])
    settings = Settings.of_run(1e-3, 0, {**vars(P.read(defaults, P.Model)), **vars(train)})
    assert (settings.batch_size, settings.double_softmax) == (32, False)
    # what a run records, and what a sweep's runs and the study's checks must agree on, are derived from it
    assert P.RECORDED == tuple(f.name for section in P.SECTIONS.values() for f in fields(section)
                               if f.metadata["recorded"])
    assert {"train_size", "valid_size", "double_softmax", "batch_size", "patience", "max_epochs", "precision"} <= set(
        P.RECORDED) and not {"device", "threads", "split_seed"} & set(P.RECORDED)
    assert aggregate.SHARED_SETTINGS == P.RECORDED and set(aggregate.RESULT_KEYS) >= set(P.RECORDED)
    assert conclude.SETTINGS == tuple(k for k in P.RECORDED if k not in ("patience", "max_epochs"))
    assert conclusions.sweep_settings(defaults).items() >= {
        "data.split_seed": 20250302, "data.train_size": 3000, "data.valid_size": 5000,
        "model.double_softmax": False, "train.batch_size": 32, "train.precision": "fp32"}.items()
    assert not {"train.patience", "train.max_epochs"} & set(conclusions.sweep_settings(defaults))


def test_every_stage_reads_its_settings_through_the_schema():
    """No stage picks values out of params.yaml by hand: each reads typed sections (or the whole checked file). (The
    train stage checks its own run's LR and seed, from DVC_STAGE or its one argument, with positive_float and
    seed_value: those are not keys of params.yaml.)"""
    import re

    from tests.pipeline import REPO_ROOT

    for stage in sorted((REPO_ROOT / "stages").glob("*.py")):
        text = stage.read_text()
        assert not re.search(r"P\.(positive_int|fraction|choice|flag|threads|split_seed|training_seeds|sweep_lrs|lr_find_settings)\(", text), stage
