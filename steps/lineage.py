"""lineage: where a registered model version came from, from the model back to the code.

``-P model=<name>/<version>`` or ``<name>@<alias>``; ``-P format=json`` prints the same as JSON.
The chain is also logged as ``lineage.json`` on this entry point's run.
"""

from __future__ import annotations

import argparse

import mlflow
from mlflow.tracking import MlflowClient

from grocery.config import load_config
from grocery.errors import UserError, exit_on_user_error
from grocery.lineage import FORMATS, lineage, render
from grocery.registered import parse_model_ref, resolve
from grocery.tracking import step_run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--format", default="text")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.format not in FORMATS:
        raise UserError(f"unknown format {args.format!r}; valid formats: {', '.join(FORMATS)}")
    ref = parse_model_ref(args.model)
    product = next((p for p in load_config().products.values()
                    if p.registered_model == ref.name), None)
    with step_run("lineage", product):
        version = resolve(MlflowClient(), ref)
        mlflow.set_tags({"registered_model": version.name, "model_version": version.version,
                         "model_reference": str(ref)})
        chain = lineage(MlflowClient(), version)
        mlflow.log_dict(chain, "lineage.json")
        print(render(chain, args.format))


if __name__ == "__main__":
    exit_on_user_error(main)
