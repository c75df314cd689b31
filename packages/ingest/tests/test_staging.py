"""Bad input in an export: odd values are kept and flagged; a broken payload fails clearly."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mmds_ingest import bronze
from mmds_ingest.datasets import SERVICE_REQUESTS
from mmds_ingest.errors import PayloadError, SchemaDriftError
from mmds_ingest.fake_portal import generate_records
from mmds_ingest.fresh_load import insert_into_empty
from mmds_ingest.staging import Staging

STAGING = Staging(SERVICE_REQUESTS, datetime(2026, 12, 1, tzinfo=UTC))
"""The generated records' span ends on 2026-11-29: nothing in them is in the future."""


@pytest.fixture
def con(tmp_path):
    connection = bronze.connect(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "export.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "changes, issues",
    [
        (
            {"service_request_open_timestamp": "yesterday"},
            "service_request_open_timestamp_unparseable",
        ),
        ({"last_modified_timestamp": None}, "last_modified_timestamp_missing"),
        ({"service_request_close_date": "31/12/2025"}, "service_request_close_date_unparseable"),
        ({"latitude": "north", "longitude": -123.1}, "latitude_not_number"),
        ({"department": 42}, "department_not_text"),
        ({"geom": "POINT(1 2)"}, "geom_invalid"),
    ],
)  # fmt: skip
def test_odd_values_are_kept_flagged_and_nulled(con, tmp_path, changes, issues):
    good, odd = generate_records(2, seed=3)
    odd |= changes

    summary = STAGING.stage(con, _write(tmp_path, [json.dumps(good), json.dumps(odd)]))

    assert (summary.rows, summary.flagged) == (2, 1)
    flagged = con.execute(
        "SELECT _quality_issues, _raw FROM staged WHERE _quality_issues IS NOT NULL"
    ).fetchall()
    assert flagged[0][0] == issues
    assert json.loads(flagged[0][1]) == odd  # exactly what was sent


def test_clean_records_are_not_flagged(con, tmp_path):
    records = generate_records(200, seed=11)
    summary = STAGING.stage(con, _write(tmp_path, [json.dumps(r) for r in records]))
    assert (summary.rows, summary.flagged) == (200, 0)


def test_empty_export_is_zero_rows(con, tmp_path):
    assert STAGING.stage(con, _write(tmp_path, [])).rows == 0


@pytest.mark.parametrize(
    "lines, error, says",
    [
        (['{"department": "ENG", "status": "Op'], PayloadError, "not valid JSON lines"),
        (["<html><body>Service unavailable</body></html>"], PayloadError, "not valid JSON lines"),
        (["[1, 2, 3]"], SchemaDriftError, "no record of the export has department"),
    ],
    ids=["truncated", "html", "array"],
)
def test_broken_payload_fails_naming_the_problem(con, tmp_path, lines, error, says):
    with pytest.raises(error, match=says):
        STAGING.stage(con, _write(tmp_path, lines))


@pytest.mark.parametrize(
    "line, error, says",
    [
        ('{"department": "ENG", "status": "Op', PayloadError, "not valid JSON lines"),
        ("[1, 2, 3]", SchemaDriftError, "no record of the export has department"),
    ],
    ids=["truncated", "array"],
)
def test_broken_payload_into_an_empty_bronze_fails_and_loads_nothing(
    con, tmp_path, line, error, says
):
    bronze.ensure_schema(con)
    con.execute("BEGIN")
    with pytest.raises(error, match=says):
        insert_into_empty(
            con,
            [_write(tmp_path, [line])],
            load_id="l",
            loaded_at=datetime.now(UTC),
            staging=STAGING,
        )
    con.execute("ROLLBACK")
    assert con.execute("SELECT count(*) FROM bronze.service_requests").fetchone() == (0,)


def test_required_field_absent_from_every_record_fails(con, tmp_path):
    records = generate_records(3, seed=5)
    for record in records:
        del record["last_modified_timestamp"]

    with pytest.raises(
        SchemaDriftError, match="no record of the export has last_modified_timestamp"
    ):
        STAGING.stage(con, _write(tmp_path, [json.dumps(record) for record in records]))


def test_one_record_without_a_required_field_is_flagged(con, tmp_path):
    good, lacking = generate_records(2, seed=5)
    del lacking["status"]

    summary = STAGING.stage(con, _write(tmp_path, [json.dumps(good), json.dumps(lacking)]))

    assert (summary.rows, summary.flagged) == (2, 1)
    assert con.execute("SELECT _quality_issues FROM staged WHERE status IS NULL").fetchall() == [
        ("status_missing",)
    ]


def test_record_may_omit_optional_null_fields(con, tmp_path):
    record = generate_records(1, seed=5)[0]
    record.pop("address")
    assert STAGING.stage(con, _write(tmp_path, [json.dumps(record)])).flagged == 0
