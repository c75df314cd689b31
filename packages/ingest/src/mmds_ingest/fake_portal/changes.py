"""Time moving on the fake portal: the dataset changes the way the real one does each day."""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from mmds_ingest.fake_portal import vocabulary as v
from mmds_ingest.fake_portal.dataset import Dataset
from mmds_ingest.fake_portal.generator import generate_batches

CLOSE_RATE_PER_DAY = 0.25  # share of open requests closing each day
LATE_EDITS_PER_DAY = 1.0  # old closed requests edited again, on average
LATE_EDIT_MIN_AGE = timedelta(days=60)
DELETIONS_PER_DAY = 0.2  # rows that disappear, on average


@dataclass(frozen=True)
class AdvanceSummary:
    """What one move of the clock changed."""

    now: datetime
    added: int
    closed: int
    edited: int
    deleted: int
    total_count: int

    def as_dict(self) -> dict:
        """JSON-friendly form (the HTTP control call returns it)."""
        return {**asdict(self), "now": self.now.isoformat()}


def _seconds(rng: np.random.Generator, start: datetime, end: datetime, n: int) -> list[datetime]:
    span = max(int((end - start).total_seconds()), 1)
    return [start + timedelta(seconds=int(s)) for s in rng.integers(0, span, n)]


def advance(dataset: Dataset, days: float, rng: np.random.Generator, rows_per_day: float):
    """Move the dataset's clock by `days` and apply the day's changes; return a summary."""
    if days <= 0:
        raise ValueError(f"time only moves forward: days must be positive, got {days}")
    before, after = dataset.now, dataset.now + timedelta(days=days)
    reasons = [name for name, _ in v.CLOSURE_REASONS]
    reason_p = np.array([weight for _, weight in v.CLOSURE_REASONS], dtype=float)
    reason_p /= reason_p.sum()
    arriving = int(rng.poisson(rows_per_day * days))
    start = before.date()  # some arrive opened hours before the old clock, as late rows do
    with dataset.changes():
        open_seq = dataset.column("SELECT _seq FROM records WHERE status = 'Open' ORDER BY _seq")
        closing = open_seq[rng.random(open_seq.size) < 1 - np.exp(-CLOSE_RATE_PER_DAY * days)]
        closed_at = _seconds(rng, before, after, closing.size)
        if closing.size:
            table = pa.table(
                {
                    "_seq": pa.array(closing, pa.int64()),
                    "reason": pa.array(rng.choice(reasons, closing.size, p=reason_p)),
                    "closed_at": pa.array(closed_at, pa.timestamp("us", tz="UTC")),
                }
            )
            dataset.register("closing", table)
            dataset.write(
                "UPDATE records SET status = 'Close', closure_reason = c.reason, "
                "service_request_close_date = (timezone('America/Vancouver', c.closed_at))::DATE, "
                "last_modified_timestamp = c.closed_at, _json_utc = NULL "
                "FROM closing c WHERE records._seq = c._seq"
            )
            dataset.unregister("closing")

        old = dataset.column(
            "SELECT _seq FROM records WHERE status = 'Close' AND last_modified_timestamp < ? "
            "ORDER BY _seq",
            [before - LATE_EDIT_MIN_AGE],
        )
        edited = rng.choice(old, min(rng.poisson(LATE_EDITS_PER_DAY * days), old.size), False)
        for seq, at in zip(edited, _seconds(rng, before, after, edited.size), strict=True):
            dataset.write(
                "UPDATE records SET last_modified_timestamp = ?, closure_reason = ?, "
                "_json_utc = NULL WHERE _seq = ?",
                [at, str(rng.choice(reasons, p=reason_p)), int(seq)],
            )

        everyone = dataset.column("SELECT _seq FROM records ORDER BY _seq")
        gone = rng.choice(
            everyone, min(rng.poisson(DELETIONS_PER_DAY * days), everyone.size), False
        )
        for seq in gone:
            dataset.write("DELETE FROM records WHERE _seq = ?", [int(seq)])
        dataset.render_pending()
        dataset.insert(generate_batches(arriving, int(rng.integers(2**31)), start, after))
    dataset.touch(after)
    return AdvanceSummary(
        after, arriving, int(closing.size), int(edited.size), int(gone.size), dataset.count_all()
    )
