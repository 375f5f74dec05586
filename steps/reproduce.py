"""reproduce: rebuild a registered version from its commit and compare data and metrics.

Clones the recorded repository at the recorded commit into a temporary folder (the user's
working tree is never touched), reruns prepare and train there with the recorded parameters into
the scratch experiment ``reproduce-<model name>``, prints a table and exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import os
import sys

import mlflow
from mlflow.tracking import MlflowClient

from grocery.errors import exit_on_user_error
from grocery.names import TAG_DATA_DIGEST
from grocery.registered import parse_model_ref, resolve
from grocery.reproduce import checkout, compare, format_table, read_lineage
from grocery.tracking import env_manager_of, run_location, scratch_experiment


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    client = MlflowClient()
    version = resolve(client, parse_model_ref(args.model))
    lineage = read_lineage(client, version)
    launcher_id = os.environ.pop("MLFLOW_RUN_ID", None)
    env_manager = env_manager_of(client, launcher_id)
    experiment_id = scratch_experiment(client, f"reproduce-{version.name}")

    with checkout(lineage.repository, lineage.commit) as project, mlflow.start_run(
        experiment_id=experiment_id, run_name=f"reproduce-{version.name}-v{version.version}"
    ) as parent:
        if launcher_id:
            client.set_tag(launcher_id, "reproduce.run_id", parent.info.run_id)
        mlflow.set_tags({"reproduce.model": f"{version.name}/{version.version}",
                         "reproduce.commit": lineage.commit})
        print(f"reproducing {version.name}/{version.version} from {lineage.commit} "
              f"({run_location(parent)})", flush=True)
        prepare = mlflow.run(str(project), "prepare", parameters=lineage.prepare_params,
                             experiment_id=experiment_id, env_manager=env_manager)
        train = mlflow.run(str(project), "train",
                           parameters={"data": f"runs:/{prepare.run_id}/data",
                                       **lineage.train_params},
                           experiment_id=experiment_id, env_manager=env_manager)
        rebuilt_digest = client.get_run(prepare.run_id).data.tags[TAG_DATA_DIGEST]
        rows = compare(lineage, rebuilt_digest, client.get_run(train.run_id).data.metrics)
        equal = all(row[-1] for row in rows)
        mlflow.set_tag("reproduce.equal", str(equal).lower())

    print()
    print(format_table(rows))
    if not equal:
        hint = ""
        if lineage.dirty == "true":
            hint = (f"; the version was trained from a dirty work tree "
                    f"(grocery.git.dirty=true), so commit {lineage.commit} lacks its edits")
        print(f"error: {version.name}/{version.version} does not reproduce{hint}",
              file=sys.stderr)
        sys.exit(1)
    print(f"{version.name}/{version.version} reproduces from {lineage.commit}")


if __name__ == "__main__":
    exit_on_user_error(main)
