"""Fixtures: a small contract-shaped serving file, and AppTest runs of the real entry file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from mmds_dashboard import app_path
from mmds_dashboard.serving import SERVING_FILE_ENV
from mmds_dashboard.synthetic import SyntheticSpec, write_synthetic_serving_file
from streamlit.testing.v1 import AppTest

APP_TIMEOUT_S = 60
# The real local-area boundaries, committed as the fake portal's data: read by path, since the
# dashboard imports no other package.
BOUNDARIES = (
    Path(__file__).resolve().parents[3]
    / "packages/ingest/src/mmds_ingest/fake_portal/data/local-area-boundary.geojson"
)
SPEC = SyntheticSpec(boundaries=BOUNDARIES)


@pytest.fixture(scope="session")
def spec() -> SyntheticSpec:
    """The fixture's spec: 6,000 requests, the real boundaries, the newest day partial."""
    return SPEC


@pytest.fixture(scope="session")
def boundaries_by_name() -> dict[str, list[list[float]]]:
    """Each local area's outer ring, as the committed GeoJSON gives it."""
    collection = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    return {
        f["properties"]["name"]: f["geometry"]["coordinates"][0] for f in collection["features"]
    }


@pytest.fixture(scope="session")
def serving_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published serving file of 6,000 requests with the real boundaries, its newest day
    partial (read-only for the tests that share it)."""
    return write_synthetic_serving_file(tmp_path_factory.mktemp("serving") / "serving.duckdb", SPEC)


@pytest.fixture
def sql(serving_file: Path) -> Iterator[Callable[..., list[tuple]]]:
    """Run a direct query against the fixture serving file: the tests' independent truth."""
    con = duckdb.connect(str(serving_file), read_only=True)
    con.execute("SET TimeZone = 'UTC'")

    def run(query: str, params: list | None = None) -> list[tuple]:
        return con.execute(query, params or []).fetchall()

    yield run
    con.close()


@pytest.fixture
def default_range(sql: Callable[..., list[tuple]]) -> tuple[date, date]:
    """The dashboard's default range: the newest 90 days with requests opened."""
    (last,) = sql("SELECT max(opened_date_local) FROM gold.fct_service_requests")[0]
    return last - timedelta(days=89), last


@pytest.fixture
def make_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Return a factory of AppTests reading `path` (the cache is cleared for each test)."""
    st.cache_data.clear()

    def make(path: Path, query_params: dict[str, str | list[str]] | None = None) -> AppTest:
        monkeypatch.setenv(SERVING_FILE_ENV, str(path))
        app = AppTest.from_file(str(app_path()), default_timeout=APP_TIMEOUT_S)
        app.query_params.update(query_params or {})
        return app

    yield make
    st.cache_data.clear()


def _shown_text(app: AppTest) -> str:
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "warning", "info", "error"):
        parts += [element.value for element in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


@pytest.fixture
def shown_text() -> Callable[[AppTest], str]:
    """Everything a reader would read on the page (markdown, titles, captions, alerts)."""
    return _shown_text
