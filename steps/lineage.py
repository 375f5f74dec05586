"""lineage: where a registered model version came from, from the model back to the code.

``-P model=<name>/<version>`` or ``<name>@<alias>``; ``-P format=json`` prints the same as JSON.
The chain is also logged as ``lineage.json`` on this entry point's run.
"""

from __future__ import annotations

import argparse

from mlflow.tracking import MlflowClient

from grocery.config import load_config
from grocery.errors import exit_on_user_error
from grocery.lineage import chain_record, check_format, read_chain, render
from grocery.names import LINEAGE
from grocery.registry import catalog_product, parse_model_ref, reference_tags, resolve
from grocery.step_run import step_run
from grocery.tracking import log_json

RECORD_FILE = "lineage.json"  # the chain among the run's artifacts


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--model", required=True)
    parser.add_argument("--format", default="text")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    check_format(args.format)
    ref = parse_model_ref(args.model)
    client = MlflowClient()
    with step_run(LINEAGE, catalog_product(load_config(), ref)) as step:
        version = resolve(client, ref)
        step.log(tags=reference_tags(version, ref))
        record = chain_record(read_chain(client, version))
        log_json(step.run, record, RECORD_FILE)
        print(render(record, args.format))


if __name__ == "__main__":
    exit_on_user_error(main)
