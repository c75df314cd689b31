"""The portal's daily request quota and the X-RateLimit headers that report it."""

import threading
from datetime import UTC, datetime, timedelta

UNLIMITED = 1_000_000_000  # what the headers say when no quota is set


class DailyQuota:
    """Calls allowed per UTC day (None: unlimited); resets at midnight UTC like the portal's."""

    def __init__(self, limit: int | None) -> None:
        self.limit = UNLIMITED if limit is None else limit
        self._lock = threading.Lock()
        self._day = ""
        self._used = 0

    def spend(self) -> tuple[bool, dict[str, str]]:
        """Count one call if allowed; return whether it is, and the X-RateLimit headers."""
        now = datetime.now(UTC)
        reset = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        with self._lock:
            if self._day != now.date().isoformat():
                self._day, self._used = now.date().isoformat(), 0
            allowed = self._used < self.limit
            self._used += allowed
            remaining = self.limit - self._used
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset.timestamp())),
        }
        return allowed, headers
