"""Stand-ins for dbt's cross-database macros (``dbt.*``) when sqlfluff renders models offline.

sqlfluff's jinja templater has no dbt adapter, so each stub returns plain SQL of the same shape
as the real macro; only the shape matters for linting.
"""


def datediff(first_date, second_date, datepart):
    """Stand-in for ``dbt.datediff``."""
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def dateadd(datepart, interval, from_date_or_timestamp):
    """Stand-in for ``dbt.dateadd``."""
    return f"({from_date_or_timestamp} + interval ({interval}) {datepart})"


def date_trunc(datepart, date):
    """Stand-in for ``dbt.date_trunc``."""
    return f"date_trunc('{datepart}', {date})"


def hash(field):
    """Stand-in for ``dbt.hash``."""
    return f"md5(cast({field} as varchar))"


def split_part(string_text, delimiter_text, part_number):
    """Stand-in for ``dbt.split_part``."""
    return f"split_part({string_text}, {delimiter_text}, {part_number})"


def length(expression):
    """Stand-in for ``dbt.length``."""
    return f"length({expression})"


def type_string():
    """Stand-in for ``dbt.type_string``."""
    return "varchar"


def current_timestamp():
    """Stand-in for ``dbt.current_timestamp``."""
    return "current_timestamp"


def except_():
    """Stand-in for ``dbt.except`` (``except`` is a Python keyword; see below)."""
    return "except"


globals()["except"] = except_


def date_spine(datepart, start_date, end_date):
    """Stand-in for ``dbt.date_spine``."""
    day = f"{start_date} + interval (n) {datepart}"
    series = "generate_series(0, 10) as series (n)"
    return f"select {day} as date_{datepart} from {series} where {day} < {end_date}"  # noqa: S608 (text for the linter; never executed)


def right(string_text, length_expression):
    """Stand-in for ``dbt.right``."""
    return f"right({string_text}, {length_expression})"


def concat(fields):
    """Stand-in for ``dbt.concat``."""
    return f"concat({', '.join(fields)})"


def position(substring_text, string_text):
    """Stand-in for ``dbt.position``."""
    return f"position({substring_text} in {string_text})"


def generate_series(upper_bound):
    """Stand-in for ``dbt.generate_series``."""
    return f"select n as generated_number from range(1, {upper_bound} + 1) as series (n)"  # noqa: S608 (text for the linter; never executed)
