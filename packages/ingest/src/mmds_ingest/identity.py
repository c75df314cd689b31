"""Identity and content of a record, as SQL over the typed staging columns.

The source has no key. A record's identity is what never changes over its life (for a 3-1-1
request: who handles it, what it is, when and where it was opened, and through which channel;
for a local area: its name). What moves (status, closure reason, close date, last modified, a
boundary's shape) is content, not identity. Rows that agree on every identity field are told
apart by an occurrence number (`<identity hash>-<n>`), so all of them are kept.
"""

from functools import cache

from mmds_ingest.datasets import Dataset

KEY_SEPARATOR = "-"

OCCURRENCE_ORDER = "_cursor NULLS FIRST, _row_hash"
"""SQL ORDER BY list numbering the rows of one identity, over rows carrying `_cursor` (the
dataset's change cursor) and `_row_hash`: occurrence 1 is the oldest change, then the next;
equal instants (and every row of a dataset without a cursor) are ordered by content. A load
numbers twins this way."""


def _fingerprint(fields: tuple[str, ...]) -> str:
    """md5 of a JSON array of the fields' canonical text (`_c_<field>` staging columns).

    A JSON array keeps NULL distinct from '' and needs no separator escaping.
    """
    items = ", ".join(f"_c_{name}" for name in fields)
    return f"md5(to_json([{items}])::VARCHAR)"


@cache
def identity_sql(dataset: Dataset) -> str:
    """SQL expression: the identity hash of a staged row (32 hex characters)."""
    return _fingerprint(dataset.identity_fields)


@cache
def row_hash_sql(dataset: Dataset) -> str:
    """SQL expression: the content hash of a staged row, over every source field."""
    return _fingerprint(dataset.field_names)


def payload_columns(dataset: Dataset) -> tuple[str, ...]:
    """The columns a staged row brings into bronze: every source field, the content hash, the
    quality codes and the raw record."""
    return (*dataset.field_names, "_row_hash", "_quality_issues", "_raw")


def record_key_sql(identity: str, occurrence: str) -> str:
    """SQL expression building `_record_key` from an identity hash and an occurrence number."""
    return f"({identity} || '{KEY_SEPARATOR}' || CAST({occurrence} AS VARCHAR))"


def key_identity_sql(record_key: str) -> str:
    """SQL expression: the identity hash part of a `_record_key`."""
    return f"split_part({record_key}, '{KEY_SEPARATOR}', 1)"


def key_occurrence_sql(record_key: str) -> str:
    """SQL expression: the occurrence number part of a `_record_key`."""
    return f"CAST(split_part({record_key}, '{KEY_SEPARATOR}', 2) AS INTEGER)"
