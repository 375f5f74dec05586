"""The experiment rule: the pure choice, the data schema, and route_run against a real store."""

from __future__ import annotations

import dataclasses
import threading
from argparse import Namespace

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from grocery.config import load_config
from grocery.dataset import content_digest
from grocery.errors import UserError
from grocery.experiments import (
    choose_experiment,
    data_schema,
    experiment_tags,
    input_schema,
    route_for,
    route_run,
    route_to,
    schema_digest,
    synthetic_schema,
)
from grocery.names import (
    TAG_EXPERIMENT_FAMILY,
    TAG_EXPERIMENT_REASON,
    TAG_EXPERIMENT_SCHEMA_DIGEST,
)

CATALOG = load_config()

SCHEMA = [["date", "datetime", "date"], ["price", "number", "feature"],
          ["demand", "number", "target"]]
WIDER = [*SCHEMA, ["shelf", "string", "feature"]]


def own_table(rows: int) -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=rows, freq="D")
    rng = np.random.default_rng(0)
    return pd.DataFrame({"day": days, "shelf": rng.choice(["front", "back"], rows),
                         "temperature": rng.normal(20, 3, rows),
                         "units": rng.normal(100, 2, rows)})


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


def test_route_run_claims_the_product_experiment_then_a_sibling_per_family(tracking_store):
    client = tracking_store.client
    product = next(iter(CATALOG.products.values()))
    family, other = sorted({m.family for m in CATALOG.models.values()})[:2]

    first, choice = route_run(client, CATALOG, product, SCHEMA, family)
    experiment = client.get_experiment(first)
    assert experiment.name == choice.name == product.experiment
    assert CATALOG.experiment_tags(product).items() <= experiment.tags.items()
    assert experiment.tags[TAG_EXPERIMENT_FAMILY] == family
    assert experiment.tags[TAG_EXPERIMENT_SCHEMA_DIGEST] == choice.tags[
        TAG_EXPERIMENT_SCHEMA_DIGEST]
    assert TAG_EXPERIMENT_REASON not in experiment.tags
    assert route_run(client, CATALOG, product, SCHEMA, family)[0] == first

    sibling, _ = route_run(client, CATALOG, product, SCHEMA, other)
    moved = client.get_experiment(sibling)
    assert moved.name == f"{product.experiment}-{other}"
    assert moved.tags[TAG_EXPERIMENT_FAMILY] == other
    assert moved.tags[TAG_EXPERIMENT_REASON].startswith(f"{product.experiment} holds other runs")
    assert route_run(client, CATALOG, product, SCHEMA, other)[0] == sibling
    assert client.get_experiment(first).tags[TAG_EXPERIMENT_FAMILY] == family


def test_a_route_says_why_and_whether_the_pipeline_made_its_experiment(tracking_store):
    """A route read back from its experiment (the pipeline entry point's) says what the route
    made by the rule said; only the pipeline that created the experiment calls it new."""
    client = tracking_store.client
    product = dataclasses.replace(next(iter(CATALOG.products.values())),
                                  experiment="Route_Models")
    family, other = sorted({m.family for m in CATALOG.models.values()})[:2]
    for chosen in (family, other):  # the product's own experiment, then a sibling
        made = route_for(client, CATALOG, product, SCHEMA, chosen)
        again = route_for(client, CATALOG, product, SCHEMA, chosen)
        read = route_to(client.get_experiment(made.experiment_id))
        assert made.new and not again.new
        assert (read.experiment_id, read.experiment, read.reason) == (
            made.experiment_id, made.experiment, made.reason) == (
            again.experiment_id, again.experiment, again.reason)
    assert made.reason.startswith("Route_Models holds other runs")


def test_two_pipelines_racing_for_a_fresh_experiment_each_land_where_the_rule_says(
        tracking_store):
    """Two pipelines with different schemas start at once, each with its own client (as two
    processes would), for a few fresh product experiments: one claims each, the other goes to
    the sibling its schema calls for."""
    family = next(iter(CATALOG.models.values())).family
    base = next(iter(CATALOG.products.values()))
    for round_ in range(4):
        product = dataclasses.replace(base, experiment=f"Race_{round_}_Models")
        start = threading.Barrier(2)
        routed: dict[str, str] = {}

        def pipeline(schema, product=product, start=start, routed=routed):
            client = MlflowClient(tracking_uri=tracking_store.uri)
            start.wait()
            routed[schema_digest(schema)] = route_run(client, CATALOG, product, schema,
                                                      family)[0]

        threads = [threading.Thread(target=pipeline, args=(schema,)) for schema in (SCHEMA, WIDER)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        client = tracking_store.client
        held = client.get_experiment_by_name(product.experiment).tags
        winner = held[TAG_EXPERIMENT_SCHEMA_DIGEST]
        (loser,) = set(routed) - {winner}
        assert routed[winner] == client.get_experiment_by_name(product.experiment).experiment_id
        sibling = client.get_experiment(routed[loser])
        assert sibling.name == f"{product.experiment}-schema-{loser}"
        assert sibling.tags[TAG_EXPERIMENT_SCHEMA_DIGEST] == loser
        assert CATALOG.experiment_tags(product).items() <= sibling.tags.items()


def pipeline_args(data: str = "", target: str = "demand", day: str = "date") -> Namespace:
    return Namespace(data=data, target=target, date_column=day, validation_fraction="0.2",
                     split="time", horizon="4", folds="2", known_ahead="", stores="1",
                     series="")


def test_input_schema_of_synthetic_sales_and_of_an_own_table(tmp_path):
    assert input_schema(pipeline_args()) == (synthetic_schema(), None)
    table = own_table(40)
    table.to_csv(tmp_path / "sales.csv", index=False)
    schema, digest = input_schema(pipeline_args(str(tmp_path / "sales.csv"), "units", "day"))
    assert schema == data_schema(table, "units", "day")
    assert digest == content_digest(pd.read_csv(tmp_path / "sales.csv", parse_dates=["day"]))
    with pytest.raises(UserError, match="no target column .sold."):
        input_schema(pipeline_args(str(tmp_path / "sales.csv"), "sold", "day"))
