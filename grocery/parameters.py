"""The parameters of a product's pipeline as `main` and `pipeline` receive them: parsed, checked
before any run starts, and bundled for the steps."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from grocery.backtest import check_backtest, min_train_rows
from grocery.capacity import check_rows
from grocery.config import load_config
from grocery.cpus import available_cpus
from grocery.dataset import split_sizes
from grocery.engines import check_engine, check_reachable
from grocery.errors import UserError
from grocery.frequency import DAILY
from grocery.modeling import resolve_hyperparameters
from grocery.names import RAY, SERIES_MODELS

PRODUCT_PARAM = "product"  # the entry-point parameter naming the product(s)
# prepare's parameters besides the product, and those that describe a user's own table.
PREPARE_PARAMS = ("rows", "end_date", "seed", "validation_fraction", "split", "horizon", "folds",
                  "stores")
OWN_DATA_PARAMS = ("data", "target", "date_column", "department", "known_ahead", "series")
# train's parameters besides the model: how many series are modelled (part of the cache key),
# and where the work runs (not: both engines give the same model and scores).
TRAIN_PARAMS = ("series_model",)
ENGINE_PARAMS = ("engine", "ray_address")
USE_CACHE_VALUES = ("true", "false")


@dataclass(frozen=True)
class PipelineSettings:
    """What every product's steps are run with."""

    prepare_params: dict[str, str]
    train_params: dict[str, str]
    # The train parameters as the model sees them (catalog defaults included), for the cache key.
    train_resolved: dict[str, object]
    env_manager: str
    use_cache: bool
    # A user's table's content digest, which keys prepare's cache: the same path with new rows
    # is new data. None for the catalog's synthetic sales, which the parameters decide.
    data_digest: str | None = None


def extra_params(rest: list[str]) -> dict[str, str]:
    """Parameters not declared in MLproject, which `mlflow run` appends as ``--name value``."""
    if len(rest) % 2 or not all(key.startswith("--") for key in rest[::2]):
        raise UserError(f"cannot read parameters {' '.join(rest)!r}; use -P name=value")
    return {key[2:]: value for key, value in zip(rest[::2], rest[1::2], strict=True)}


def parse_pipeline_arguments(
    description: str, *extra: str
) -> tuple[argparse.Namespace, dict[str, str]]:
    """The parameters `main` and `pipeline` share (product, prepare's, own data's, model,
    use_cache) plus ``extra`` ones, checked before any run starts or any table is read, and the
    hyperparameters passed beside them."""
    parser = argparse.ArgumentParser(description=description, allow_abbrev=False)
    for name in (PRODUCT_PARAM, *PREPARE_PARAMS, *OWN_DATA_PARAMS, "model", "use_cache",
                 *TRAIN_PARAMS, *ENGINE_PARAMS, *extra):
        parser.add_argument(f"--{name.replace('_', '-')}", required=True)
    args, rest = parser.parse_known_args()
    try:
        rows, fraction = int(args.rows), float(args.validation_fraction)
        int(args.seed)
        horizon, folds, stores = int(args.horizon), int(args.folds), int(args.stores)
    except ValueError as error:
        raise UserError(f"rows, seed, horizon, folds and stores must be integers, "
                        f"validation_fraction a number: {error}") from None
    check_series(stores, args.data, args.series, args.series_model, args.engine)
    if args.engine == RAY and args.ray_address:
        check_reachable(args.ray_address)  # before any run, not in train after prepare
    split_sizes(rows, fraction, args.split)
    check_backtest(horizon, folds)
    if not args.data:  # the catalog's daily sales: as many rows as asked for
        try:
            check_backtest(horizon, folds, rows, min_train_rows(DAILY.season))
        except UserError as error:
            raise UserError(f"rows={rows}: {error}") from None
    if args.use_cache not in USE_CACHE_VALUES:
        raise UserError(f"use_cache must be true or false, got {args.use_cache!r}")
    return args, extra_params(rest)


def check_series(stores: int, data: str, series: str, series_model: str, engine: str) -> None:
    """A UserError for a chain size, series key, series model or engine that cannot be."""
    if stores < 1:
        raise UserError(f"stores must be 1 or more, got {stores}")
    if stores > 1 and data:
        raise UserError("stores sizes the synthetic chain; a table of your own names its series "
                        "key columns with -P series=<column>[,<column>]")
    if series and not data:
        raise UserError("series names the key columns of a table of your own (-P data=...); "
                        "the synthetic chain's stores are keyed by store_id (-P stores=N)")
    if series_model not in SERIES_MODELS:
        raise UserError(f"unknown series_model {series_model!r}; valid: "
                        f"{', '.join(SERIES_MODELS)}")
    check_engine(engine)


def pipeline_settings(args: argparse.Namespace, hyperparameters: dict[str, str],
                      env_manager: str, data_digest: str | None) -> PipelineSettings:
    """The checked parameters bundled for the steps (the model's hyperparameters resolved)."""
    resolved = resolve_hyperparameters(load_config().model(args.model), hyperparameters)
    return PipelineSettings(
        # Empty own-data parameters are left to their defaults: `mlflow run` would log an empty
        # string as its shell-quoted form, ''.
        prepare_params={name: str(getattr(args, name))
                        for name in (*PREPARE_PARAMS, *OWN_DATA_PARAMS) if getattr(args, name)},
        train_params={"model": args.model,
                      **{name: getattr(args, name) for name in (*TRAIN_PARAMS, *ENGINE_PARAMS)
                         if getattr(args, name)},
                      **hyperparameters},
        train_resolved={"model": args.model,
                        **{name: getattr(args, name) for name in TRAIN_PARAMS}, **resolved},
        env_manager=env_manager,
        use_cache=args.use_cache == "true",
        data_digest=data_digest,
    )


def check_capacity(args: argparse.Namespace, at_once: int) -> None:
    """A UserError before any run starts when ``at_once`` synthetic products of ``rows`` days in
    ``stores`` stores would not fit in this machine's memory (a user's table is checked when
    prepare has read it)."""
    if not args.data:
        check_rows(int(args.rows) * int(args.stores),
                   f"stores={args.stores} x rows={args.rows}", at_once)


def worker_count(max_parallel: str) -> int:
    """How many product pipelines run at once: ``max_parallel``, or for 0 one per CPU this
    process may use (a container's CPU limit, not the machine's cores)."""
    try:
        count = int(max_parallel)
    except ValueError:
        count = -1
    if count < 0:
        raise UserError(f"max_parallel must be 0 (one per CPU) or more, got {max_parallel}")
    return count or available_cpus()
