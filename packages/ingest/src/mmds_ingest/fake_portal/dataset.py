"""A dataset the fake portal serves: its records in a DuckDB file, its metadata, and
parameterised reads (the 3-1-1 requests, generated or from an extract; the local areas, from
the committed boundaries)."""

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from mmds_ingest.fake_portal.aggregate import Aggregation
from mmds_ingest.fake_portal.areas import boundary_collection
from mmds_ingest.fake_portal.generator import SCHEMA, generate_batches
from mmds_ingest.fake_portal.odsql import Compiled
from mmds_ingest.fake_portal.schema import BASE_FIELDS, Field, geojson_feature, render

_COLUMNS = list(SCHEMA.names)
_CSV_TYPES = {
    "service_request_open_timestamp": "TIMESTAMPTZ",
    "last_modified_timestamp": "TIMESTAMPTZ",
    "service_request_close_date": "DATE",
    "latitude": "DOUBLE",
    "longitude": "DOUBLE",
}
_READ_CSV = "read_csv(?, all_varchar = true, header = true, sample_size = -1)"
_SQL_TYPES = {
    "text": "VARCHAR",
    "datetime": "TIMESTAMPTZ",
    "date": "DATE",
    "double": "DOUBLE",
    "geo_point_2d": "JSON",
    "geo_shape": "JSON",
}


def _ddl(fields: tuple[Field, ...]) -> str:
    """The table holding a dataset's stored fields (3-1-1's geo point is rendered, not stored),
    in order, after `_seq` and before `_json_utc` (the record as exported with every field in
    UTC, rendered once)."""
    stored = "".join(f'"{f.column}" {_SQL_TYPES[f.type]}, ' for f in fields if f.column)
    return f"CREATE TABLE records (_seq BIGINT NOT NULL, {stored}_json_utc VARCHAR)"


def _field_value(name: str, value: object) -> object:
    """One field of a crafted record (as the portal's JSON carries it) as the fake stores it."""
    if value is None:
        return None
    kind = _CSV_TYPES.get(name, "VARCHAR")
    try:
        if kind == "TIMESTAMPTZ":
            if not isinstance(value, str):
                raise TypeError
            instant = datetime.fromisoformat(value)
            if instant.tzinfo is None:
                raise ValueError("no offset")
            return instant.astimezone(UTC)
        if kind == "DATE":
            if not isinstance(value, str):
                raise TypeError
            return date.fromisoformat(value)
        if kind == "DOUBLE":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError
            return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not a value the portal sends for it") from None
    if not isinstance(value, str):
        raise ValueError(f"{name}={value!r} is not text")
    return value


def records_batch(records: list[dict]) -> pa.RecordBatch:
    """Crafted records (the portal's field names and JSON values, `geom` optional and then
    consistent with latitude and longitude) as a batch of the generator's schema."""
    columns: dict[str, list] = {name: [] for name in _COLUMNS}
    for record in records:
        unknown = set(record) - {*_COLUMNS, "geom"}
        if unknown:
            raise ValueError(f"a record has fields the dataset does not: {sorted(unknown)}")
        for name in _COLUMNS:
            columns[name].append(_field_value(name, record.get(name)))
        geom = record.get("geom")
        latitude, longitude = record.get("latitude"), record.get("longitude")
        point = None if latitude is None else {"lon": longitude, "lat": latitude}
        if geom is not None and geom != point:
            raise ValueError(f"geom {geom!r} must be {{'lon': longitude, 'lat': latitude}}")
    return pa.RecordBatch.from_pydict(columns, schema=SCHEMA)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _json_record(fields: tuple[Field, ...], shape_style: str) -> str:
    """SQL rendering a row as the portal's JSON text of `fields`, followed by a newline."""
    pairs = ", ".join(f"'{field.name}', {render(field, 'json', shape_style)}" for field in fields)
    return f"json_object({pairs})::VARCHAR || chr(10)"


@dataclass(frozen=True)
class Query:
    """A validated read: output fields, filter, order (field, descending), window."""

    fields: tuple[Field, ...]
    where: Compiled
    order: tuple[tuple[Field, bool], ...] = ()
    limit: int | None = None
    offset: int = 0


