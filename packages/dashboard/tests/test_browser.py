"""A real browser (Debian's Chromium) against `mmds-dashboard` serving the fixture file: every
page wide and at phone width, offline, and what a person does with it."""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mmds_dashboard.synthetic import write_synthetic_serving_file

SCRIPT = Path(__file__).parents[1] / "scripts" / "screenshots.py"
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a few minutes of Chromium: left out of a `-m "not slow"` run
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


def _driver():
    spec = importlib.util.spec_from_file_location("dashboard_screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def driver():
    return _driver()


@pytest.fixture(scope="module")
def served(driver, tmp_path_factory):
    """The dashboard serving a fixture file, and a browser."""
    folder = tmp_path_factory.mktemp("browser")
    from mmds_dashboard.synthetic import SyntheticSpec

    spec = SyntheticSpec(boundaries=driver.BOUNDARIES, is_sample=True)
    serving_file = write_synthetic_serving_file(folder / "serving.duckdb", spec)
    log = folder / "server.log"
    with driver.serve(serving_file, log) as server, driver.chromium() as browser:
        yield server, browser, serving_file, spec, folder
    output = log.read_text()
    assert "127.0.0.1" in output
    assert "Collecting usage statistics" not in output


@pytest.mark.parametrize("width", ["wide", "phone"])
def test_every_page_renders_offline_without_overflow(driver, served, width) -> None:
    server, browser, _, _, folder = served
    viewport = driver.WIDE if width == "wide" else driver.PHONE
    with driver.session(browser, server.url, viewport) as tab:
        for url_path in driver.PAGES:
            name = f"{url_path or 'overview'}-{width}.png"
            visit = tab.visit(url_path, folder / name)
            assert visit.exceptions == 0, name
            assert visit.overflow == [], f"{name} overflows: {visit.overflow}"
            assert (folder / name).stat().st_size > 10_000, name
            if url_path == "":
                assert {"Requests opened", "Median days to close"} <= set(visit.metrics)
                assert visit.charts == 1
            if url_path == "neighbourhoods":
                assert visit.map_coloured_pixels > 5_000, "the choropleth drew nothing"
        # Nothing phones home: no map tiles, styles, fonts or scripts from any other host.
        assert tab.requested_hosts <= driver.ALLOWED_HOSTS, tab.requested_hosts


def test_picking_an_area_on_the_map_filters_every_page(driver, served) -> None:
    server, browser, _, _, folder = served
    with driver.session(browser, server.url) as tab:
        everywhere = tab.visit("", folder / "before.png").metrics["Requests opened"]
        tab.visit("neighbourhoods", folder / "map.png")
        chart = tab.page.locator('[data-testid="stVegaLiteChart"]').first.bounding_box()
        tab.page.mouse.click(chart["x"] + chart["width"] * 0.5, chart["y"] + chart["height"] * 0.4)
        tab.page.wait_for_url("**area=*", timeout=30_000)
        area = tab.page.url.split("area=")[1].split("&")[0]
        tab.page.get_by_role("button", name="Show the whole city").wait_for(timeout=30_000)
        tab.inspect(folder / "map-zoomed.png")

        # The table agrees: ticking another row adds it to the filter.
        frame = tab.page.locator('[data-testid="stDataFrame"]').first
        frame.scroll_into_view_if_needed()
        table = frame.bounding_box()
        tab.page.mouse.click(table["x"] + 15, table["y"] + 35 + 17)  # first row's box
        tab.page.wait_for_url("**area=*area=*", timeout=30_000)

        tab.page.get_by_role("link", name="Overview").click()
        tab.page.get_by_role("heading", name="Vancouver 3-1-1 requests").wait_for()
        tab.page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached")
        assert f"area={area}" in tab.page.url
        in_areas = tab.page.locator('[data-testid="stMetricValue"]').first.inner_text()
        assert 0 < int(in_areas.replace(",", "")) < int(everywhere.replace(",", ""))
        assert tab.requested_hosts <= driver.ALLOWED_HOSTS, tab.requested_hosts


def test_downloads_have_readable_headers(driver, served) -> None:
    server, browser, _, _, folder = served
    with driver.session(browser, server.url) as tab:
        tab.visit("neighbourhoods", folder / "download.png")
        with tab.page.expect_download() as download:
            tab.page.get_by_role("button", name="Download table (CSV)").click()
        rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert rows[0][:3] == ["Rank", "Local area", "Requests opened"]
    assert len(rows) == 23


def test_every_page_renders_in_chromium_and_follows_a_republish(driver, served) -> None:
    """One session through every page, then a publish while it is open."""
    server, browser, serving_file, spec, folder = served
    with driver.session(browser, server.url) as tab:
        for url_path in reversed(driver.PAGES):
            assert tab.visit(url_path, folder / f"session-{url_path}.png").exceptions == 0
        before = tab.visit("", folder / "overview-before.png").metrics["Requests opened"]
        newer = replace(
            spec, requests=9_000, seed=5, published_at=datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
        )
        write_synthetic_serving_file(serving_file, newer)
        after = tab.visit("", folder / "overview-after.png")
        assert after.exceptions == 0
        assert after.metrics["Requests opened"] != before
        assert tab.page.get_by_text("Published 2026-11-29 01:30 PST").count() == 1
