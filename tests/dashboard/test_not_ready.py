"""No usable serving file: a page that says what to run, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest


def _spoiled(*statements: str):
    """A copy of the published file, changed by `statements`."""

    def prepare(path: Path, published: Path) -> None:
        shutil.copy2(published, path)
        with duckdb.connect(str(path)) as con:
            for statement in statements:
                con.execute(statement)

    return prepare


@pytest.mark.parametrize(
    ("prepare", "reason"),
    [
        (lambda p, _: None, "No serving file at"),
        (lambda p, _: p.write_bytes(b""), "is empty"),
        (lambda p, _: p.write_text("not a database, just text\n" * 100), "cannot be opened"),
        (
            lambda p, _: duckdb.connect(str(p)).close(),
            "lacks meta.serving_contract (published by an older mmds)",
        ),
        (
            _spoiled("ALTER TABLE gold.fct_quarantined_requests DROP COLUMN treatment"),
            "lacks gold.fct_quarantined_requests.treatment, which the dashboard reads",
        ),
        (
            _spoiled(
                "DELETE FROM meta.serving_contract WHERE table_name = 'agg_new_domain_values'",
                "DROP TABLE gold.fct_request_status_changes",
            ),
            "lacks gold.agg_new_domain_values (and 1 more), which the dashboard reads",
        ),
        (_spoiled("DELETE FROM gold.fct_service_requests"), "holds no requests yet"),
    ],
    ids=[
        "missing",
        "zero-bytes",
        "not-duckdb",
        "no-contract",
        "a-column-missing",
        "tables-undeclared-or-missing",
        "no-requests",
    ],
)
def test_every_page_explains_what_to_run(
    make_app, tmp_path, serving_file, shown_text, prepare, reason
) -> None:
    path = tmp_path / "serving.duckdb"
    prepare(path, serving_file)
    app = make_app(path).run()
    for page in ("views/overview.py", "views/data_health.py"):
        app.switch_page(page).run()
        assert not app.exception
        text = shown_text(app)
        assert "No data to show yet" in text
        assert reason in text
        assert "uv run mmds run" in text and "uv run mmds run --sample" in text
        assert str(path) in text
