"""The aggregations the fake portal answers on its exports, spelled as Explore v2.1 spells them:

    select=count(*) as n&group_by=date_format(last_modified_timestamp, 'yyyy-MM-dd') as day

`group_by`: comma-separated fields or `date_format(<datetime or date field>, '<pattern>')`,
each with an optional `as <label>` (without one, the expression's text is the label).
`select`: `count(*)` with an optional label, and the group labels themselves.
Date patterns are Joda's, as the portal's: `yyyy` (or `YYYY`), `MM`, `dd`, `HH`, `mm`, `ss`,
text in single quotes, and punctuation; each row of a datetime is formatted in the request's
`timezone`. Groups come ordered by their keys. Anything else is an `ODSQLError`.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mmds_ingest.fake_portal.odsql import ODSQLError, Token, tokenize

_JODA = {"yyyy": "%Y", "YYYY": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
_PATTERN = re.compile(r"'([^']*)'|([A-Za-z])\2*|([^A-Za-z'])")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Aggregation:
    """Groups as (label, SQL over stored columns) and the labels of the `count(*)` columns."""

    groups: tuple[tuple[str, str], ...]
    counts: tuple[str, ...]


def _items(text: str, parameter: str) -> list[list[Token]]:
    """Comma-separated expressions (commas inside parentheses belong to their expression)."""
    items: list[list[Token]] = [[]]
    depth = 0
    for token in tokenize(text):
        if token.kind == "punct" and token.value in "()":
            depth += 1 if token.value == "(" else -1
        if token.kind == "punct" and token.value == "," and depth == 0:
            items.append([])
        else:
            items[-1].append(token)
    if depth or any(not item for item in items):
        raise ODSQLError(f"Malformed expression in {parameter}")
    return items


def _labelled(item: list[Token]) -> tuple[list[Token], str | None]:
    if len(item) > 2 and item[-2].kind == "field" and item[-2].value.lower() == "as":
        label = item[-1].value
        if item[-1].kind != "field" or not _LABEL.match(label):
            raise ODSQLError(f"Invalid label: {item[-1].text}")
        return item[:-2], label
    return item, None


def _strftime(pattern: str) -> str:
    """A Joda date pattern as a DuckDB strftime format."""
    parts = []
    for match in _PATTERN.finditer(pattern):
        quoted, letter, other = match.groups()
        if letter is not None:
            if match.group(0) not in _JODA:
                raise ODSQLError(f"Unsupported date format pattern: {match.group(0)}")
            parts.append(_JODA[match.group(0)])
        else:
            parts.append((quoted if quoted is not None else other).replace("%", "%%"))
    return "".join(parts)


def _group(item: list[Token], columns: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    expression, label = _labelled(item)
    text = " ".join(token.text for token in expression)
    kinds = [token.kind for token in expression]
    if kinds == ["field"]:
        name = expression[0].value
        if name not in columns:
            raise ODSQLError(f"Unknown field: {name}")
        return label or name, f'"{columns[name][0]}"'
    if kinds == ["field", "punct", "field", "punct", "string", "punct"] and (
        expression[0].value.lower() == "date_format"
        and [expression[1].value, expression[3].value, expression[5].value] == ["(", ",", ")"]
    ):
        name = expression[2].value
        if name not in columns:
            raise ODSQLError(f"Unknown field: {name}")
        column, ods_type = columns[name]
        if ods_type not in ("datetime", "date"):
            raise ODSQLError(f"date_format needs a date or datetime field, not {name}")
        # A bound parameter cannot be a strftime format: the format is built from the pattern
        # letters above and quoted literal text, with quotes doubled.
        fmt = _strftime(expression[4].value).replace("'", "''")
        return label or text, f"strftime(\"{column}\", '{fmt}')"
    raise ODSQLError(f"Unsupported group_by expression: {text}")


def parse_aggregation(
    select: str, group_by: str, columns: Mapping[str, tuple[str, str]]
) -> Aggregation:
    """Compile `select` and `group_by`; `columns` maps field names to (storage column, type)."""
    groups = tuple(_group(item, columns) for item in _items(group_by, "group_by"))
    labels = {label for label, _ in groups}
    if len(labels) < len(groups):
        raise ODSQLError("Duplicate label in group_by")
    counts: list[str] = []
    for item in _items(select or "count(*)", "select"):
        expression, label = _labelled(item)
        text = "".join(token.text for token in expression)
        if text.lower() == "count(*)":
            counts.append(label or "count(*)")
        elif not (len(expression) == 1 and expression[0].value in labels):
            raise ODSQLError(f"Unsupported select expression with group_by: {text}")
    if len(set(counts)) < len(counts) or labels & set(counts):
        raise ODSQLError("Duplicate label in select")
    return Aggregation(groups, tuple(counts))
