"""End to end: the MLflow UI, served by `mlflow server` and rendered by headless Chromium,
shows the five product experiments and the champion alias.

The store is the shared one where the cheese pipeline ran (a registered champion); the other
four experiments are made by the pipeline's own ``ensure_experiment``, which is cheaper than
running four more pipelines and is what the pipeline does first for each product.
"""

from __future__ import annotations

import pytest

from grocery.config import load_config
from grocery.tracking import ensure_experiment
from scripts.ui import CHROMIUM, browser_page, tracking_server
from tests.champion import CHEESE, shared_champion

CATALOG = load_config()

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is not installed (`make chromium` installs Debian's chromium)")


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    champion = shared_champion(tmp_path_factory)
    client = champion.store.client
    for product in CATALOG.products.values():
        ensure_experiment(client, CATALOG, product)
    with tracking_server(champion.store.uri, tmp_path_factory.mktemp("ui")) as url:
        with browser_page() as page:
            yield url, page


def test_experiments_page_lists_the_five_product_experiments(ui):
    url, page = ui
    page.goto(f"{url}/#/experiments")
    names = [p.experiment for p in CATALOG.products.values()]
    for name in names:
        page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
    assert len(names) == 5
    text = page.inner_text("body")
    for name in names:
        assert name in text
    assert "project_name" in text and "grocery-forecasting" in text


def test_registered_model_page_shows_the_champion_alias(ui):
    url, page = ui
    page.goto(f"{url}/#/models/{CHEESE.registered_model}")
    # The alias chip sits in the version's row of the versions table (the model's description
    # also says "champion", so the whole page's text would prove nothing).
    row = page.get_by_role("row").filter(has_text="Version 1")
    row.get_by_text("@ champion").first.wait_for(timeout=60_000)
    assert " ".join(row.inner_text().split()).endswith("@ champion")  # split() eats the nbsp
