"""A real browser (Debian's Chromium) against `mmds-dashboard` serving the fixture file."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mmds_dashboard.synthetic import SyntheticSpec, write_synthetic_serving_file

SCRIPT = Path(__file__).parents[1] / "scripts" / "screenshots.py"
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # about a minute of Chromium: left out of a `-m "not slow"` run
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


def test_every_page_renders_in_chromium_and_follows_a_republish(tmp_path) -> None:
    driver = _driver()
    serving_file = write_synthetic_serving_file(tmp_path / "serving.duckdb", SyntheticSpec())
    log = tmp_path / "server.log"
    with (
        driver.serve(serving_file, log) as server,
        driver.chromium() as browser,
        driver.session(browser, server.url) as tab,
    ):
        overview = tab.visit("", tmp_path / "overview.png")
        assert overview.exceptions == 0
        assert set(overview.metrics) >= {"Requests opened", "Median days to close"}
        assert overview.charts == 2
        opened = overview.metrics["Requests opened"]

        neighbourhoods = tab.visit("neighbourhoods", tmp_path / "neighbourhoods.png")
        assert neighbourhoods.exceptions == 0
        assert neighbourhoods.map_coloured_pixels > 500, "the map's request layer drew nothing"

        types = tab.visit("request_types", tmp_path / "request_types.png")
        assert (types.exceptions, types.charts) == (0, 2)

        health = tab.visit("data_health", tmp_path / "data_health.png")
        assert health.exceptions == 0
        assert health.metrics["Tests warn"] == "1"

        # Publish a bigger file while the server runs; the open session picks it up.
        newer = SyntheticSpec(
            requests=9_000, seed=5, published_at=datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
        )
        write_synthetic_serving_file(serving_file, newer)
        after = tab.visit("", tmp_path / "overview-after-publish.png")
        assert after.exceptions == 0
        assert after.metrics["Requests opened"] != opened
        assert tab.page.get_by_text("Published 2026-11-29 09:30 UTC").count() == 1

        # Picking the top row of the ranked areas filters every page by that area.
        tab.visit("neighbourhoods", tmp_path / "neighbourhoods-after-publish.png")
        table = tab.page.locator('[data-testid="stDataFrame"]').first.bounding_box()
        tab.page.mouse.click(table["x"] + 15, table["y"] + 35 + 17)  # first row's selector
        tab.page.wait_for_url("**area=*", timeout=30_000)
        area = tab.page.url.split("area=")[1].split("&")[0]
        tab.page.get_by_role("link", name="Overview").click()
        tab.page.get_by_role("heading", name="Vancouver 3-1-1 requests").wait_for()
        tab.page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached")
        assert f"area={area}" in tab.page.url
        in_area = tab.page.locator('[data-testid="stMetricValue"]').first.inner_text()
        assert (
            0
            < int(in_area.replace(",", ""))
            < int(after.metrics["Requests opened"].replace(",", ""))
        )

        # Nothing phones home: the only other host is the map's token-free basemap style.
        allowed = {"127.0.0.1", "data", "blob", "basemaps.cartocdn.com"}
        assert tab.requested_hosts <= allowed, tab.requested_hosts

    for page in ("overview", "neighbourhoods", "request_types", "data_health"):
        assert (tmp_path / f"{page}.png").stat().st_size > 10_000, page
    output = log.read_text()
    assert "127.0.0.1" in output
    assert "Collecting usage statistics" not in output
