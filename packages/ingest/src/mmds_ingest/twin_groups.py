"""Re-read whole identity groups from the portal, for the merge to replace them exactly.

Records that agree on every identity field ("twins") cannot be told apart once one of them
changes: an incremental export holds the changed one only, and nothing says which bronze row
it was. The portal still knows the whole group, so the merge asks for it: an ODSQL `where`
per group on the identity fields that ODSQL can state exactly (the text fields and the open
instant), OR-ed into batches of bounded length, each exported and counted at once. The filter
may match a little more than the group (coordinates are left out: their decimal text is not
safely comparable); DuckDB then keeps only the rows whose identity hash is one asked for, so
the result is exact. Only the few ambiguous groups are re-read, never the bulk of a load.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mmds_ingest.client import PortalClient
from mmds_ingest.datasets import Dataset
from mmds_ingest.errors import ReconciliationError
from mmds_ingest.interruptible import Executes, in_background
from mmds_ingest.odsql import batch_filters, text_literal
from mmds_ingest.staging import STAGED_TABLE, Staging, payload_errors

log = logging.getLogger(__name__)

REREAD_TABLE = "_reread"
"""Temp table the re-read rows land in, with the columns of the staged export."""


@dataclass(frozen=True)
class Reread:
    """What a re-read fetched: the groups asked for and the rows they hold now."""

    groups: int
    rows: int


def group_filter(dataset: Dataset, record: dict[str, object]) -> str | None:
    """ODSQL matching every record of `dataset` with `record`'s identity (and maybe a few
    more), or None when no identity field can be stated (then the whole dataset matches).

    Text and instant identity fields are stated; numbers (coordinates) are not: their decimal
    text is not safely comparable."""
    conditions = []
    identity = dataset.identity_fields
    for name in (name for name in dataset.names("text") if name in identity):
        value = record.get(name)
        if value is None:
            conditions.append(f"{name} is null")
        elif isinstance(value, str) and (literal := text_literal(value)) is not None:
            conditions.append(f"{name} = {literal}")
    for name in (name for name in dataset.names("instant") if name in identity):
        value = record.get(name)
        if value is None:
            conditions.append(f"{name} is null")
        elif isinstance(value, str) and _is_instant(value):
            conditions.append(f"{name} = date'{value}'")
    return " AND ".join(conditions) or None


class GroupRereader:
    """Fetches whole identity groups through `client`, downloading into `work_dir`."""

    def __init__(self, client: PortalClient, work_dir: Path, staging: Staging) -> None:
        self._client = client
        self._work_dir = work_dir
        self._staging = staging

    def __call__(self, con: Executes, identities: str) -> Reread:
        """Fill `REREAD_TABLE` with every portal record of the identities in the table
        `identities` (column `_identity`; each has a row in `staged` to take its fields from).

        Raise `ReconciliationError` when a batch does not hold the rows the portal counted
        beside it (it changed meanwhile), and the client's errors when a request fails.
        """
        examples = con.execute(
            f"SELECT _identity, CAST(any_value(_raw) AS VARCHAR) FROM {STAGED_TABLE} "  # noqa: S608 -- constants
            f"WHERE _identity IN (SELECT _identity FROM {identities}) GROUP BY _identity"
        ).fetchall()
        dataset = self._staging.dataset
        filters = {identity: group_filter(dataset, _as_record(raw)) for identity, raw in examples}
        batches = batch_filters(filters)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {REREAD_TABLE} AS FROM {STAGED_TABLE} LIMIT 0")
        rows = 0
        for number, (where, members) in enumerate(batches):
            rows += self._fetch(con, number, where, members)
        log.info(
            "re-read %d groups of records sharing every identity field (%d rows) in %d batch(es)",
            len(filters),
            rows,
            len(batches),
        )
        return Reread(groups=len(filters), rows=rows)

    def _fetch(self, con: Executes, number: int, where: str | None, members: list[str]) -> int:
        """Count and export one batch; add its rows of `members` to `REREAD_TABLE`."""
        path = self._work_dir / f"groups-{number}.jsonl"
        # The count runs beside the export (the client can be shared between threads): one
        # round trip instead of two. A change of the portal in between shows as a mismatch.
        counted = in_background(lambda: self._client.count(where), "portal-count")
        self._client.download_export(path, where=where, order_by=self._staging.dataset.cursor_field)
        expected = counted.result()
        query, params = self._staging.rows_sql(path)
        with payload_errors():
            con.execute(f"CREATE OR REPLACE TEMP TABLE _reread_batch AS {query}", params)
        path.unlink()
        counted_rows = con.execute("SELECT count(*) FROM _reread_batch").fetchone()
        assert counted_rows is not None  # an aggregate returns one row
        received = counted_rows[0]
        if received != expected:
            raise ReconciliationError(
                f"re-reading {len(members)} group(s) of records sharing every identity field, "
                f"the portal counted {expected} matching records but sent {received}"
            )
        # Each identity is asked for in one batch only, so no row is taken twice.
        inserted = con.execute(
            f"""INSERT INTO {REREAD_TABLE}
            SELECT * FROM _reread_batch WHERE list_contains($members, _identity)""",  # noqa: S608 -- constants
            {"members": members},
        ).fetchone()
        assert inserted is not None  # INSERT reports its count as one row
        (kept,) = inserted
        con.execute("DROP TABLE _reread_batch")
        return kept


def _as_record(raw: str) -> dict[str, object]:
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


def _is_instant(text: str) -> bool:
    """Whether `text` is an ISO instant with an offset that a `date'...'` literal can carry."""
    if "'" in text:
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False
