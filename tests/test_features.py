"""The feature pipeline, the baselines, the noise floor, the champion gate and the experiment
rule: pure functions, no tracking store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from grocery.baselines import baseline_metrics, naive_forecasts
from grocery.config import GateThreshold, load_config
from grocery.dataset import (
    DATE,
    TARGET,
    generate_sales,
    noise_floor,
    simulate_sales,
    split_sales,
)
from grocery.experiments import choose_experiment, data_schema, experiment_tags
from grocery.features import LAGS, CalendarLags
from grocery.modeling import build_pipeline, regression_metrics, resolve_hyperparameters
from grocery.registry import apply_gate
from tests.conftest import PROJECT_DIR

CATALOG = load_config()
SETTINGS = load_config()
APPLES = CATALOG.generators["apples"]


def own_table(rows: int = 60) -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=rows, freq="D")
    rng = np.random.default_rng(0)
    shelf = rng.choice(["front", "back"], rows).astype(object)
    shelf[::7] = None
    temperature = rng.normal(20, 3, rows)
    temperature[::5] = np.nan
    units = 100 + 30 * (shelf == "front") + 10 * (days.day_of_week >= 5) + rng.normal(0, 2, rows)
    return pd.DataFrame({"day": days, "shelf": shelf, "temperature": temperature,
                         "units": units})


def test_lags_are_causal_and_continue_from_the_training_days():
    table = own_table()
    train, later = table.iloc[:40], table.iloc[40:]
    step = CalendarLags("day", "units", ("shelf",)).fit(train)
    out = step.transform(later)
    assert "units" not in out.columns and "day" not in out.columns
    units = table.set_index("day")["units"]
    for name, lag in LAGS.items():
        expected = units.reindex(later["day"] - pd.Timedelta(days=lag)).to_numpy()
        np.testing.assert_array_equal(out[name].to_numpy(), expected)
    # The first later day finds yesterday among the training days, not in its own row.
    assert out["target_lag_1"].iloc[0] == train["units"].iloc[-1]
    # Without the target (days to forecast), lags come from history or stay missing.
    blind = step.transform(later.drop(columns=["units"]))
    assert blind["target_lag_1"].iloc[0] == train["units"].iloc[-1]
    assert blind["target_lag_1"].iloc[1:].isna().all()
    # A row's own target never changes its own features.
    changed = later.copy()
    changed.loc[changed.index[-1], "units"] = 1e9
    pd.testing.assert_series_equal(step.transform(changed).iloc[-1], out.iloc[-1])


def test_calendar_features():
    out = CalendarLags("day", "units").fit(own_table()).transform(own_table().head(3))
    assert out["date_day_of_week"].tolist() == [0, 1, 2]  # 2024-01-01 was a Monday
    assert out["date_month"].tolist() == [1, 1, 1]
    assert out["date_day_of_year"].tolist() == [1, 2, 3]
    assert out["date_trend"].tolist() == [0.0, 1.0, 2.0]


def test_pipeline_takes_raw_columns_with_gaps_and_strings():
    table = own_table()
    train, validation = table.iloc[:45], table.iloc[45:]
    model = build_pipeline(CATALOG.model("ridge"), {"alpha": 1.0}, train, "units", "day")
    model.fit(train, train["units"])
    as_text = validation.assign(day=validation["day"].dt.strftime("%Y-%m-%d"),
                                shelf=validation["shelf"].astype("str"))
    first = model.predict(validation)
    np.testing.assert_allclose(model.predict(as_text), first)
    unseen = validation.assign(shelf="window")  # a category never seen is not an error
    assert np.isfinite(model.predict(unseen)).all()
    assert regression_metrics(validation["units"].to_numpy(), first)["rmse"] < 10


def test_the_noise_is_what_separates_demand_from_its_formula():
    frame, noise = simulate_sales(APPLES, 400, "2023-10-03", 9999)
    pd.testing.assert_frame_equal(frame, generate_sales(APPLES, 400, "2023-10-03", 9999))
    assert noise.index.equals(frame.index)
    # Inflation multiplies the noise: in the last year it is 6% above the draw's std of 50.
    assert 40 < noise.std() < 65
    _, validation = split_sales(frame, 0.2)
    assert noise_floor(noise, validation.index) == pytest.approx(
        np.sqrt(np.mean(noise.loc[validation.index] ** 2)))


def test_baselines_look_back_one_day_and_one_week():
    table = own_table(30)
    train, validation = table.iloc[:20], table.iloc[20:]
    forecasts = naive_forecasts(train, validation, "units", "day")
    np.testing.assert_array_equal(forecasts["previous_day"], table["units"].iloc[19:29])
    np.testing.assert_array_equal(forecasts["last_week"], table["units"].iloc[13:23])
    metrics = baseline_metrics(train, validation, "units", "day", model_rmse=1.0)
    best = min(metrics["baseline_previous_day_rmse"], metrics["baseline_last_week_rmse"])
    assert metrics["improvement_over_baseline"] == pytest.approx(1 - 1.0 / best)


@pytest.mark.parametrize("product", list(CATALOG.products))
def test_default_model_reaches_the_noise_floor(product):
    """The issue's bound: <= 1.10 (the benchmark in docs/benchmarks.md holds the goal, 1.05)."""
    frame, noise = simulate_sales(CATALOG.generators[product], 1000, "2023-10-03", 9999)
    train, validation = split_sales(frame, 0.2)
    choice = CATALOG.model(SETTINGS.default_model)
    model = build_pipeline(choice, resolve_hyperparameters(choice, {}), train, TARGET, DATE)
    predictions = model.fit(train, train[TARGET]).predict(validation)
    rmse = regression_metrics(validation[TARGET].to_numpy(), predictions)["rmse"]
    assert rmse / noise_floor(noise, validation.index) <= 1.10


