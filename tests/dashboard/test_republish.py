"""A publish while the dashboard is open shows the new data on the next rerun, without error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from mmds_dashboard.filter_bar import FILTERS_KEY
from mmds_dashboard.formatting import pacific_time


def _opened(app) -> int:
    return int(next(m for m in app.metric if m.label == "Requests opened").value.replace(",", ""))


def _facts(path: Path, app) -> tuple[str, int]:
    """What the Overview must show for the file `path`: its publish time and the requests opened
    in the range the session shows (its filters hold across publishes)."""
    filters = app.session_state[FILTERS_KEY]
    with duckdb.connect(str(path), read_only=True) as con:
        (published_at, load_id) = con.execute(
            "SELECT published_at, load_id FROM meta.publish"
        ).fetchone()
        (opened,) = con.execute(
            "SELECT count(*) FROM gold.fct_service_requests "
            "WHERE opened_date_local BETWEEN $1 AND $2",
            [filters.start, filters.end],
        ).fetchone()
    return f"Published {pacific_time(published_at)} (Pacific time), load {load_id}", opened


def _publish(source: Path, path: Path) -> None:
    """Replace `path` as publish does: write beside it, then rename over it."""
    staging = path.with_name(".serving.duckdb.tmp")
    shutil.copy2(source, staging)
    os.replace(staging, path)


@pytest.fixture
def first_then_latest(published_serving, tmp_path):
    path = tmp_path / "serving.duckdb"
    _publish(published_serving.first, path)
    return path, published_serving.latest


def test_republish_shows_new_data_without_restart(make_app, first_then_latest, shown_text) -> None:
    path, latest = first_then_latest
    app = make_app(path).run()
    published_before, opened_before = _facts(path, app)
    assert published_before in shown_text(app)
    assert _opened(app) == opened_before

    _publish(latest, path)
    app.run()

    published_after, opened_after = _facts(latest, app)
    assert not app.exception
    assert published_after != published_before
    assert published_after in shown_text(app)
    assert _opened(app) == opened_after


def test_republish_while_another_reader_still_holds_the_old_file(
    make_app, first_then_latest, shown_text
) -> None:
    """DuckDB shares one instance per path in a process: a session still reading the old file
    must not make this session see (and cache) old data under the new publish."""
    path, latest = first_then_latest
    app = make_app(path).run()
    other_session = duckdb.connect(str(path), read_only=True)
    try:
        _publish(latest, path)
        app.run()
        published_after, opened_after = _facts(latest, app)  # `path` here: the old file
        assert not app.exception
        assert published_after in shown_text(app)
        assert _opened(app) == opened_after
    finally:
        other_session.close()
