"""End to end: the README's walkthrough, its own commands read from README.md and run in order in
a fresh copy of the project (a git repository, so `reproduce` can clone its commit) with its own
`mlflow.db`; each command prints what the README shows, in shape (run ids, numbers and paths
differ from run to run), and the store then holds what the walkthrough says it does.

The walkthrough lets the reader run one product (`make run PRODUCT=cheese`) instead of all five:
this test does, and leaves the other products' lines out of the comparison. `mlflow ui` is not
started (the UI has its own test, tests/test_ui_e2e.py); `mlflow models serve` is, on a free port.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from grocery.config import load_config
from scripts.services import free_port, start, stop, wait_until_ready
from tests.conftest import BIN, PROJECT_DIR, copy_project, repository_state

README = PROJECT_DIR / "README.md"
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```", re.M | re.S)
PRODUCT = "cheese"  # the product the walkthrough follows
STEP_LINE = re.compile(r"^(\w+) (prepare|train|register): run ([0-9a-f]{32})", re.M)
SERVE_PORT = "5001"  # the walkthrough's port, replaced by a free one


@dataclass
class Step:
    """A bash block of the walkthrough and the output block the README shows after it."""

    commands: str
    shown: str | None


def walkthrough() -> list[Step]:
    """The README's `## Walkthrough` section as its command blocks, in order."""
    text = README.read_text()
    section = text.split("\n## Walkthrough\n", 1)[1].split("\n## ", 1)[0]
    fences = [(m.group(1), m.group(2)) for m in FENCE.finditer(section)]
    steps = []
    for position, (language, body) in enumerate(fences):
        if language == "bash":
            following = fences[position + 1] if position + 1 < len(fences) else ("bash", "")
            steps.append(Step(body, following[1] if following[0] == "" else None))
    return steps


