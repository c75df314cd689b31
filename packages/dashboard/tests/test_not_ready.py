"""No usable serving file: a page that says what to run, never a traceback."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from mmds_dashboard.synthetic import SyntheticSpec, write_synthetic_serving_file


def _no_gold(path: Path) -> None:
    duckdb.connect(str(path)).close()


def _empty_gold(path: Path) -> None:
    write_synthetic_serving_file(path, SyntheticSpec(requests=50))
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM gold.fct_service_requests")
    con.close()


@pytest.mark.parametrize(
    ("prepare", "reason"),
    [
        (lambda p: None, "No serving file at"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_text("not a database, just text\n" * 100), "cannot be opened"),
        (_no_gold, "has no published gold data"),
        (_empty_gold, "holds no requests yet"),
    ],
    ids=["missing", "zero-bytes", "not-duckdb", "no-gold-tables", "no-requests"],
)
def test_every_page_explains_what_to_run(make_app, tmp_path, shown_text, prepare, reason) -> None:
    path = tmp_path / "serving.duckdb"
    prepare(path)
    app = make_app(path).run()
    for page in ("views/overview.py", "views/data_health.py"):
        app.switch_page(page).run()
        assert not app.exception
        text = shown_text(app)
        assert "No data to show yet" in text
        assert reason in text
        assert "uv run mmds run" in text and "uv run mmds run --sample" in text
        assert str(path) in text
