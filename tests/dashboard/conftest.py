"""Fixtures: serving files the real pipeline published, and AppTest runs of the real entry file.

`published_serving`: `mmds run` over a fake portal of generated requests with the hostile mix,
then again after a day of changes (`tests/published_serving.py`), once per session.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from mmds_dashboard import app_path
from mmds_dashboard.serving import SERVING_FILE_ENV
from streamlit.testing.v1 import AppTest

from tests.published_serving import PublishedServing, publish_twice

APP_TIMEOUT_S = 60


SCREENSHOTS_SCRIPT = (
    Path(__file__).resolve().parents[2] / "packages/dashboard/scripts/screenshots.py"
)


@pytest.fixture(scope="session")
def driver():
    """The dashboard's screenshot script as a module: it serves a file and drives Chromium."""
    spec = importlib.util.spec_from_file_location("dashboard_screenshots", SCREENSHOTS_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def published_serving(tmp_path_factory: pytest.TempPathFactory) -> PublishedServing:
    """Serving files `mmds run` published from 6,000 generated requests and the hostile mix,
    before and after a day of changes (about a minute, once per session)."""
    return publish_twice(tmp_path_factory.mktemp("published"))


@pytest.fixture(scope="session")
def serving_file(published_serving: PublishedServing) -> Path:
    """The newest publication: about 6,000 requests, the real boundaries, requests flagged and
    reopened, the newest day partial (read-only for the tests that share it)."""
    return published_serving.latest


@pytest.fixture
def serving_copy(serving_file: Path, tmp_path: Path) -> Callable[[], Path]:
    """A writable copy of the serving file, for tests that spoil or change it."""

    def copy() -> Path:
        return Path(shutil.copy2(serving_file, tmp_path / "serving.duckdb"))

    return copy


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
def newest_day(sql: Callable[..., list[tuple]]) -> date:
    """The newest day with requests opened: partial (the data was taken during it)."""
    return sql("SELECT max(opened_date_local) FROM gold.fct_service_requests")[0][0]


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
