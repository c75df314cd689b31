"""The `where` subset: valid clauses filter like the portal, anything else is a 400 ODSQLError."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from mmds_ingest.fake_portal import FakePortal, ODSQLError
from mmds_ingest.fake_portal.odsql import compile_where, parse_order_by, parse_select

COLUMNS = {
    "status": ("status", "text"),
    "last_modified_timestamp": ("last_modified_timestamp", "datetime"),
    "service_request_close_date": ("service_request_close_date", "date"),
    "latitude": ("latitude", "double"),
}
VANCOUVER = ZoneInfo("America/Vancouver")


def test_comparisons_become_parameters():
    compiled = compile_where(
        "last_modified_timestamp >= date'2025-01-01T00:00:00+00:00' AND status = 'Close'",
        COLUMNS,
        UTC,
    )
    assert compiled.sql == '("last_modified_timestamp" >= ? AND "status" = ?)'
    assert compiled.params == (datetime(2025, 1, 1, tzinfo=UTC), "Close")


def test_literals_without_offset_are_read_in_the_request_time_zone():
    compiled = compile_where("last_modified_timestamp > '2025-07-01T00:00:00'", COLUMNS, VANCOUVER)
    assert compiled.params == (datetime(2025, 7, 1, tzinfo=VANCOUVER),)
    dated = compile_where("service_request_close_date = date'2025-07-01'", COLUMNS, UTC)
    assert dated.params == (date(2025, 7, 1),)


@pytest.mark.parametrize(
    ("where", "sql"),
    [
        ("status is null", '"status" IS NULL'),
        ("status IS NOT NULL", '"status" IS NOT NULL'),
        ("NOT status = \"Open\"", '(NOT "status" = ?)'),
        (
            "(status='a' OR status='b') and latitude < 49.3",
            '(("status" = ? OR "status" = ?) AND "latitude" < ?)',
        ),
        (
            "last_modified_timestamp in [date'2025-01-01'..date'2025-02-01']",
            '"last_modified_timestamp" BETWEEN ? AND ?',
        ),
        ("latitude not in [49.2..49.3]", '"latitude" NOT BETWEEN ? AND ?'),
        ("`status` != 'x'", '"status" <> ?'),
        ("", "TRUE"),
    ],
)  # fmt: skip
def test_the_supported_subset_compiles(where: str, sql: str):
    assert compile_where(where, COLUMNS, UTC).sql == sql


@pytest.mark.parametrize(
    ("where", "detail"),
    [
        ("nope = 1", "Unknown field: nope"),
        ("status = 'Open'; DROP TABLE records", "Unexpected character ';'"),
        ("status = 'Open' -- comment", "Unexpected character '-'"),
        ("status = 'a' OR 1 = 1", "Expected a field name"),
        ("status = 'unterminated", "Unexpected character"),
        ("status LIKE 'x%'", "Expected a comparison operator"),
        ("last_modified_timestamp > date'yesterday'", "Invalid date or datetime literal"),
        ("last_modified_timestamp > now(days=-1)", "Expected a date literal"),
        ("latitude > 'north'", "Expected a number"),
        ("status = 'a' AND", "Unexpected end of query"),
        ("(status = 'a'", "Expected ')'"),
        ("status = 'a' status = 'b'", "Unexpected token"),
        ("`status\"; drop table records; --` = 'a'", "Unknown field"),
        ("(" * 200 + "status = 'a'" + ")" * 200, "nested deeper"),
        ("status = '" + "x" * 20_000 + "'", "longer than"),
        ('"free text search"', "Expected a field name"),
    ],
)
def test_anything_else_is_an_odsql_error(where: str, detail: str):
    with pytest.raises(ODSQLError, match=r"^ODSQL query is malformed: ") as raised:
        compile_where(where, COLUMNS, UTC)
    assert detail in str(raised.value)


def test_select_and_order_by_accept_field_names_only():
    fields = list(COLUMNS)
    assert parse_select("*", fields) == fields
    assert parse_select("latitude,status", fields) == ["latitude", "status"]
    assert parse_order_by("status desc, latitude", fields) == [
        ("status", True),
        ("latitude", False),
    ]
    for bad in ("status; drop", "status,", "max(latitude)", "nope"):
        with pytest.raises(ODSQLError):
            parse_select(bad, fields)
    for bad in ("status sideways", "random()", "status desc desc"):
        with pytest.raises(ODSQLError):
            parse_order_by(bad, fields)


# --- over HTTP ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def portal() -> Iterator[FakePortal]:
    with FakePortal(rows=2_000, seed=5) as running:
        yield running


@pytest.fixture(scope="module")
def every_row(portal: FakePortal) -> list[dict]:
    text = httpx.get(f"{portal.dataset_url}/exports/jsonl").text
    return [json.loads(line) for line in text.splitlines()]


def _count(portal: FakePortal, where: str) -> int:
    response = httpx.get(f"{portal.dataset_url}/records", params={"where": where, "limit": 0})
    assert response.status_code == 200, response.text
    return response.json()["total_count"]


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def test_where_filters_the_same_rows_as_python(portal: FakePortal, every_row: list[dict]):
    cutoff = datetime(2025, 6, 1, tzinfo=UTC)
    cases = {
        "status = 'Open'": lambda r: r["status"] == "Open",
        "local_area is null": lambda r: r["local_area"] is None,
        "address is not null and latitude > 49.25": lambda r: (
            r["address"] is not None and r["latitude"] > 49.25
        ),
        "last_modified_timestamp >= date'2025-06-01T00:00:00+00:00'": lambda r: (
            _at(r["last_modified_timestamp"]) >= cutoff
        ),
        "last_modified_timestamp >= '2025-06-01T00:00:00Z'": lambda r: (
            _at(r["last_modified_timestamp"]) >= cutoff
        ),
        "service_request_close_date in [date'2024-01-01'..date'2024-01-31']": lambda r: (
            r["service_request_close_date"] is not None
            and "2024-01-01" <= r["service_request_close_date"] <= "2024-01-31"
        ),
        "not (channel = 'WEB' or channel = 'Phone')": lambda r: (
            r["channel"] not in ("WEB", "Phone")
        ),
    }
    for where, keep in cases.items():
        expected = sum(1 for r in every_row if keep(r))
        assert _count(portal, where) == expected, where
        assert 0 < expected < len(every_row), f"case does not discriminate: {where}"


def test_hostile_where_is_a_400_and_changes_nothing(portal: FakePortal):
    before = portal.total_count()
    for where in ("status = 'x'; DELETE FROM records", "1=1", "status = 'a' OR 1 = 1"):
        response = httpx.get(f"{portal.dataset_url}/records", params={"where": where})
        assert response.status_code == 400
        body = response.json()
        assert body["error_code"] == "ODSQLError"
        assert body["message"].startswith("ODSQL query is malformed: ")
    assert _count(portal, "status = 'x'' OR ''1''=''1'") == 0  # quotes stay inside the literal
    assert portal.total_count() == before
