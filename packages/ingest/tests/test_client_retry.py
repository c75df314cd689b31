"""Reading the waits a portal asks for: Retry-After and X-RateLimit-Reset in every form."""

from datetime import UTC, datetime

import pytest
from mmds_ingest.retry import requested_wait, seconds_until

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "value, expected",
    [
        ("7", 7.0),
        ("0", 0.0),
        (str(int(NOW) + 90), 90.0),  # epoch seconds
        ("2026-11-30T12:02:00+00:00", 120.0),  # ISO with offset
        ("2026-11-30T12:02:00Z", 120.0),
        ("2026-11-30T12:02:00", 120.0),  # ISO without offset: UTC
        ("Mon, 30 Nov 2026 12:03:00 GMT", 180.0),  # HTTP date
        ("2026-11-30T11:00:00+00:00", 0.0),  # already past
        ("soon", None),
        ("", None),
    ],
)
def test_seconds_until_reads_delays_epochs_and_dates(value, expected):
    assert seconds_until(value, now=NOW) == expected


def test_rate_limit_reset_counts_only_for_429():
    reset = {"x-ratelimit-reset": "2999-01-01T00:00:00+00:00"}
    assert requested_wait(429, reset) > 0
    assert requested_wait(503, reset) is None
    assert requested_wait(503, {"retry-after": "2"}) == 2.0