def test_mlproject_defaults_name_the_catalogs_default_model():
    entry_points = yaml.safe_load((PROJECT_DIR / "MLproject").read_text())["entry_points"]
    assert SETTINGS.default_model in CATALOG.models
    assert entry_points["train"]["parameters"]["model"]["default"] == SETTINGS.default_model
    assert [c.name for c in CATALOG.models.values()] == [
        "random_forest", "hist_gradient_boosting", "ridge"]


GATE = (GateThreshold("rmse", 0.0, must_improve=True), GateThreshold("mae", 0.05))
CHAMPION = {"rmse": 10.0, "mae": 8.0}


@pytest.mark.parametrize(
    ("candidate", "alias", "decision"),
    [
        ({"rmse": 9.0, "mae": 8.0}, "champion", "passed"),
        ({"rmse": 9.0, "mae": 8.39}, "champion", "passed"),  # mae 4.9% worse: allowed
        ({"rmse": 9.0, "mae": 8.41}, "challenger", "failed"),  # mae 5.1% worse
        ({"rmse": 10.0, "mae": 7.0}, "challenger", "failed"),  # rmse equal: not an improvement
        ({"rmse": 10.5, "mae": 7.0}, "challenger", "failed"),
    ],
)
def test_champion_gate(candidate, alias, decision):
    result = apply_gate(GATE, candidate, CHAMPION, "3")
    assert (result.alias, result.decision) == (alias, decision)
    assert result.champion == CHAMPION and result.champion_version == "3"
    if decision == "failed":
        assert result.reason.startswith("fails the gate against champion v3: Metric ")
        assert "\n" not in result.reason


def test_gate_without_a_champion_and_the_catalogs_rules():
    assert apply_gate(GATE, {"rmse": 1.0, "mae": 1.0}, None).alias == "champion"
    assert SETTINGS.gate == GATE


SCHEMA = [["date", "datetime", "date"], ["price", "number", "feature"],
          ["demand", "number", "target"]]
WIDER = [*SCHEMA, ["shelf", "string", "feature"]]


def test_experiment_rule():
    experiments: dict[str, dict[str, str]] = {}
    tags_of = experiments.get

    first = choose_experiment("Apple_Models", SCHEMA, "linear", tags_of)
    assert first.name == "Apple_Models"  # new: the first run claims it
    experiments[first.name] = first.tags
    assert choose_experiment("Apple_Models", SCHEMA, "linear", tags_of).name == "Apple_Models"

    wider = choose_experiment("Apple_Models", WIDER, "linear", tags_of)
    digest = experiment_tags(WIDER, "linear")["grocery.data_schema_digest"]
    assert wider.name == f"Apple_Models-schema-{digest}"
    assert "data schema" in wider.reason
    forest = choose_experiment("Apple_Models", SCHEMA, "random-forest", tags_of)
    assert forest.name == "Apple_Models-random-forest"
    both = choose_experiment("Apple_Models", WIDER, "random-forest", tags_of)
    assert both.name == f"Apple_Models-random-forest-schema-{digest}"

    # A name taken by something else gets a number.
    experiments["Apple_Models-random-forest"] = experiment_tags(WIDER, "linear")
    assert choose_experiment("Apple_Models", SCHEMA, "random-forest",
                             tags_of).name == "Apple_Models-random-forest-2"


def test_data_schema_kinds_and_roles():
    frame = own_table(3).assign(count=1, flag=True)
    assert data_schema(frame, "units", "day") == [
        ["day", "datetime", "date"], ["shelf", "string", "feature"],
        ["temperature", "number", "feature"], ["units", "number", "target"],
        ["count", "integer", "feature"], ["flag", "boolean", "feature"]]


def test_categories_read_back_as_numbers_are_still_categories():
    table = own_table().assign(store=lambda f: np.where(f.index % 2 == 0, "1", "2"))
    train, validation = table.iloc[:45], table.iloc[45:]
    model = build_pipeline(CATALOG.model("ridge"), {"alpha": 1.0}, train, "units", "day")
    model.fit(train, train["units"])
    as_numbers = validation.assign(store=validation["store"].astype(int))
    np.testing.assert_allclose(model.predict(as_numbers), model.predict(validation))
