"""A real browser (Debian's Chromium) against `mmds-dashboard` serving a file `mmds run`
published: every page wide and at phone width, offline, and what a person does with it."""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from mmds_dashboard.formatting import pacific_time

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a few minutes of Chromium: left out of a `-m "not slow"` run
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


@pytest.fixture(scope="module")
def served(driver, tmp_path_factory, published_serving):
    """The dashboard serving the first publication (a copy), and a browser."""
    folder = tmp_path_factory.mktemp("browser")
    serving_file = Path(shutil.copy2(published_serving.first, folder / "serving.duckdb"))
    log = folder / "server.log"
    with driver.serve(serving_file, log) as server, driver.chromium() as browser:
        yield server, browser, serving_file, published_serving.latest, folder
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
    server, browser, serving_file, latest, folder = served
    with driver.session(browser, server.url) as tab:
        for url_path in reversed(driver.PAGES):
            assert tab.visit(url_path, folder / f"session-{url_path}.png").exceptions == 0
        tab.visit("", folder / "overview-before.png")
        staging = serving_file.with_name(".serving.duckdb.tmp")
        shutil.copy2(latest, staging)
        os.replace(staging, serving_file)  # as publish replaces it
        after = tab.visit("", folder / "overview-after.png")
        assert after.exceptions == 0
        with duckdb.connect(str(latest), read_only=True) as con:
            (published_at,) = con.execute("SELECT published_at FROM meta.publish").fetchone()
        assert tab.page.get_by_text(f"Published {pacific_time(published_at)}").count() == 1
