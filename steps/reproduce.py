"""reproduce: rebuild a registered version from its commit and compare data and metrics.

Clones the recorded repository at the recorded commit into a temporary folder (the user's
working tree is never touched), reruns prepare and train there with the recorded parameters into
the scratch experiment ``reproduce-<model name>``, prints a table and exits 1 on any mismatch.
Only a repository that is this checkout's folder or one of its git remotes, or is listed in
``allowed_repositories`` (comma-separated), is cloned, and only at a full commit id.
"""

from __future__ import annotations

import argparse
import os
import sys

import mlflow
from mlflow.tracking import MlflowClient

from grocery import reproduce
from grocery.errors import exit_on_user_error
from grocery.lineage import read_chain
from grocery.names import TAG_REPRODUCE_EQUAL
from grocery.registry import parse_model_ref, resolve, version_ref
from grocery.tracking import configure_mlflow, env_manager_of, run_location
from grocery.trusted_clone import checkout


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--model", required=True)
    parser.add_argument("--allowed-repositories", default="")
    return parser.parse_args()


def main() -> None:
    configure_mlflow()
    args = parse_args()
    client = MlflowClient()
    version = resolve(client, parse_model_ref(args.model))
    chain = read_chain(client, version)
    reproduce.check_reproducible(chain)
    source = reproduce.source_to_clone(chain, args.allowed_repositories)
    # The entry point's own run stays as `mlflow run` made it; the rebuild gets runs of its own.
    launcher_id = os.environ.pop("MLFLOW_RUN_ID", None)
    env_manager = env_manager_of(client.get_run(launcher_id) if launcher_id else None)

    with (checkout(source, chain.git.commit) as project,
          reproduce.reproduction_run(client, chain, launcher_id) as parent):
        print(f"reproducing {version_ref(version)} from {chain.git.commit} "
              f"({run_location(parent)})", flush=True)
        rebuilt = reproduce.rebuild(client, project, chain, parent, env_manager)
        rows = reproduce.compare(chain, *rebuilt)
        equal = all(row[-1] for row in rows)
        mlflow.set_tag(TAG_REPRODUCE_EQUAL, str(equal).lower())

    print()
    print(reproduce.comparison_table(rows))
    if not equal:
        print(f"error: {reproduce.mismatch_message(chain)}", file=sys.stderr)
        sys.exit(1)
    print(f"{version_ref(version)} reproduces from {chain.git.commit}")


if __name__ == "__main__":
    exit_on_user_error(main)
