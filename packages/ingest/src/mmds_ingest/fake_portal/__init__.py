"""A faithful fake of the City of Vancouver's Opendatasoft portal, and realistic 3-1-1 data.

    from mmds_ingest.fake_portal import FakePortal, generate_records

    with FakePortal(rows=10_000, seed=7) as portal:  # real HTTP on 127.0.0.1, ephemeral port
        portal.url            # site root, e.g. "http://127.0.0.1:54321" (for MMDS_PORTAL_URL)
        portal.dataset_url    # {url}/api/explore/v2.1/catalog/datasets/3-1-1-service-requests
        portal.total_count()  # rows in the dataset now
        portal.now            # the dataset's clock (defaults to the end of the span)
        portal.advance(days=1)  # -> AdvanceSummary(now, added, closed, edited, deleted, ...)
        portal.inject("server_error", times=3)  # see FaultKind and faults.OPTIONS
        portal.faults_fired   # {"server_error": 3, ...}
        portal.clear_faults()
        portal.requests_seen  # [SeenRequest(endpoint, path, params, api_key), ...]
        portal.add_records([{...}, ...])  # publish crafted records (metadata moves)
        portal.delete_records(101)  # -> the deleted records, as served

Constructor: `FakePortal(rows=10_000, seed=0, *, start=date(2022, 1, 1), end=<fixed instant>,
quota=None, api_key_quota=None, from_csv=None, faults=(), parquet_style="parquet",
rate_limit_reset="epoch", host="127.0.0.1", port=0, hostile=False)`. Quotas are daily; None
is unlimited; requests with an API key (`Authorization: Apikey <key>` or `apikey=`) draw on
`api_key_quota`. `faults` takes `Fault` objects or specs like
`"rate_limit:times=2,retry_after=0"`. `hostile=True` adds the hostile mix (`hostile_records`).

Faults (`portal.inject(kind, times=1, endpoint="any"|"metadata"|"records"|"exports", **opts)`):
`rate_limit` (retry_after), `server_error` (statuses, e.g. (502, 503)), `drop_connection` and
`truncated_body` (after_bytes; exports only by default), `slow_first_byte` (seconds),
`html_error_page`, `schema_change` (change="added"|"removed"|"renamed", field, to; in force
until cleared), `churn` (records; deletes that many records just before answering, by
default before `aggregates`: requests with `group_by`). `times=None` keeps a fault in force
until `clear_faults()`; `probability=p` hits only that share of matching requests (seeded).

HTTP control calls (paths the real portal does not use): `POST /__fake__/advance?days=1`,
`GET /__fake__/faults`, `POST /__fake__/faults?spec=kind:key=value`, `DELETE /__fake__/faults`,
`POST /__fake__/records` (a JSON array of records), `DELETE /__fake__/records?count=N`,
`GET /__fake__/state`.

Data: `generate_records(rows, seed)` gives portal-shaped JSON dicts for small fixtures;
`generate_batches(rows, seed)` yields typed Arrow batches in bounded memory at any size;
`hostile_records(now, wall_clock, seed)` gives the hostile mix, `{kind: [record, ...]}`.
"""

from mmds_ingest.fake_portal.changes import AdvanceSummary
from mmds_ingest.fake_portal.faults import Fault, FaultKind
from mmds_ingest.fake_portal.generator import generate_batches, generate_records
from mmds_ingest.fake_portal.hostile import HOSTILE_KINDS, hostile_records
from mmds_ingest.fake_portal.odsql import ODSQLError
from mmds_ingest.fake_portal.portal import FakePortal
from mmds_ingest.fake_portal.server import SeenRequest

__all__ = [
    "HOSTILE_KINDS",
    "AdvanceSummary",
    "FakePortal",
    "Fault",
    "FaultKind",
    "ODSQLError",
    "SeenRequest",
    "generate_batches",
    "generate_records",
    "hostile_records",
]
