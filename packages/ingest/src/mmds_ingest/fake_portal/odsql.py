"""The subset of ODSQL the fake portal understands, compiled to parameterised DuckDB SQL.

Field names are checked against the dataset's fields and emitted from that list, and every
literal becomes a bound parameter, so user text never reaches SQL. Anything outside the subset
raises `ODSQLError`, which the server answers with a 400 `ODSQLError` body like the portal's.

`where`: comparisons (`= != <> < <= > >=`) between a field and a literal (`'text'`, `"text"`,
numbers, `date'2025-01-01T00:00:00+00:00'`), `field is [not] null`, `field [not] in [a..b]`,
`AND`, `OR`, `NOT` and parentheses. `select`: `*` or field names. `order_by`: fields with an
optional `asc`/`desc`.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<date>date\s*'(?P<date_value>[^']*)')
    | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
    | (?P<number>-?\d+(?:\.\d+)?(?!\w))
    | (?P<range>\.\.)
    | (?P<op><=|>=|!=|<>|=|<|>)
    | (?P<punct>[()\[\],*])
    | (?P<word>`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE | re.IGNORECASE,
)
MAX_QUERY_CHARS = 10_000
MAX_NESTING = 50
_KEYWORDS = {"and", "or", "not", "is", "null", "in", "asc", "desc"}
_SQL_OPS = {"=": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class ODSQLError(ValueError):
    """A `where`, `select` or `order_by` the fake (and the portal) would refuse."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"ODSQL query is malformed: {detail}")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    value: str


@dataclass(frozen=True)
class Compiled:
    """A SQL fragment with `?` placeholders and the parameters to bind, in order."""

    sql: str
    params: tuple


def tokenize(text: str) -> list[Token]:
    """Split ODSQL text into tokens; unknown characters are an `ODSQLError`."""
    if len(text) > MAX_QUERY_CHARS:
        raise ODSQLError(f"Query longer than {MAX_QUERY_CHARS} characters")
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ODSQLError(f"Unexpected character {text[position]!r} at position {position}")
        assert match.lastgroup is not None  # every alternative of _TOKEN is a named group
        kind = match.lastgroup if match.lastgroup != "date_value" else "date"
        if kind == "date":
            tokens.append(Token("date", match.group(0), match.group("date_value")))
        elif kind == "string":
            raw = match.group(0)
            tokens.append(Token("string", raw, raw[1:-1].replace(raw[0] * 2, raw[0])))
        elif kind == "word":
            raw = match.group(0)
            name = raw.strip("`")
            word_kind = "keyword" if raw == name and name.lower() in _KEYWORDS else "field"
            tokens.append(Token(word_kind, raw, name.lower() if word_kind == "keyword" else name))
        elif kind != "space":
            tokens.append(Token(kind, match.group(0), match.group(0)))
        position = match.end()
    return tokens


