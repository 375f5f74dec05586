"""An MLflow tracking server on a free loopback port, and headless Debian Chromium to look at it.

Used by ``scripts/docs_pictures.py`` (the pictures in docs/) and by the UI test. The browser is
the system's ``/usr/bin/chromium`` driven by Playwright; no browser is ever downloaded.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from scripts.services import TrackingServer

CHROMIUM = Path("/usr/bin/chromium")
# Headless, offline and with nothing remembered: no sandbox (we run as root in CI), no GPU,
# no background calls home, no component or sync downloads, no first-run pages, no QUIC.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@contextlib.contextmanager
def tracking_server(store_uri: str, folder: Path) -> Iterator[str]:
    """``mlflow server`` on ``store_uri`` on a free loopback port, proxying artifacts into
    ``folder/mlartifacts``; yields its URL."""
    server = TrackingServer(store_uri, folder, workers=1).start()
    try:
        yield server.uri
    finally:
        server.stop()


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 900) -> Iterator[object]:
    """A Playwright page in headless /usr/bin/chromium with a new, empty profile."""
    from playwright.sync_api import sync_playwright

    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(profile), executable_path=str(CHROMIUM), headless=True,
                args=CHROMIUM_FLAGS, viewport={"width": width, "height": height},
            )
            try:
                yield context.pages[0] if context.pages else context.new_page()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
