"""What a dataset's metadata says: its fields (compared with those declared), its change token
and the portal's clock."""

from datetime import UTC, datetime
from typing import Any

from mmds_ingest.client import Metadata
from mmds_ingest.datasets import Dataset
from mmds_ingest.errors import NotAPortalError, SchemaDriftError

CLOCK_METAS = ("data_processed", "modified")


def check_fields(metadata: dict[str, Any], dataset: Dataset) -> str | None:
    """Compare the metadata's `fields[]` with the fields `dataset` declares.

    Returns a warning naming new fields (kept in `_raw` only), None when they match; raises
    `SchemaDriftError` when an expected field is gone.
    """
    fields = metadata.get("fields")
    if not isinstance(fields, list):
        raise NotAPortalError("the dataset metadata has no fields[] list")
    names = {field.get("name") for field in fields if isinstance(field, dict)}
    expected = dataset.field_names
    missing = [name for name in expected if name not in names]
    added = sorted(str(name) for name in names - set(expected))
    if missing:
        renamed = f"; new field(s) {', '.join(added)} may be renames of them" if added else ""
        raise SchemaDriftError(
            f"the dataset no longer has field(s) {', '.join(missing)}{renamed}, and bronze "
            f"needs all {len(expected)}"
        )
    if added:
        return f"schema drift: new field(s) {', '.join(added)} kept in _raw only"
    return None


def change_token(metadata: dict[str, Any]) -> str | None:
    """`modified`, `data_processed` and `records_count` together; None when any is unknown.

    The three move at different moments, so a load is skipped only when none of them moved.
    """
    default = _default_metas(metadata)
    if default is None:
        return None
    parts = {key: default.get(key) for key in ("modified", "data_processed", "records_count")}
    if any(value is None for value in parts.values()):
        return None
    return ";".join(f"{key}={value}" for key, value in parts.items())


def portal_clock(metadata: Metadata) -> datetime | None:
    """The portal's own idea of now: the latest of `data_processed`, `modified` and the
    response's `Date`; None when none of them can be read."""
    default = _default_metas(metadata.body) or {}
    instants = [_instant(default.get(key)) for key in CLOCK_METAS] + [metadata.served_at]
    known = [instant for instant in instants if instant is not None]
    return max(known) if known else None


def _default_metas(metadata: dict[str, Any]) -> dict[str, Any] | None:
    metas = metadata.get("metas")
    default = metas.get("default") if isinstance(metas, dict) else None
    return default if isinstance(default, dict) else None


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant.astimezone(UTC) if instant.tzinfo else instant.replace(tzinfo=UTC)
