"""Tables as people read them: labelled columns, formatted values, trend lines, and CSV files
with the same headers."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]<>()#+-.!|:~$%^&=\"'/;?@")
SPARK_WIDTH, SPARK_HEIGHT = 84, 20
SPARK_COLOUR = "#4c78a8"


@dataclass(frozen=True)
class Column:
    """A column of a shown table: the frame's column, its header, how a value is written."""

    key: str
    label: str
    format: Callable[[Any], str] = str
    align: Literal["left", "right"] = "left"


def escape_markdown(text: str) -> str:
    """`text` shown literally in Markdown (no emphasis, links, colours, icons or maths)."""
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in text.replace("\n", " "))


def sparkline(values: Sequence[float], label: str) -> str:
    """A small trend line as a Markdown image (an inline SVG, fetched from nowhere)."""
    if len(values) < 2:
        return "—"
    top = max(max(values), 1)
    step = (SPARK_WIDTH - 4) / (len(values) - 1)
    points = " ".join(
        f"{2 + i * step:.1f},{SPARK_HEIGHT - 2 - (SPARK_HEIGHT - 4) * v / top:.1f}"
        for i, v in enumerate(values)
    )
    last_x, last_y = points.rsplit(" ", 1)[-1].split(",")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}">'
        f'<polyline fill="none" stroke="{SPARK_COLOUR}" stroke-width="1.5" points="{points}"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="2" fill="{SPARK_COLOUR}"/></svg>'
    )
    encoded = base64.b64encode(svg.encode()).decode()
    return f"![{escape_markdown(label)}](data:image/svg+xml;base64,{encoded})"


def markdown_table(frame: pd.DataFrame, columns: Iterable[Column]) -> str:
    """`frame` as a Markdown table of `columns` (values formatted, text escaped)."""
    columns = list(columns)
    header = "| " + " | ".join(escape_markdown(c.label) for c in columns) + " |"
    rule = "|" + "|".join("---:" if c.align == "right" else ":---" for c in columns) + "|"
    rows = [
        "| " + " | ".join(c.format(record[c.key]) for c in columns) + " |"
        for record in frame.to_dict("records")
    ]
    return "\n".join([header, rule, *rows])


def text(value: Any) -> str:
    """A text cell, escaped."""
    return escape_markdown(str(value))


def identifier(value: Any) -> str:
    """A name like `relationships_fct_service_requests_local_area_id`, escaped, allowed to wrap
    after each underscore or dot so a narrow screen need not scroll."""
    return text(value).replace("\\_", "\\_\u200b").replace("\\.", "\\.\u200b")


def labelled(frame: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The columns of `labels` (in that order), renamed to their labels: a table to download."""
    return frame[list(labels)].rename(columns=labels)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV; text cells that a spreadsheet would run as a formula are quoted
    with a leading apostrophe."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(
                lambda v: f"'{v}" if isinstance(v, str) and v.startswith(_FORMULA_PREFIXES) else v
            )
    return safe.to_csv(index=False).encode("utf-8")
