"""Identity and content of a record, as SQL over the typed staging columns.

The source has no key. A request's identity is what never changes over its life: who handles
it, what it is, when and where it was opened, and through which channel. Status, closure
reason, close date and last_modified move; they are content, not identity. Rows that agree on
every identity field are told apart by an occurrence number (`<identity hash>-<n>`), so all of
them are kept.
"""

from mmds_ingest.datasets import SERVICE_REQUESTS

IDENTITY_FIELDS: tuple[str, ...] = SERVICE_REQUESTS.identity_fields
"""Fields that do not change over a request's life."""

CONTENT_FIELDS: tuple[str, ...] = SERVICE_REQUESTS.field_names
"""Every source field, in the portal's order: a change in any of them is a real change."""

KEY_SEPARATOR = "-"

OCCURRENCE_ORDER = "last_modified_timestamp NULLS FIRST, _row_hash"
"""SQL ORDER BY list numbering the rows of one identity: occurrence 1 is the oldest change,
then the next; equal instants are ordered by content. A load numbers twins this way."""


def _fingerprint(fields: tuple[str, ...]) -> str:
    """md5 of a JSON array of the fields' canonical text (`_c_<field>` staging columns).

    A JSON array keeps NULL distinct from '' and needs no separator escaping.
    """
    items = ", ".join(f"_c_{name}" for name in fields)
    return f"md5(to_json([{items}])::VARCHAR)"


IDENTITY_SQL = _fingerprint(IDENTITY_FIELDS)
"""SQL expression: the identity hash of a staged row (32 hex characters)."""

ROW_HASH_SQL = _fingerprint(CONTENT_FIELDS)
"""SQL expression: the content hash of a staged row, over every source field."""


def record_key_sql(identity: str, occurrence: str) -> str:
    """SQL expression building `_record_key` from an identity hash and an occurrence number."""
    return f"({identity} || '{KEY_SEPARATOR}' || CAST({occurrence} AS VARCHAR))"


def key_identity_sql(record_key: str) -> str:
    """SQL expression: the identity hash part of a `_record_key`."""
    return f"split_part({record_key}, '{KEY_SEPARATOR}', 1)"


def key_occurrence_sql(record_key: str) -> str:
    """SQL expression: the occurrence number part of a `_record_key`."""
    return f"CAST(split_part({record_key}, '{KEY_SEPARATOR}', 2) AS INTEGER)"
