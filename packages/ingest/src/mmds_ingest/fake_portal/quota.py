"""The portal's daily request quota and the X-RateLimit headers that report it."""

import threading
from datetime import UTC, datetime, timedelta

UNLIMITED = 1_000_000_000  # what the headers say when no quota is set
RESET_STYLES = ("epoch", "iso")  # the portal has been seen to send either


class DailyQuota:
    """Calls allowed per UTC day (None: unlimited); resets at midnight UTC like the portal's."""

    def __init__(self, limit: int | None, reset_style: str = "epoch") -> None:
        """`reset_style`: one of RESET_STYLES, how X-RateLimit-Reset is written."""
        self.limit = UNLIMITED if limit is None else limit
        self.reset_style = reset_style
        self._lock = threading.Lock()
        self._day = ""
        self._used = 0

    def spend(self) -> tuple[bool, dict[str, str]]:
        """Count one call if allowed; return whether it is, and the X-RateLimit headers."""
        now, reset = datetime.now(UTC), self.next_reset()
        with self._lock:
            if self._day != now.date().isoformat():
                self._day, self._used = now.date().isoformat(), 0
            allowed = self._used < self.limit
            self._used += allowed
            remaining = self.limit - self._used
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": (
                reset.isoformat() if self.reset_style == "iso" else str(int(reset.timestamp()))
            ),
        }
        return allowed, headers

    @staticmethod
    def next_reset() -> datetime:
        """The next midnight UTC, when the day's count starts again."""
        now = datetime.now(UTC)
        return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