def normalised(line: str) -> str:
    """A line with what differs between runs blanked: paths, ids, numbers, column widths."""
    line = re.sub(r"sqlite:/+\S*?mlflow\.db", "<store>", line)
    line = re.sub(r"(?<![\w:/.])/[\w./-]+", "<path>", line)
    line = re.sub(r"\b[0-9a-f]{16,40}\b", "<id>", line)
    line = re.sub(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", "<n>", line)
    line = re.sub(r"-{2,}", "-", line)
    return " ".join(line.split())


def other_products() -> list[str]:
    config = load_config()
    return [word for name, product in config.products.items() if name != PRODUCT
            for word in (name, product.experiment)]


def shown_lines(shown: str, one_product: bool) -> list[str]:
    """The output lines the README shows (those of other products left out when one ran)."""
    lines = [line for line in shown.splitlines() if line.strip() and line.strip() != "..."]
    if one_product:
        lines = [line for line in lines if not any(w in line for w in other_products())]
    return lines


def assert_shape(shown: list[str], printed: str, commands: str) -> None:
    """Each shown line matches a printed line, in order (`...` inside a line matches anything)."""
    actual = [normalised(line) for line in printed.splitlines() if line.strip()]
    position = 0
    for line in shown:
        pattern = re.escape(normalised(line)).replace(re.escape("..."), ".*")
        while position < len(actual) and not re.fullmatch(pattern, actual[position]):
            position += 1
        assert position < len(actual), (f"{commands}\nprinted no line shaped like\n  {line}\n"
                                        f"printed:\n{printed}")
        position += 1


class Walker:
    """Runs the walkthrough's blocks in a copy of the project, as a reader's shell would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Nor this machine's PYTHONDONTWRITEBYTECODE: Python's default, as a reader's has it.
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("MLFLOW_") and k != "PYTHONDONTWRITEBYTECODE"}
        self.env.update(PATH=f"{BIN}{os.pathsep}{self.env['PATH']}",
                        MLFLOW_DISABLE_TELEMETRY="true")
        self.runs: dict[tuple[str, str], str] = {}  # (product, step) -> the newest run id
        self.latest: dict[str, str] = {}  # step -> the newest run id of any product
        self.printed: list[tuple[str, str, str]] = []  # every (product, step, run id) printed
        self.port = str(free_port())
        self.server: subprocess.Popen | None = None
        self.one_product = False  # once `make run PRODUCT=all` ran one product instead
        self.reproduced: tuple[dict, dict] | None = None  # the repository before and after

    def filled(self, commands: str) -> str:
        """The block with its placeholders filled from what earlier blocks printed."""
        def run_id(match: re.Match) -> str:
            product, step = match.group(1), match.group(2)
            return self.runs[(product, step)] if product else self.latest[step]
        commands = re.sub(r"<(?:(\w+) )?(prepare|train) run id>", run_id, commands)
        commands = commands.replace("PRODUCT=all", f"PRODUCT={PRODUCT}")
        return commands.replace(f":{SERVE_PORT}", f":{self.port}").replace(
            f"--port {SERVE_PORT}", f"--port {self.port}")

    def run(self, step: Step) -> None:
        commands = self.filled(step.commands)
        if commands.startswith("mlflow ui"):
            return
        if "mlflow models serve" in commands.split("\n", 1)[0]:
            log = self.folder / "serve.log"
            self.server = start(["bash", "-c", commands.replace("\\\n", " ")], log,
                                self.folder, self.env)
            wait_until_ready(f"http://127.0.0.1:{self.port}/ping", self.server, log)
            return
        before = repository_state(self.folder)
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=self.folder,
                              env=self.env, capture_output=True, text=True, timeout=900)
        if "-e reproduce" in commands:
            self.reproduced = before, repository_state(self.folder)
        assert done.returncode == 0, f"{commands}\nexit {done.returncode}\n{done.stdout}\n" \
                                     f"{done.stderr[-3000:]}"
        for product, name, run in STEP_LINE.findall(done.stdout):
            self.runs[(product, name)] = self.latest[name] = run
            self.printed.append((product, name, run))
        self.one_product |= "PRODUCT=all" in step.commands
        if step.shown is not None:
            assert_shape(shown_lines(step.shown, self.one_product), done.stdout, commands)

    def close(self) -> None:
        if self.server is not None:
            stop(self.server)


@pytest.fixture(scope="module")
def walked(tmp_path_factory) -> Walker:
    """The whole walkthrough, run once in a fresh copy of the project."""
    folder = copy_project(tmp_path_factory.mktemp("walkthrough") / "grocery-forecasting")
    (folder / ".venv").symlink_to(PROJECT_DIR / ".venv")
    # .gitignore's `.venv/` matches a folder, not this link: keep the work tree clean, as a
    # clone's own .venv folder leaves it.
    with (folder / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(".venv\n")
    # `make run` rebuilds the venv when a requirements file is newer than it: the copy's are not.
    for requirements in folder.glob("requirements*.txt"):
        os.utime(requirements, (0, 0))
    walker = Walker(folder)
    try:
        for step in walkthrough():
            walker.run(step)
    finally:
        walker.close()
    return walker


def test_the_walkthrough_has_the_steps_the_issue_asks_for():
    commands = "\n".join(step.commands for step in walkthrough())
    for needed in ("make run PRODUCT=all", "source .venv/bin/activate", "mlflow ui",
                   "-e prepare", "-e train", "-e register", "-P data=$PWD/sourdough.csv",
                   "-e predict", "mlflow models serve", "curl", "-e lineage", "-e reproduce"):
        assert needed in commands, needed


def test_every_walkthrough_command_prints_what_the_readme_shows(walked):
    client = MlflowClient(tracking_uri=f"sqlite:///{walked.folder / 'mlflow.db'}")
    # Cheese's train runs: the pipeline's (step 1), by hand (step 7), reproduce's (step 11).
    trains = [run for product, step, run in walked.printed
              if (product, step) == (PRODUCT, "train")]
    assert len(trains) == 3
    # Step 7 registered version 2 and moved @champion to it; steps 9-11 used it.
    champion = client.get_model_version_by_alias("grocery-forecasting-cheese", "champion")
    assert str(champion.version) == "2" and champion.tags["train_run_id"] == trains[1]
    # Step 8: the own product, its own experiment and department.
    sourdough = client.get_experiment_by_name("Sourdough_Models")
    assert sourdough.tags["store_dept"] == "bakery"
    assert client.get_model_version_by_alias("grocery-forecasting-sourdough", "champion")
    # Steps 9 and 10: the forecasts, seven days each, where the README says.
    for name in ("cheese_forecast.csv", "sourdough_forecast.csv"):
        assert len((walked.folder / name).read_text().splitlines()) == 8, name
    # Step 11: `reproduce` exited 0, so the data digest and every metric came out equal; it
    # rebuilt prepare and train under a parent in its own experiment and left the user's
    # repository as it was (HEAD, branches, remotes, depth, work tree).
    scratch = client.get_experiment_by_name("reproduce-grocery-forecasting-cheese")
    assert len(client.search_runs([scratch.experiment_id])) == 3  # parent, prepare, train
    before, after = walked.reproduced
    assert after == before
    # Serving the champion (step 10) left no bytecode in the store: predict still takes it.
    assert not list((walked.folder / "mlruns").rglob("__pycache__"))
    # Where a local store keeps its artifacts: mlruns/<experiment name>/ beside mlflow.db.
    assert (walked.folder / "mlruns" / "Cheese_Models" / trains[0] / "artifacts" / "evaluation"
            / "fan_chart.png").exists()
