"""Serve the dashboard and drive it with Debian's Chromium: shared by the browser test and the
README screenshots.

    uv run python packages/dashboard/scripts/screenshots.py [--serving-file PATH] [--out DIR]

Without `--serving-file` it serves a synthetic serving file (`mmds_dashboard.synthetic`, as the
tests do). Writes one PNG per page into `--out` (default: the package's docs/ folder).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# url path (the default page lives at the root), title shown on the page
PAGES = {
    "": "Vancouver 3-1-1 requests",
    "neighbourhoods": "Neighbourhoods",
    "request_types": "Request types",
    "data_health": "Data health",
}
# what each page must show before it counts as rendered
PAGE_ELEMENTS = {
    "": ["stMetric", "stVegaLiteChart"],
    "neighbourhoods": ["stDeckGlJsonChart", "stDataFrame"],
    "request_types": ["stVegaLiteChart", "stDataFrame"],
    "data_health": ["stMetric", "stVegaLiteChart", "stDataFrame"],
}
VIEWPORT = {"width": 1400, "height": 1800}
START_TIMEOUT_S = 90


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running `mmds-dashboard` and where its output goes."""

    url: str
    process: subprocess.Popen
    log: Path


@contextmanager
def serve(serving_file: Path, log: Path) -> Iterator[Server]:
    """Run `mmds-dashboard` on an ephemeral loopback port until the block ends."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("mmds-dashboard")),
        "--port",
        str(port),
        "--serving-file",
        str(serving_file),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (the project's own console script)
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        _wait_healthy(server)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the launcher and its Streamlit child
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"mmds-dashboard exited:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as reply:  # noqa: S310 (loopback http)
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"mmds-dashboard did not answer within {START_TIMEOUT_S} s")


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright never downloads a browser here)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """What one page showed."""

    metrics: dict[str, str]
    charts: int
    map_coloured_pixels: int
    exceptions: int
    screenshot: Path


@dataclass
class Session:
    """A browser page on the dashboard that records every request it makes."""

    page: Page
    base_url: str
    requested_hosts: set[str] = field(default_factory=set)

    def visit(self, url_path: str, screenshot: Path) -> Visit:
        """Open a page, wait until it has rendered, screenshot it and report what it shows."""
        self.page.goto(f"{self.base_url}/{url_path}")
        self.page.get_by_role("heading", name=PAGES[url_path]).first.wait_for(timeout=60_000)
        for test_id in PAGE_ELEMENTS[url_path]:
            self.page.locator(f'[data-testid="{test_id}"]').first.wait_for(timeout=60_000)
        self.page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached")
        charts = self.page.locator('[data-testid="stVegaLiteChart"]')
        for i in range(charts.count()):
            charts.nth(i).locator("canvas, svg").first.wait_for(timeout=30_000)
        deck = self.page.locator('[data-testid="stDeckGlJsonChart"]')
        coloured = 0
        if deck.count():
            deck.locator("canvas").first.wait_for(timeout=30_000)
            time.sleep(1.5)  # let deck.gl draw its layers
            coloured = _coloured_pixels(deck.first.screenshot())
        self.page.wait_for_timeout(800)
        self.page.screenshot(path=str(screenshot), full_page=True)
        metrics = {}
        for metric in self.page.locator('[data-testid="stMetric"]').all():
            label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
            metrics[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
        return Visit(
            metrics=metrics,
            charts=charts.count(),
            map_coloured_pixels=coloured,
            exceptions=self.page.locator('[data-testid="stException"]').count(),
            screenshot=screenshot,
        )


@contextmanager
def session(browser: Browser, base_url: str) -> Iterator[Session]:
    """A fresh browser context on `base_url` that records the host of every request."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    recorder = Session(page=page, base_url=base_url)
    page.on("request", lambda request: recorder.requested_hosts.add(_host(request.url)))
    try:
        yield recorder
    finally:
        context.close()


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.hostname or parts.scheme


def _coloured_pixels(png: bytes) -> int:
    """Pixels that are clearly red (the map's request circles)."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if r > 150 and g < 120 and b < 120)


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshot every dashboard page.")
    parser.add_argument("--serving-file", type=Path, help="serve this file (default: synthetic)")
    parser.add_argument(
        "--requests", type=int, default=150_000, help="size of the synthetic file (default 150k)"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dashboard-screenshots-") as scratch:
        serving_file = args.serving_file
        if serving_file is None:
            from mmds_dashboard.synthetic import SyntheticSpec, write_synthetic_serving_file

            serving_file = write_synthetic_serving_file(
                Path(scratch) / "serving.duckdb", SyntheticSpec(requests=args.requests)
            )
        with (
            serve(serving_file, Path(scratch) / "server.log") as server,
            chromium() as browser,
            session(browser, server.url) as tab,
        ):
            for url_path in PAGES:
                visit = tab.visit(url_path, args.out / f"{url_path or 'overview'}.png")
                print(f"{visit.screenshot}: {visit.charts} charts, {len(visit.metrics)} metrics")


if __name__ == "__main__":
    main()