class Dataset:
    """The rows being served. Reads use one cursor each; writes are serialised.

    `fields` are the dataset's published fields (the 3-1-1 requests' by default); a geo_shape
    is written in JSON bodies as `shape_style` says (`schema.SHAPE_STYLES`)."""

    def __init__(
        self,
        path: Path,
        now: datetime,
        fields: tuple[Field, ...] = BASE_FIELDS,
        shape_style: str = "geometry",
    ) -> None:
        self.fields = fields
        self.shape_style = shape_style
        self._json_utc = _json_record(fields, shape_style)
        self._con = duckdb.connect(str(path), config={"threads": "2", "memory_limit": "256MB"})
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute(_ddl(fields))
        self._next_seq = 0
        self._write_lock = threading.Lock()
        self.now = now
        self.modified = now
        self.data_processed = now

    def close(self) -> None:
        """Close the DuckDB connection."""
        self._con.close()

    @contextmanager
    def changes(self) -> Iterator[None]:
        """Hold the write lock and apply what happens inside as one transaction.

        Readers, on cursors of their own, see the dataset before or after, never half-changed.
        """
        with self._write_lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                yield
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    def append(self, batches: Iterable[pa.RecordBatch]) -> int:
        """Append Arrow batches with the generator's schema; return the rows added."""
        with self.changes():
            return self.insert(batches)

    def insert(self, batches: Iterable[pa.RecordBatch]) -> int:
        """Insert Arrow batches, rendering their JSON (inside `changes()`); return the rows."""
        added = 0
        for batch in batches:
            seq = pa.array(np.arange(self._next_seq, self._next_seq + batch.num_rows))
            table = pa.Table.from_batches([batch]).add_column(0, "_seq", seq)
            self._con.register("incoming", table)
            self._con.execute(f"INSERT INTO records SELECT *, {self._json_utc} FROM incoming")  # noqa: S608 (constant)
            self._con.unregister("incoming")
            self._next_seq += batch.num_rows
            added += batch.num_rows
        return added

    def append_boundaries(self) -> int:
        """Append the committed local-area boundaries (a dataset of `BOUNDARY_FIELDS`)."""
        features = boundary_collection()["features"]
        table = pa.table(
            {
                "name": [feature["properties"]["name"] for feature in features],
                "geom": [json.dumps(feature["geometry"]) for feature in features],
                "geo_point_2d": [
                    json.dumps(feature["properties"]["geo_point_2d"]) for feature in features
                ],
            }
        )
        return self.append(table.to_batches())

    def append_generated(self, rows: int, seed: int, start: date, end: datetime) -> int:
        """Generate and append `rows` requests (see `generate_batches`)."""
        return self.append(generate_batches(rows, seed, start, end))

    def append_csv(self, csv_path: Path) -> int:
        """Append an extract in CSV (`,` or `;`, optional BOM) with the portal's field names."""
        if not csv_path.is_file():
            raise FileNotFoundError(f"no CSV extract at {csv_path}")
        describe = f"DESCRIBE SELECT * FROM {_READ_CSV}"  # noqa: S608 (a constant)
        described = self._con.execute(describe, [str(csv_path)])
        header = [row[0] for row in described.fetchall()]
        missing = [name for name in _COLUMNS if name not in header]
        if missing:
            raise ValueError(
                f"{csv_path} lacks the portal's fields {missing}; its header is {header}"
            )
        select = ", ".join(
            f'TRY_CAST("{c}" AS {_CSV_TYPES[c]})' if c in _CSV_TYPES else f'"{c}"' for c in _COLUMNS
        )
        with self.changes():
            inserted = self._con.execute(
                f"INSERT INTO records SELECT ? + row_number() OVER () - 1, {select}, NULL "  # noqa: S608 (constant column names)
                f"FROM {_READ_CSV}",
                [self._next_seq, str(csv_path)],
            )
            row = inserted.fetchone()
            assert row is not None  # INSERT reports its count as one row
            added = row[0]
            self._next_seq += added
            self.render_pending()
        return added

    def render_pending(self) -> None:
        """Render the UTC JSON of rows inserted or changed without it (inside `changes()`)."""
        self._con.execute(
            f"UPDATE records SET _json_utc = {self._json_utc} WHERE _json_utc IS NULL"  # noqa: S608 (constant)
        )

    def cursor(self, timezone: str = "UTC") -> duckdb.DuckDBPyConnection:
        """A cursor of its own, with the session time zone of the request."""
        cursor = self._con.cursor()
        cursor.execute("SET TimeZone = ?", [timezone])
        return cursor

    def count_all(self) -> int:
        """Rows in the dataset now."""
        row = self._con.cursor().execute("SELECT count(*) FROM records").fetchone()
        assert row is not None  # an aggregate returns one row
        return row[0]

    def newest_change(self) -> datetime | None:
        """The latest `last_modified_timestamp`, or None when there are no rows."""
        sql = "SELECT max(last_modified_timestamp) FROM records"
        row = self._con.cursor().execute(sql).fetchone()
        assert row is not None  # an aggregate returns one row
        return row[0]

    def count(self, where: Compiled, timezone: str = "UTC") -> int:
        """Rows matching a compiled `where`."""
        sql = f"SELECT count(*) FROM records WHERE {where.sql}"  # noqa: S608 (compiled, parameterised)
        row = self.cursor(timezone).execute(sql, list(where.params)).fetchone()
        assert row is not None  # an aggregate returns one row
        return row[0]

    def select(
        self, query: Query, style: str, timezone: str = "UTC", as_json: bool = False
    ) -> duckdb.DuckDBPyRelation:
        """A lazy relation reading `query`, rendered in `style` (see `schema.render`; `geojson`
        gives one GeoJSON Feature a row).

        With `as_json`, each row is one text column: the record as the portal's JSON bodies carry
        it, followed by a newline.
        """
        order = [f'"{field.column}" {"DESC" if desc else "ASC"}' for field, desc in query.order]
        if as_json and style == "json" and timezone == "UTC" and query.fields == self.fields:
            columns = "_json_utc AS record"
            stored = ", ".join(["_json_utc", *(f'"{f.column}"' for f, _ in query.order)])
        else:
            if style == "geojson":
                columns = f"{geojson_feature(query.fields)} AS record"
            elif as_json:
                columns = f"{_json_record(query.fields, self.shape_style)} AS record"
            else:
                rendered = (
                    (field.name, render(field, style, self.shape_style)) for field in query.fields
                )
                columns = ", ".join(f'{expression} AS "{name}"' for name, expression in rendered)
            stored = "* EXCLUDE (_json_utc)"
        # Rows are picked and sorted with only the stored columns they need, then rendered while
        # streaming out, which keeps a sort's memory low. Without `order_by` they come in storage
        # order, which needs no sort at all.
        order_by = f"ORDER BY {', '.join([*order, '_seq'])}" if order else ""
        sql = (
            f"SELECT {columns} FROM (SELECT {stored} FROM records "  # noqa: S608 (see above)
            f"WHERE {query.where.sql} {order_by} LIMIT ? OFFSET ?) AS picked"
        )
        limit = -1 if query.limit is None else query.limit
        params = [*query.where.params, None if limit < 0 else limit, query.offset]
        return self.cursor(timezone).sql(sql, params=params)

    def aggregate(
        self,
        aggregation: Aggregation,
        where: Compiled,
        timezone: str = "UTC",
        limit: int | None = None,
        offset: int = 0,
    ) -> duckdb.DuckDBPyRelation:
        """A lazy relation of one JSON text column (with its newline) per group, in key order."""
        keys = ", ".join(f'{sql} AS "_g{i}"' for i, (_, sql) in enumerate(aggregation.groups))
        pairs = [f"{_sql_text(label)}, _g{i}" for i, (label, _) in enumerate(aggregation.groups)]
        pairs += [f"{_sql_text(label)}, _n" for label in aggregation.counts]
        sql = (
            f"SELECT json_object({', '.join(pairs)})::VARCHAR || chr(10) AS record FROM ("  # noqa: S608 (compiled, parameterised)
            f"SELECT {keys}, count(*) AS _n FROM records WHERE {where.sql} "
            "GROUP BY ALL ORDER BY ALL LIMIT ? OFFSET ?)"
        )
        params = [*where.params, limit, offset]
        return self.cursor(timezone).sql(sql, params=params)

    def delete_random(self, count: int, rng: np.random.Generator) -> list[dict]:
        """Delete `count` records drawn by `rng` (inside `changes()`); return them as served."""
        self.render_pending()
        everyone = self.column("SELECT _seq FROM records ORDER BY _seq")
        chosen = sorted(int(seq) for seq in rng.choice(everyone, min(count, everyone.size), False))
        table = pa.table({"_seq": pa.array(chosen, pa.int64())})
        self.register("doomed", table)
        rendered = self._con.execute(
            "SELECT _json_utc FROM records WHERE _seq IN (SELECT _seq FROM doomed) ORDER BY _seq"
        ).fetchall()
        self.write("DELETE FROM records WHERE _seq IN (SELECT _seq FROM doomed)")
        self.unregister("doomed")
        return [json.loads(text) for (text,) in rendered]

    def write(self, sql: str, params: list | None = None) -> None:
        """Run a change (inside `changes()`)."""
        self._con.execute(sql, params or [])

    def register(self, name: str, table: pa.Table) -> None:
        """Expose an Arrow table to SQL as `name` (inside `changes()`)."""
        self._con.register(name, table)

    def unregister(self, name: str) -> None:
        """Drop a registered Arrow table."""
        self._con.unregister(name)

    def column(self, sql: str, params: list | None = None) -> np.ndarray:
        """The first column of a query, as seen inside `changes()`, as a numpy array."""
        table = self._con.sql(sql, params=params or []).to_arrow_table()
        return table.column(0).to_numpy()

    def touch(self, now: datetime) -> None:
        """Move the dataset's clock and its modification metadata."""
        self.now = self.modified = self.data_processed = now.astimezone(UTC)
