"""Export bodies streamed batch by batch from a DuckDB relation, in constant memory."""

import io
from collections.abc import Iterator

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

FORMATS = ("jsonl", "json", "geojson", "csv", "parquet")
CONTENT_TYPES = {
    "jsonl": "application/jsonl; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "geojson": "application/geo+json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/octet-stream",
}
BATCH_ROWS = 20_000
BOM = "\ufeff".encode()


def joined_text(column: pa.Array) -> bytes:
    """The values of a string column back to back, without making a Python string per value."""
    if column.null_count:
        raise ValueError("a rendered record is never null")
    offset_type = np.int64 if pa.types.is_large_string(column.type) else np.int32
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column, offset_type = column.cast(pa.large_string()), np.int64
    _, offsets_buffer, data_buffer = column.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type)
    start, end = offsets[column.offset], offsets[column.offset + len(column)]
    return memoryview(data_buffer)[start:end].tobytes()


def json_lines(relation: duckdb.DuckDBPyRelation) -> Iterator[bytes]:
    """Records as JSON, one a line (the relation renders each with its newline)."""
    for batch in relation.to_arrow_reader(BATCH_ROWS):
        if batch.num_rows:
            yield joined_text(batch.column(0))


def _json(relation, opening: bytes = b"[", closing: bytes = b"]") -> Iterator[bytes]:
    """A bare JSON array (or what `opening` and `closing` wrap around its items), written
    batch by batch (JSON text never holds a raw newline)."""
    pending = b""
    for lines in json_lines(relation):
        if pending:
            yield opening + pending
            opening = b""
        pending = lines.replace(b"\n", b",\n")
    yield opening + pending[:-2] + closing


def _csv(relation, delimiter: str, with_bom: bool) -> Iterator[bytes]:
    """CSV with a header (and the BOM) even when no row matches."""
    reader = relation.to_arrow_reader(BATCH_ROWS)
    header = True
    for batch in _with_one_batch_at_least(reader):
        plain = pa.RecordBatch.from_arrays(
            [column.cast(pa.string()) for column in batch.columns], names=batch.schema.names
        )
        sink = io.BytesIO()
        if header and with_bom:
            sink.write(BOM)
        options = pa_csv.WriteOptions(include_header=header, delimiter=delimiter)
        pa_csv.write_csv(plain, sink, options)
        header = False
        yield sink.getvalue()


def _with_one_batch_at_least(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The reader's non-empty batches, or one empty batch when it has none."""
    empty = True
    for batch in reader:
        if batch.num_rows or empty:
            yield batch
            empty = False
    if empty:
        yield pa.RecordBatch.from_pylist([], schema=reader.schema)


class _ChunkSink(io.RawIOBase):
    """A write-only file that hands what the parquet writer writes to the response."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _parquet(relation) -> Iterator[bytes]:
    reader = relation.to_arrow_reader(BATCH_ROWS * 5)
    sink = _ChunkSink()
    with pq.ParquetWriter(sink, reader.schema, compression="snappy") as writer:
        for batch in reader:
            writer.write_batch(batch)
            yield sink.drain()
    yield sink.drain()


def stream(
    fmt: str, relation: duckdb.DuckDBPyRelation, delimiter: str = ";", with_bom: bool = True
) -> Iterator[bytes]:
    """The body of an export in `fmt`, from a relation of rendered columns (`Dataset.select`;
    one JSON text column for `json`, `jsonl` and `geojson`)."""
    if fmt == "jsonl":
        return json_lines(relation)
    if fmt == "json":
        return _json(relation)
    if fmt == "geojson":  # the relation renders one Feature a row
        return _json(relation, b'{"type": "FeatureCollection", "features": [', b"]}")
    if fmt == "csv":
        return _csv(relation, delimiter, with_bom)
    if fmt == "parquet":
        return _parquet(relation)
    raise ValueError(f"unknown export format {fmt!r}")
