"""A faithful fake of the City of Vancouver's Opendatasoft portal, and realistic 3-1-1 data.

Needs the `fake-portal` extra (numpy, pyarrow); the connector itself never imports it.

    from mmds_ingest.fake_portal import FakePortal, generate_records

    with FakePortal(rows=10_000, seed=7) as portal:  # real HTTP on 127.0.0.1, ephemeral port
        portal.url            # site root, e.g. "http://127.0.0.1:54321" (for MMDS_PORTAL_URL)
        portal.dataset_url    # {url}/api/explore/v2.1/catalog/datasets/3-1-1-service-requests
        portal.url_of("local-area-boundary")  # the other dataset it serves
        portal.total_count()  # 3-1-1 rows in the dataset now
        portal.now            # the dataset's clock (defaults to the end of the span)
        portal.advance(days=1)  # -> AdvanceSummary(now, added, closed, edited, deleted, ...)
        portal.inject("server_error", times=3)  # see FaultKind and faults.OPTIONS
        portal.faults_fired   # {"server_error": 3, ...}
        portal.clear_faults()
        portal.requests_seen  # [SeenRequest(endpoint, path, params, api_key, dataset), ...]
        portal.add_records([{...}, ...])  # publish crafted records (metadata moves)
        portal.delete_records(101)  # -> the deleted records, as served

Constructor, faults, control calls and data: see the package README ("Fake portal").
Names are imported on first use, so that `mmds_ingest.fake_portal.cli` loads without the extra.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AdvanceSummary": "changes",
    "FakePortal": "portal",
    "Fault": "faults",
    "FaultKind": "faults",
    "HOSTILE_KINDS": "hostile",
    "ODSQLError": "odsql",
    "SeenRequest": "server",
    "generate_batches": "generator",
    "generate_records": "generator",
    "hostile_records": "hostile",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
