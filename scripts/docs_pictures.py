"""The pictures in docs/: the real pipeline on a real server, seen by a real browser.

Starts ``mlflow server`` on a free loopback port with a temporary SQLite store, runs
``mlflow run . -P product=all --env-manager local`` against it, and captures the MLflow UI with
headless Chromium: the experiments list with their tags, a parent run with its nested step
runs, a registered model with its aliases (a second, weaker cheese model is run too, so there
is a challenger beside the champion), and the champion's logged model with its metrics. The
forecast pictures are the milk train run's own (its fan chart and error by horizon). Run it
with ``make docs``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from grocery.config import load_config
from grocery.registry import logged_model_id
from scripts.services import BIN
from scripts.ui import CHROMIUM, browser_page, tracking_server

PROJECT_DIR = Path(__file__).resolve().parent.parent
DOCS = PROJECT_DIR / "docs"
PRODUCT = load_config().product("cheese")  # the product the pictures show


def run_pipeline(url: str, folder: Path, *params: str) -> None:
    """``mlflow run . -P k=v ... --env-manager local`` against the server at ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(MLFLOW_TRACKING_URI=url, PATH=f"{BIN}{os.pathsep}{env['PATH']}")
    command = [str(BIN / "mlflow"), "run", str(PROJECT_DIR), "--env-manager", "local"]
    for param in params:
        command += ["-P", param]
    subprocess.run(command, cwd=folder, env=env, check=True)


# A train run's evaluation pictures -> where docs/forecasting.md shows them.
FORECAST_PICTURES = {"fan_chart.png": "forecast-fan-chart.png",
                     "error_by_horizon.png": "forecast-error-by-horizon.png"}


def copy_forecast_pictures(url: str, out: Path, product: str = "milk") -> None:
    """The newest train run's fan chart and error-by-horizon chart of ``product``."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    experiment = client.get_experiment_by_name(load_config().product(product).experiment)
    train = client.search_runs([experiment.experiment_id],
                               filter_string="tags.`grocery.step` = 'train'",
                               order_by=["attributes.start_time DESC"], max_results=1)[0]
    with tempfile.TemporaryDirectory() as folder:
        for name, target in FORECAST_PICTURES.items():
            local = client.download_artifacts(train.info.run_id, f"evaluation/{name}", folder)
            (out / target).write_bytes(Path(local).read_bytes())
            print(f"wrote {out / target}")


def capture_runs(url: str, out: Path) -> list[Path]:
    """The experiments list and one parent run with its nested step runs."""
    from mlflow.tracking import MlflowClient

    experiment = MlflowClient(tracking_uri=url).get_experiment_by_name(PRODUCT.experiment)
    written = []
    with browser_page(width=1700, height=1000) as page:
        # 1. The experiments, one per product, with every tag of one of them opened.
        page.goto(f"{url}/#/experiments")
        page.get_by_text(PRODUCT.experiment).first.wait_for()
        page.get_by_text("Model training", exact=True).first.click()
        close_assistant(page)
        row = page.get_by_role("row").filter(has_text=PRODUCT.experiment).first
        # The chip that opens the tags not shown ("+4", "+7"...: the experiment rule adds some).
        row.get_by_text(re.compile(r"^\+\d+$")).first.click()
        page.get_by_text(f"product: {PRODUCT.name}").or_(
            page.get_by_text(PRODUCT.department, exact=True)).first.wait_for()
        written.append(shot(page, out / "ui-experiments.png", height=430))

        # 2. The product's parent run expanded: its nested prepare, train and register runs.
        page.goto(f"{url}/#/experiments/{experiment.experiment_id}/runs")
        page.get_by_text(f"{PRODUCT.name}-pipeline").first.wait_for()
        close_assistant(page)
        for expander in page.locator(
                "button[data-component-id*='runnamecellrenderer']").all():
            expander.click()
        page.get_by_text(f"{PRODUCT.name}-train").first.wait_for()
        page.get_by_role("button", name="Columns", exact=True).click()
        for metric in ("rmse", "r2"):
            page.locator(f".du-bois-light-tree-treenode:has(span[title='{metric}']) "
                         ".du-bois-light-tree-checkbox").first.click()
        page.keyboard.press("Escape")
        written.append(shot(page, out / "ui-nested-runs.png", height=420))
    return written


def capture_registry(url: str, out: Path) -> list[Path]:
    """The registered model with a champion and a challenger version."""
    written = []
    with browser_page(width=1700, height=1000) as page:
        # 3. The registered model: its versions, their lineage tags and aliases.
        page.goto(f"{url}/#/models/{PRODUCT.registered_model}")
        page.get_by_text("challenger").first.wait_for()
        page.get_by_text("Model training", exact=True).first.click()
        close_assistant(page)
        written.append(shot(page, out / "ui-registered-model.png", height=1000))
    return written


def capture_logged_model(url: str, out: Path) -> list[Path]:
    """The champion's logged model: its name, params and metrics tied to the backtest dataset."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    champion = client.get_model_version_by_alias(PRODUCT.registered_model, "champion")
    model = client.get_logged_model(logged_model_id(champion))
    with browser_page(width=1700, height=1000) as page:
        # 4. The logged model's page: the metrics the train run and the gate logged on it.
        page.goto(f"{url}/#/experiments/{model.experiment_id}/models/{model.model_id}")
        page.get_by_text(model.name).first.wait_for()
        page.get_by_text("gate_rmse").first.wait_for()
        close_assistant(page)
        return [shot(page, out / "ui-logged-model.png", height=1000)]


def close_assistant(page) -> None:
    """Close the chat side panel if it is open: it hides half of the page."""
    page.wait_for_timeout(1000)
    close = page.locator("button[aria-label='Close']")
    if close.count():
        close.last.click()


def shot(page, path: Path, height: int) -> Path:
    page.wait_for_timeout(1500)  # let tables and popovers settle after the last request
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": 1700, "height": height})
    print(f"wrote {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"error: {CHROMIUM} is missing; install it with `make chromium`")
    with tempfile.TemporaryDirectory(prefix="grocery-docs-") as tmp:
        folder = Path(tmp)
        with tracking_server(f"sqlite:///{folder / 'mlflow.db'}", folder) as url:
            print(f"mlflow server at {url}")
            run_pipeline(url, folder, "product=all")
            copy_forecast_pictures(url, args.out)
            capture_runs(url, args.out)
            # A deliberately weak second model, so the registry shows a challenger too.
            run_pipeline(url, folder, f"product={PRODUCT.name}", "model=random_forest",
                         "max_depth=2", "n_estimators=5")
            capture_registry(url, args.out)
            capture_logged_model(url, args.out)


if __name__ == "__main__":
    main()
