"""Every error a load ends with on purpose, classified once.

Each class says whether waiting can fix it (`transient`) and what to do (`hint`, one
sentence). `str(error)` is one line, "<cause>: <hint>", with no traceback, no raw page and no
secret in it. A load that raises one of them leaves the warehouse exactly as it was.
"""

import re

from mmds_ingest.datasets import DEFAULT_PORTAL_URL

_WHITESPACE = re.compile(r"\s+")


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines included) as one space."""
    return _WHITESPACE.sub(" ", text).strip()


class IngestError(Exception):
    """Base of every error the ingestion raises on purpose.

    `cause` says what happened; `hint` (the class's, or one given for this case) what to do.
    """

    transient: bool = False
    hint: str = "see the log for the details"

    def __init__(self, cause: str, hint: str | None = None) -> None:
        self.cause = one_line(cause)
        if hint is not None:
            self.hint = one_line(hint)
        super().__init__(f"{self.cause}: {self.hint}")

    def __reduce__(self):
        return type(self), (self.cause, self.hint)


class SettingsError(IngestError):
    """A setting (`MMDS_*` variable or flag) has a value mmds cannot use."""

    hint = "fix that variable (or its flag) and run again"


class DataDirError(IngestError):
    """The data folder (or the warehouse file in it) cannot be created or written."""

    hint = "set MMDS_DATA_DIR to a folder this user can write"


class WarehouseCorruptError(IngestError):
    """`warehouse.duckdb` is not a DuckDB file, or one this DuckDB cannot read."""

    hint = (
        "run `mmds run --full-refresh` to rebuild it "
        "(or `mmds-ingest load --full-refresh` for bronze alone)"
    )


class WarehouseLockedError(IngestError):
    """Another process holds the warehouse's write lock."""

    transient = True
    hint = (
        "wait for that process to finish and run again, "
        "or set MMDS_LOCK_WAIT_SECONDS to wait for the lock"
    )


class WarehouseUnreachableError(IngestError):
    """The PostgreSQL warehouse refused or did not answer a connection: wrong host, port, user,
    password or database, or no server there (after a few seconds)."""

    hint = "check MMDS_WAREHOUSE_URL (host, port, user, password, database) and the server"


class PortalUnreachableError(IngestError):
    """No connection to the portal could be made: its name does not resolve, there is no
    network, or nothing accepts connections there (after a short wait)."""

    hint = "check MMDS_PORTAL_URL and the network"


class PortalRequestError(IngestError):
    """The portal refused a request (4xx other than 408 and 429): retrying will not help."""

    hint = "check MMDS_PORTAL_URL"


class PortalUnavailableError(IngestError):
    """The portal stayed unreachable, failing or rate-limited for the load's whole retry
    budget (`MMDS_RETRY_BUDGET_SECONDS`)."""

    transient = True
    hint = "the portal may be down or overloaded; try again later"


class PayloadError(IngestError):
    """The portal answered with data mmds cannot read (a line of the export that is not JSON)."""

    hint = "the portal sent something unreadable; try again later, and report it if it stays"


class NotAPortalError(PayloadError):
    """The answer is not the Opendatasoft API: an HTML page, or JSON of another shape."""

    hint = (
        f"check MMDS_PORTAL_URL: it must be an Opendatasoft portal's site root, "
        f"e.g. {DEFAULT_PORTAL_URL}"
    )


class SchemaDriftError(IngestError):
    """The dataset lost or renamed a field the warehouse needs."""

    hint = "nothing was loaded; adapt mmds_ingest.datasets to the new schema"


class ReconciliationError(IngestError):
    """Bronze and the portal could not be brought to agree: the rows received do not add up to
    what the portal counted, or the portal kept changing while bronze was being repaired.
    Transient: the portal settles, and the next load agrees."""

    transient = True
    hint = "the portal changed during the load; nothing was committed, run the load again"
