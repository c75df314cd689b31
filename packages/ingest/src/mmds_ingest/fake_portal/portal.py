"""`FakePortal`: the fake City portal as a real HTTP server in a background thread, serving
the 3-1-1 requests and the local-area boundaries."""

import shutil
import tempfile
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from mmds_ingest.fake_portal.changes import AdvanceSummary, advance
from mmds_ingest.fake_portal.dataset import Dataset, records_batch
from mmds_ingest.fake_portal.faults import Fault
from mmds_ingest.fake_portal.hostile import hostile_records
from mmds_ingest.fake_portal.quota import RESET_STYLES
from mmds_ingest.fake_portal.schema import BOUNDARY_FIELDS, DATASET_ID, SHAPE_STYLES
from mmds_ingest.fake_portal.server import (
    API_PREFIX,
    PortalServer,
    PortalState,
    SeenRequest,
    make_server,
)
from mmds_ingest.fake_portal.span import DEFAULT_END, DEFAULT_START, span_days

PARQUET_STYLES = ("parquet", "parquet_text")
PUBLISH_STEP = timedelta(seconds=1)
"""How far a publication of crafted records or deletions moves the dataset's clock."""


class FakePortal:
    """A faithful fake of the Explore v2.1 API serving 3-1-1 requests and the 22 local-area
    boundaries on 127.0.0.1.

    Use as a context manager (or call `start()` / `stop()`). See the package docstring.
    """

    def __init__(
        self,
        rows: int = 10_000,
        seed: int = 0,
        *,
        start: date = DEFAULT_START,
        end: datetime = DEFAULT_END,
        quota: int | None = None,
        api_key_quota: int | None = None,
        from_csv: str | Path | None = None,
        faults: Iterable[Fault | str] = (),
        parquet_style: str = "parquet",
        rate_limit_reset: str = "epoch",
        host: str = "127.0.0.1",
        port: int = 0,
        dataset_id: str = DATASET_ID,
        hostile: bool = False,
        geo_shape_style: str = "geometry",
    ) -> None:
        if parquet_style not in PARQUET_STYLES:
            raise ValueError(
                f"parquet_style must be one of {PARQUET_STYLES}, got {parquet_style!r}"
            )
        if rate_limit_reset not in RESET_STYLES:
            raise ValueError(
                f"rate_limit_reset must be one of {RESET_STYLES}, got {rate_limit_reset!r}"
            )
        if geo_shape_style not in SHAPE_STYLES:
            raise ValueError(
                f"geo_shape_style must be one of {SHAPE_STYLES}, got {geo_shape_style!r}"
            )
        self._shape_style = geo_shape_style
        self._reset_style = rate_limit_reset
        for name, limit in (("quota", quota), ("api_key_quota", api_key_quota)):
            if limit is not None and limit < 0:
                raise ValueError(f"{name} must be zero or more (None: unlimited), got {limit}")
        self._options: dict[str, Any] = {  # the constructor's arguments, of their types
            "rows": rows,
            "seed": seed,
            "start": start,
            "end": end,
            "from_csv": from_csv,
            "hostile": hostile,
        }
        self._quotas, self._parquet_style = (quota, api_key_quota), parquet_style
        self._host, self._port, self.dataset_id = host, port, dataset_id
        self._initial_faults = [f if isinstance(f, Fault) else Fault.parse(f) for f in faults]
        self._directory: Path | None = None
        self._dataset: Dataset | None = None
        self._boundaries: Dataset | None = None
        self._state: PortalState | None = None
        self._server: PortalServer | None = None
        self._thread: threading.Thread | None = None
        self._advances = 0
        self._deletions = 0
        self._rows_per_day = 1.0

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> "FakePortal":
        """Load the dataset and serve it; returns self."""
        options = self._options
        self._directory = Path(tempfile.mkdtemp(prefix="mmds-fake-portal-"))
        try:
            end = options["end"].astimezone(UTC)
            dataset = Dataset(self._directory / "portal.duckdb", end)
            self._dataset = dataset
            if options["from_csv"] is not None:
                dataset.append_csv(Path(options["from_csv"]))
                dataset.touch(dataset.newest_change() or end)
            else:
                dataset.append_generated(options["rows"], options["seed"], options["start"], end)
            self._rows_per_day = max(dataset.count_all(), 1) / span_days(options["start"], end)
            if options["hostile"]:
                mix = hostile_records(dataset.now, datetime.now(UTC), options["seed"])
                dataset.append([records_batch([r for records in mix.values() for r in records])])
            self._boundaries = Dataset(
                self._directory / "boundaries.duckdb", end, BOUNDARY_FIELDS, self._shape_style
            )
            self._boundaries.append_boundaries()
            self._state = PortalState(
                dataset,
                self.dataset_id,
                self._boundaries,
                self._quotas,
                self._parquet_style,
                self._advance_dict,
                seed=options["seed"],
                reset_style=self._reset_style,
                add=self.add_records,
                delete=self.delete_records,
            )
            for fault in self._initial_faults:
                self._state.faults.add(fault)
            self._server = make_server(self._state, self._host, self._port)
        except BaseException:
            self.stop()
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-portal", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and delete the dataset file."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        for dataset in (self._dataset, self._boundaries):
            if dataset is not None:
                dataset.close()
        self._dataset = self._boundaries = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    def __enter__(self) -> "FakePortal":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- what users see -------------------------------------------------------------------

    def _running(self) -> PortalState:
        if self._state is None or self._server is None:
            raise RuntimeError("the fake portal is not running: use `with FakePortal(...)`")
        return self._state

    @property
    def url(self) -> str:
        """The site root, as `MMDS_PORTAL_URL` expects it (e.g. `http://127.0.0.1:54321`)."""
        self._running()
        assert self._server is not None  # checked by _running()
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # a bound socket's address is text
        return f"http://{host}:{port}"

    @property
    def dataset_url(self) -> str:
        """The 3-1-1 dataset's Explore v2.1 URL."""
        return self.url_of(self.dataset_id)

    def url_of(self, dataset_id: str) -> str:
        """The Explore v2.1 URL of a served dataset (e.g. `local-area-boundary`)."""
        return f"{self.url}{API_PREFIX}{dataset_id}"

    @property
    def now(self) -> datetime:
        """The dataset's clock: the instant its data is as of."""
        return self._running().dataset.now

    def total_count(self) -> int:
        """Rows in the dataset now."""
        return self._running().dataset.count_all()

    def advance(self, days: float = 1) -> AdvanceSummary:
        """Move time: new requests arrive, open ones close, old ones are edited, a few vanish."""
        state = self._running()
        self._advances += 1
        rng = np.random.default_rng([self._options["seed"], 1_000_003, self._advances])
        return advance(state.dataset, days, rng, self._rows_per_day)

    def add_records(self, records: Iterable[dict]) -> int:
        """Publish crafted records as the portal would, and return how many were added.

        Records carry the portal's field names and JSON values (instants with an offset, the
        close date as `YYYY-MM-DD`, `geom` optional); a value the portal could not send raises
        ValueError and adds nothing. They arrive in one transaction, and the metadata moves:
        `records_count`, and `modified`, `data_processed` and the dataset's clock by a second.
        """
        state = self._running()
        batch = records_batch(list(records))
        added = state.dataset.append([batch])
        state.dataset.touch(state.dataset.now + PUBLISH_STEP)
        return added

    def delete_records(self, count: int) -> list[dict]:
        """Delete `count` records (drawn from the portal's seed) as the City now and then does,
        and return them as the portal served them; the metadata moves as in `add_records`."""
        if count < 0:
            raise ValueError(f"count must be zero or more, got {count}")
        state = self._running()
        self._deletions += 1
        rng = np.random.default_rng([self._options["seed"], 2_000_003, self._deletions])
        with state.dataset.changes():
            deleted = state.dataset.delete_random(count, rng)
        state.dataset.touch(state.dataset.now + PUBLISH_STEP)
        return deleted

    def _advance_dict(self, days: float) -> dict:
        return self.advance(days).as_dict()

    def inject(self, fault: str, **settings) -> Fault:
        """Put a fault in force and return it.

        `settings`: `times` (default 1; None: until cleared), `endpoint` (`any`, `metadata`,
        `records`, `exports`) and the fault's own options (see `faults.OPTIONS`).
        """
        made = Fault.make(fault, **settings)
        self._running().faults.add(made)
        return made

    def clear_faults(self) -> None:
        """Remove every fault in force (counts in `faults_fired` stay)."""
        self._running().faults.clear()

    @property
    def requests_seen(self) -> list[SeenRequest]:
        """The API requests answered so far (the latest 10,000), oldest first."""
        return list(self._running().seen)

    @property
    def faults_fired(self) -> dict[str, int]:
        """How many responses each fault kind has shaped so far."""
        return self._running().faults.fired()
