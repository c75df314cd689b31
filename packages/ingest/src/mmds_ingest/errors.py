"""The errors a load can end with; each message says what failed and what to do."""


class IngestError(Exception):
    """Base of every error the ingestion raises on purpose; the warehouse is left unchanged."""


class PortalRequestError(IngestError):
    """The portal refused a request (4xx other than 429): retrying will not help."""


class PortalUnavailableError(IngestError):
    """The portal stayed unreachable, failing or rate-limited for the whole retry budget."""


class PayloadError(IngestError):
    """The portal answered, but not with the expected shape (HTML, truncated, malformed)."""


class SchemaDriftError(IngestError):
    """The dataset lost or renamed a field the warehouse needs."""


class ReconciliationError(IngestError):
    """Bronze and the portal could not be brought to agree: the rows received do not add up to
    what the portal counted, or the portal kept changing while bronze was being repaired."""


class WarehouseLockedError(IngestError):
    """Another process holds the warehouse's write lock."""
