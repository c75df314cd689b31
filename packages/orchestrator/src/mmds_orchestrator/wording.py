"""How `mmds run` words things on one line: loads, errors, counts."""

import re
from collections.abc import Mapping

MAX_LINE = 400
_SPACES = re.compile(r"\s+")


def one_line(text: str, limit: int | None = MAX_LINE) -> str:
    """`text` on one line (newlines and runs of spaces collapsed), cut to `limit` characters."""
    line = _SPACES.sub(" ", text).strip()
    return line if limit is None or len(line) <= limit else line[: limit - 1].rstrip() + "…"


def plural(count: int, noun: str) -> str:
    """'1 model', '19 models', '1,000 rows'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def describe_load(load: Mapping[str, object]) -> str:
    """One load as the summary shows it, from its `LoadResult` values."""
    dataset = f"{load['dataset']}: " if load.get("dataset") else ""
    if load.get("status") == "skipped":
        return f"{dataset}skipped, the portal has not changed (load {load.get('load_id', '?')})"
    counts = ", ".join(
        f"{_rows(load, name):,} {name}" for name in ("inserted", "updated", "deleted", "flagged")
    )
    return f"{dataset}{load.get('mode', '?')} load, {_rows(load, 'received'):,} received: {counts}"


def _rows(load: Mapping[str, object], name: str) -> int:
    value = load.get(f"rows_{name}")
    return int(value) if isinstance(value, int | float) else 0
