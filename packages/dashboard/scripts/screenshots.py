"""Serve the dashboard and drive it with Debian's Chromium: shared by the browser test, the
benchmark's browser figures and the README screenshots.

    uv run python packages/dashboard/scripts/screenshots.py [--serving-file PATH] [--out DIR]

Without `--serving-file` it serves what `mmds run --sample` publishes from `--requests`
generated requests (default 1,000,000; the root `tests/published_serving.py` runs it). Writes two
PNGs per page into `--out` (default: the package's docs/ folder): `<page>.png` at 1400 px wide
and `<page>-phone.png` at 390 px.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
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
REPOSITORY = Path(__file__).resolve().parents[3]
PUBLISHER = REPOSITORY / "tests/published_serving.py"  # read by path: no package import
# url path (the default page lives at the root), title shown on the page
PAGES = {
    "": "Vancouver 3-1-1 requests",
    "neighbourhoods": "Neighbourhoods",
    "request_types": "Request types",
    "data_health": "Data health",
    "about": "About this dashboard",
}
# what each page must show before it counts as rendered
PAGE_ELEMENTS = {
    "": ["stMetric", "stVegaLiteChart"],
    "neighbourhoods": ["stVegaLiteChart", "stDataFrame"],
    "request_types": ["stVegaLiteChart", "stMarkdown"],
    "data_health": ["stMetric", "stVegaLiteChart"],
    "about": ["stMarkdown"],
}
WIDE = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
START_TIMEOUT_S = 90
ALLOWED_HOSTS = {"127.0.0.1", "data", "blob"}  # the server, inline images, Streamlit's blobs
# Elements of the page that stick out beyond the viewport's right edge (the sidebar, when
# collapsed, sits off-screen to the left and is not counted).
_OVERFLOW_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== main; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX !== 'visible' && up.getBoundingClientRect().right <= width + 1) {
        return true;
      }
    }
    return false;
  };
  const wide = [];
  for (const el of main.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1 && !clipped(el)) {
      const owner = el.closest('[data-testid^="st"]');
      wide.push((owner ? owner.getAttribute('data-testid') + ' > ' : '') + el.tagName + ' '
                + Math.round(box.right));
    }
  }
  const scroller = [main, document.scrollingElement].filter(
    (e) => e && e.scrollWidth > e.clientWidth + 1);
  return wide.slice(0, 10).concat(scroller.map((e) => 'scrolls: ' + e.tagName));
}
"""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running server and where its output goes."""

    url: str
    process: subprocess.Popen
    log: Path


def dashboard_command(serving_file: Path) -> Callable[[int], list[str]]:
    """`mmds-dashboard` serving `serving_file` on a given port."""
    launcher = Path(sys.executable).with_name("mmds-dashboard")
    return lambda port: [str(launcher), "--port", str(port), "--serving-file", str(serving_file)]


@contextmanager
def serve(
    serving_file: Path, log: Path, command: Callable[[int], list[str]] | None = None
) -> Iterator[Server]:
    """Run `mmds-dashboard` on `serving_file` (or `command(port)`) on an ephemeral loopback
    port until the block ends."""
    port = free_port()
    command = (command or dashboard_command(serving_file))(port)
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
            raise RuntimeError(f"the server exited:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as reply:  # noqa: S310 (loopback http)
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"the server did not answer within {START_TIMEOUT_S} s")


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


def settle(page: Page, url: str, title: str, elements: list[str]) -> float:
    """Open `url` and wait until the page has settled: its title and `elements` shown, the
    script finished (Streamlit's status widget gone), every chart drawn. Returns the seconds
    from the start of navigation."""
    started = time.perf_counter()
    page.goto(url)
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
    for test_id in elements:
        page.locator(f'[data-testid="{test_id}"]').first.wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached")
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    for i in range(charts.count()):
        charts.nth(i).locator("canvas, svg").first.wait_for(timeout=30_000)
    return time.perf_counter() - started


@dataclass
class Visit:
    """What one page showed."""

    metrics: dict[str, str]
    charts: int
    map_coloured_pixels: int
    exceptions: int
    overflow: list[str]
    screenshot: Path


@dataclass
class Session:
    """A browser page on the dashboard that records every request it makes."""

    page: Page
    base_url: str
    requested_hosts: set[str] = field(default_factory=set)

    def visit(self, url_path: str, screenshot: Path) -> Visit:
        """Open a page, wait until it has settled, screenshot it and report what it shows."""
        settle(self.page, f"{self.base_url}/{url_path}", PAGES[url_path], PAGE_ELEMENTS[url_path])
        return self.inspect(screenshot)

    def inspect(self, screenshot: Path) -> Visit:
        """Screenshot the settled page and report what it shows."""
        self.page.wait_for_timeout(600)  # let Vega finish its transitions
        charts = self.page.locator('[data-testid="stVegaLiteChart"]')
        coloured = 0
        if "neighbourhoods" in self.page.url and charts.count():
            coloured = _coloured_pixels(charts.first.screenshot())
        # Streamlit scrolls its main block, not the page: grow the window to the whole page.
        viewport = self.page.viewport_size
        height = self.page.evaluate(
            "() => (document.querySelector('[data-testid=\"stMain\"]') || document.body)"
            ".scrollHeight"
        )
        self.page.set_viewport_size({"width": viewport["width"], "height": min(height, 6000)})
        self.page.wait_for_timeout(400)
        self.page.screenshot(path=str(screenshot))
        self.page.set_viewport_size(viewport)
        metrics = {}
        for metric in self.page.locator('[data-testid="stMetric"]').all():
            label = metric.locator('[data-testid="stMetricLabel"]').inner_text().strip()
            metrics[label] = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
        return Visit(
            metrics=metrics,
            charts=charts.count(),
            map_coloured_pixels=coloured,
            exceptions=self.page.locator('[data-testid="stException"]').count(),
            overflow=self.page.evaluate(_OVERFLOW_JS),
            screenshot=screenshot,
        )


@contextmanager
def session(browser: Browser, base_url: str, viewport: dict[str, int] = WIDE) -> Iterator[Session]:
    """A fresh browser context on `base_url` that records the host of every request."""
    context = browser.new_context(viewport=viewport)
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
    """Pixels that are clearly coloured (the map's areas), not white, grey or black."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in image.get_flattened_data() if max(r, g, b) - min(r, g, b) > 40)


def sample_file(data_dir: Path, requests: int) -> Path:
    """The serving file `mmds run --sample` publishes from `requests` generated requests."""
    spec = importlib.util.spec_from_file_location("published_serving", PUBLISHER)
    publisher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(publisher)
    return publisher.publish_sample(data_dir, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshot every dashboard page.")
    parser.add_argument(
        "--serving-file", type=Path, help="serve this file (default: `mmds run --sample`)"
    )
    parser.add_argument(
        "--requests", type=int, default=1_000_000, help="requests of the sample (default 1M)"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "docs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dashboard-screenshots-") as scratch:
        serving_file = args.serving_file or sample_file(Path(scratch) / "data", args.requests)
        with (
            serve(serving_file, Path(scratch) / "server.log") as server,
            chromium() as browser,
        ):
            for viewport, suffix in ((WIDE, ""), (PHONE, "-phone")):
                with session(browser, server.url, viewport) as tab:
                    for url_path in PAGES:
                        name = f"{url_path or 'overview'}{suffix}.png"
                        visit = tab.visit(url_path, args.out / name)
                        print(
                            f"{visit.screenshot}: {visit.charts} charts, overflow {visit.overflow}"
                        )


if __name__ == "__main__":
    main()
