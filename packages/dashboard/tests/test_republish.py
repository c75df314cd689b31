"""A publish while the dashboard is open shows the new data on the next rerun, without error."""

from __future__ import annotations

from datetime import UTC, datetime

from mmds_dashboard.synthetic import SyntheticSpec, write_synthetic_serving_file


def test_republish_shows_new_data_without_restart(make_app, tmp_path, shown_text) -> None:
    path = write_synthetic_serving_file(tmp_path / "serving.duckdb", SyntheticSpec(requests=2_000))
    app = make_app(path).run()
    before = next(m for m in app.metric if m.label == "Requests opened").value

    newer = SyntheticSpec(
        requests=4_000, seed=7, published_at=datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    )
    write_synthetic_serving_file(path, newer)
    app.run()

    assert not app.exception
    after = next(m for m in app.metric if m.label == "Requests opened").value
    assert int(after.replace(",", "")) > int(before.replace(",", ""))
    assert "Published 2026-11-29 09:30 UTC" in shown_text(app)