def _parse_instant(text: str, zone: tzinfo) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ODSQLError(f"Invalid date or datetime literal: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=zone)


class _WhereParser:
    def __init__(self, text: str, columns: Mapping[str, tuple[str, str]], zone: tzinfo) -> None:
        self.tokens = tokenize(text)
        self.position = 0
        self.columns = columns  # public field name -> (storage column, ODS type)
        self.zone = zone
        self.params: list = []
        self.depth = 0

    def peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise ODSQLError("Unexpected end of query")
        self.position += 1
        return token

    def accept(self, kind: str, value: str | None = None) -> bool:
        token = self.peek()
        if token is not None and token.kind == kind and (value is None or token.value == value):
            self.position += 1
            return True
        return False

    def expect(self, kind: str, value: str) -> None:
        if not self.accept(kind, value):
            token = self.peek()
            found = "end of query" if token is None else repr(token.text)
            raise ODSQLError(f"Expected {value!r} but found {found}")

    def parse(self) -> Compiled:
        sql = self.disjunction()
        left = self.peek()
        if left is not None:
            raise ODSQLError(f"Unexpected token {left.text!r}")
        return Compiled(sql, tuple(self.params))

    def disjunction(self) -> str:
        parts = [self.conjunction()]
        while self.accept("keyword", "or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def conjunction(self) -> str:
        parts = [self.negation()]
        while self.accept("keyword", "and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def negation(self) -> str:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ODSQLError(f"Query nested deeper than {MAX_NESTING} levels")
        try:
            if self.accept("keyword", "not"):
                return f"(NOT {self.negation()})"
            if self.accept("punct", "("):
                inner = self.disjunction()
                self.expect("punct", ")")
                return inner
            return self.predicate()
        finally:
            self.depth -= 1

    def field(self) -> tuple[str, str]:
        token = self.take()
        if token.kind != "field":
            raise ODSQLError(f"Expected a field name but found {token.text!r}")
        if token.value not in self.columns:
            raise ODSQLError(f"Unknown field: {token.value}")
        return self.columns[token.value]

    def literal(self, ods_type: str):
        token = self.take()
        if ods_type in ("datetime", "date"):
            if token.kind not in ("date", "string"):
                raise ODSQLError(f"Expected a date literal but found {token.text!r}")
            instant = _parse_instant(token.value, self.zone)
            return instant if ods_type == "datetime" else instant.astimezone(self.zone).date()
        if ods_type == "double":
            if token.kind != "number":
                raise ODSQLError(f"Expected a number but found {token.text!r}")
            return float(token.value)
        if token.kind not in ("string", "number"):
            raise ODSQLError(f"Expected a text literal but found {token.text!r}")
        return token.value

    def predicate(self) -> str:
        column, ods_type = self.field()
        quoted = f'"{column}"'
        if self.accept("keyword", "is"):
            negated = self.accept("keyword", "not")
            self.expect("keyword", "null")
            return f"{quoted} IS {'NOT ' if negated else ''}NULL"
        negated = self.accept("keyword", "not")
        if self.accept("keyword", "in"):
            self.expect("punct", "[")
            low = self.literal(ods_type)
            self.expect("range", "..")
            high = self.literal(ods_type)
            self.expect("punct", "]")
            self.params += [low, high]
            return f"{quoted} {'NOT ' if negated else ''}BETWEEN ? AND ?"
        if negated:
            raise ODSQLError("Expected 'in' after 'not'")
        token = self.take()
        if token.kind != "op":
            raise ODSQLError(f"Expected a comparison operator but found {token.text!r}")
        self.params.append(self.literal(ods_type))
        return f"{quoted} {_SQL_OPS[token.value]} ?"


def compile_where(text: str, columns: Mapping[str, tuple[str, str]], zone: tzinfo) -> Compiled:
    """Compile a `where` clause; literals without an offset are read in `zone`."""
    if not text.strip():
        return Compiled("TRUE", ())
    return _WhereParser(text, columns, zone).parse()


def _field_list(text: str, parameter: str) -> list[list[Token]]:
    items: list[list[Token]] = [[]]
    for token in tokenize(text):
        if token.kind == "punct" and token.value == ",":
            items.append([])
        else:
            items[-1].append(token)
    if any(not item for item in items):
        raise ODSQLError(f"Empty expression in {parameter}")
    return items


def parse_select(text: str, fields: list[str]) -> list[str]:
    """Fields named by `select` (`*` or a comma-separated list), in the order asked."""
    if text.strip() in ("", "*"):
        return list(fields)
    chosen = []
    for item in _field_list(text, "select"):
        if len(item) != 1 or item[0].kind != "field":
            raise ODSQLError(f"Unsupported select expression: {' '.join(t.text for t in item)}")
        if item[0].value not in fields:
            raise ODSQLError(f"Unknown field: {item[0].value}")
        chosen.append(item[0].value)
    return chosen


def parse_order_by(text: str, fields: list[str]) -> list[tuple[str, bool]]:
    """(field, descending) pairs named by `order_by`."""
    if not text.strip():
        return []
    order = []
    for item in _field_list(text, "order_by"):
        direction = item[1].value if len(item) == 2 and item[1].kind == "keyword" else None
        if item[0].kind != "field" or len(item) > 2 or (len(item) == 2 and direction is None):
            raise ODSQLError(f"Unsupported order_by expression: {' '.join(t.text for t in item)}")
        if direction not in (None, "asc", "desc"):
            raise ODSQLError(f"Unsupported order_by direction: {item[1].text}")
        if item[0].value not in fields:
            raise ODSQLError(f"Unknown field: {item[0].value}")
        order.append((item[0].value, direction == "desc"))
    return order
