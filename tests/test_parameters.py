"""The pipeline parameters of `main` and `pipeline`: read as `mlflow run` passes them, checked,
bundled for the steps."""

from __future__ import annotations

import sys

import pytest
import yaml

from grocery.config import PROJECT_DIR, load_config
from grocery.cpus import available_cpus
from grocery.errors import UserError
from grocery.names import PIPELINE, PREPARE
from grocery.parameters import (
    ENGINE_PARAMS,
    OWN_DATA_PARAMS,
    PREPARE_PARAMS,
    PRODUCT_PARAM,
    TRAIN_PARAMS,
    extra_params,
    parse_pipeline_arguments,
    pipeline_settings,
    worker_count,
)

CATALOG = load_config()
ENTRY_POINTS = yaml.safe_load((PROJECT_DIR / "MLproject").read_text())["entry_points"]
MAIN = {name: str(spec["default"]) for name, spec in ENTRY_POINTS["main"]["parameters"].items()}


def parse(monkeypatch, *extra: str, **params: str):
    """parse_pipeline_arguments of main's command line, as MLproject builds it."""
    values = {**MAIN, **params}
    argv = [f"--{name.replace('_', '-')}={value}" for name, value in values.items()]
    monkeypatch.setattr(sys, "argv", ["main", *argv, *extra])
    return parse_pipeline_arguments("main", "max_parallel")


def test_the_shared_parameters_are_those_of_the_entry_points():
    assert set(ENTRY_POINTS[PREPARE]["parameters"]) == {PRODUCT_PARAM, *PREPARE_PARAMS,
                                                        *OWN_DATA_PARAMS}
    pipeline = set(ENTRY_POINTS[PIPELINE]["parameters"])
    assert pipeline == {PRODUCT_PARAM, *PREPARE_PARAMS, *OWN_DATA_PARAMS, "model", "use_cache",
                        *TRAIN_PARAMS, *ENGINE_PARAMS}
    assert set(MAIN) == pipeline | {"max_parallel"}


def test_extra_params_are_hyperparameters():
    assert extra_params(["--alpha", "0.5", "--fit_intercept", "false"]) == {
        "alpha": "0.5", "fit_intercept": "false"}
    for bad in (["--alpha"], ["alpha", "0.5"]):
        with pytest.raises(UserError, match="use -P name=value"):
            extra_params(bad)


def test_settings_carry_the_steps_parameters(monkeypatch):
    args, hyperparameters = parse(monkeypatch, "--alpha", "0.5", model="ridge", seed="7")
    assert hyperparameters == {"alpha": "0.5"}
    settings = pipeline_settings(args, hyperparameters, "uv", "digest")
    # Empty own-data parameters are left out, so prepare takes its own defaults.
    assert settings.prepare_params == {
        "rows": MAIN["rows"], "end_date": MAIN["end_date"], "seed": "7",
        "validation_fraction": MAIN["validation_fraction"], "split": MAIN["split"],
        "horizon": MAIN["horizon"], "folds": MAIN["folds"], "stores": "1",
        "target": MAIN["target"], "date_column": MAIN["date_column"]}
    # Where the work runs is passed to train but keys no cache: both engines give one result.
    assert settings.train_params == {"model": "ridge", "series_model": "global",
                                     "engine": "local", "alpha": "0.5"}
    defaults = CATALOG.model("ridge").params
    assert settings.train_resolved == {"model": "ridge", "series_model": "global", **defaults,
                                       "alpha": 0.5}
    assert (settings.env_manager, settings.use_cache, settings.data_digest) == (
        "uv", MAIN["use_cache"] == "true", "digest")


@pytest.mark.parametrize(("params", "message"), [
    ({"rows": "many"}, "rows, seed, horizon, folds and stores must be integers"),
    ({"stores": "0"}, "stores must be 1 or more, got 0"),
    ({"stores": "3", "data": "sales.csv"}, "a table of your own names its series key columns"),
    ({"series": "store_id"}, "series names the key columns of a table of your own"),
    ({"series_model": "pooled"}, "unknown series_model 'pooled'; valid: global, per_series"),
    ({"engine": "spark"}, "unknown engine 'spark'; valid: local, ray"),
    ({"engine": "ray", "ray_address": "127.0.0.1:9"},
     "cannot reach the Ray cluster at 127.0.0.1:9"),
    ({"horizon": "0"}, "horizon must be 1 or more, got 0"),
    ({"folds": "-1"}, "folds must be 1 or more, got -1"),
    ({"rows": "60"}, "rows=60: the table has 60 rows; horizon 14 with 5 folds needs at least 98"),
    ({"validation_fraction": "some"}, "validation_fraction a number"),
    ({"use_cache": "yes"}, "use_cache must be true or false"),
    ({"split": "sideways"}, "split"),
])
def test_bad_parameters_fail_before_any_run(monkeypatch, params, message):
    with pytest.raises(UserError, match=message):
        parse(monkeypatch, **params)


def test_worker_count():
    assert worker_count("3") == 3
    assert worker_count("0") == available_cpus()  # tests/test_cpus.py: what that counts
    with pytest.raises(UserError, match="max_parallel must be 0"):
        worker_count("-1")
