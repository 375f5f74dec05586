"""Command-line plumbing shared by the step scripts."""

from __future__ import annotations

import argparse

from grocery.config import load_config
from grocery.dataset import split_sizes
from grocery.errors import UserError
from grocery.modeling import resolve_hyperparameters

PREPARE_PARAMS = ("rows", "end_date", "seed", "validation_fraction", "split")
OWN_DATA_PARAMS = ("data", "target", "date_column", "department")


def extra_params(rest: list[str]) -> dict[str, str]:
    """Parameters not declared in MLproject, which `mlflow run` appends as ``--name value``."""
    if len(rest) % 2 or not all(key.startswith("--") for key in rest[::2]):
        raise UserError(f"cannot read parameters {' '.join(rest)!r}; use -P name=value")
    return {key[2:]: value for key, value in zip(rest[::2], rest[1::2], strict=True)}


def add_pipeline_arguments(parser: argparse.ArgumentParser) -> None:
    """The parameters `main` and `pipeline` share: product, prepare's, model, use_cache."""
    parser.add_argument("--product", required=True)
    for name in (*PREPARE_PARAMS, *OWN_DATA_PARAMS):
        parser.add_argument(f"--{name.replace('_', '-')}", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--use-cache", required=True)


def pipeline_settings(args: argparse.Namespace, hyperparameters: dict[str, str],
                      env_manager: str):  # -> grocery.pipeline.PipelineSettings
    """Check the pipeline parameters before any run starts, and bundle them for the steps."""
    from grocery.pipeline import PipelineSettings

    try:
        rows, fraction = int(args.rows), float(args.validation_fraction)
        int(args.seed)
    except ValueError as error:
        raise UserError(
            f"rows and seed must be integers, validation_fraction a number: {error}"
        ) from None
    split_sizes(rows, fraction, args.split)
    if args.use_cache not in ("true", "false"):
        raise UserError(f"use_cache must be true or false, got {args.use_cache!r}")
    resolved = resolve_hyperparameters(load_config().model(args.model), hyperparameters)
    return PipelineSettings(
        # Empty own-data parameters are left to their defaults: `mlflow run` would log an empty
        # string as its shell-quoted form, ''.
        prepare_params={name: str(getattr(args, name))
                        for name in (*PREPARE_PARAMS, *OWN_DATA_PARAMS) if getattr(args, name)},
        train_params={"model": args.model, **hyperparameters},
        train_resolved={"model": args.model, **resolved},
        env_manager=env_manager,
        use_cache=args.use_cache == "true",
    )
