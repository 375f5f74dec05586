"""verify: check that a registered model version is what this package writes, the same way
``predict`` checks it before loading, then build it: run this before ``mlflow models serve``.

``-P model=<name>/<version>`` or ``<name>@<alias>``. A refused version is one ``error:`` line
naming it and the reason (exit 2); what is trusted and refused is in docs/troubleshooting.md.
"""

from __future__ import annotations

import argparse

from mlflow.tracking import MlflowClient

from grocery.config import load_config
from grocery.errors import exit_on_user_error
from grocery.model_trust import version_label
from grocery.names import VERIFY
from grocery.registry import (
    catalog_product,
    load_model,
    parse_model_ref,
    reference_tags,
    resolve,
    version_uri,
)
from grocery.step_run import step_run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--model", required=True)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    ref = parse_model_ref(args.model)
    client = MlflowClient()
    with step_run(VERIFY, catalog_product(load_config(), ref)) as step:
        version = resolve(client, ref)
        step.log(tags=reference_tags(version, ref))
        load_model(version)
        # The version number, not the alias: an alias may move between this check and serving;
        # and no bytecode left in it, which the next check would refuse.
        print(f"{version_label(version)} ({ref}) is what this package writes and loads with the "
              f"catalog's trusted types; serve exactly it: PYTHONDONTWRITEBYTECODE=1 mlflow "
              f"models serve -m {version_uri(version)}")


if __name__ == "__main__":
    exit_on_user_error(main)
