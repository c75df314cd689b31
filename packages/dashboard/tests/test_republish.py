"""A publish while the dashboard is open shows the new data on the next rerun, without error."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
from mmds_dashboard.synthetic import SyntheticSpec, write_synthetic_serving_file

NEWER = SyntheticSpec(
    requests=4_000, seed=7, published_at=datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
)  # 01:30 Pacific time


def _opened(app) -> int:
    return int(next(m for m in app.metric if m.label == "Requests opened").value.replace(",", ""))


def test_republish_shows_new_data_without_restart(make_app, tmp_path, shown_text) -> None:
    path = write_synthetic_serving_file(tmp_path / "serving.duckdb", SyntheticSpec(requests=2_000))
    app = make_app(path).run()
    before = _opened(app)

    write_synthetic_serving_file(path, NEWER)
    app.run()

    assert not app.exception
    assert _opened(app) > before
    assert "Published 2026-11-29 01:30 PST" in shown_text(app)


def test_republish_while_another_reader_still_holds_the_old_file(
    make_app, tmp_path, shown_text
) -> None:
    """DuckDB shares one instance per path in a process: a session still reading the old file
    must not make this session see (and cache) old data under the new publish."""
    path = write_synthetic_serving_file(tmp_path / "serving.duckdb", SyntheticSpec(requests=2_000))
    app = make_app(path).run()
    before = _opened(app)
    other_session = duckdb.connect(str(path), read_only=True)
    try:
        write_synthetic_serving_file(path, NEWER)
        app.run()
        assert not app.exception
        assert _opened(app) > before
        assert "Published 2026-11-29 01:30 PST" in shown_text(app)
    finally:
        other_session.close()
