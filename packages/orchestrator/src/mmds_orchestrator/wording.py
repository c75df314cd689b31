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
        f"{int(load.get(f'rows_{name}', 0) or 0):,} {name}"  # type: ignore[call-overload]
        for name in ("inserted", "updated", "deleted", "flagged")
    )
    received = int(load.get("rows_received", 0) or 0)  # type: ignore[call-overload]
    return f"{dataset}{load.get('mode', '?')} load, {received:,} received: {counts}"
