"""Faults the fake portal can inject, how they are specified, and how often they fired."""

import threading
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from mmds_ingest.fake_portal.schema import DATASET_ID, FIELDS, changed_fields


class FaultKind(StrEnum):
    """What goes wrong."""

    RATE_LIMIT = "rate_limit"  # 429 with Retry-After
    SERVER_ERROR = "server_error"  # a burst of 500/502/503
    DROP_CONNECTION = "drop_connection"  # the connection closes mid-body
    TRUNCATED_BODY = "truncated_body"  # a complete HTTP response whose body is cut short
    SLOW_FIRST_BYTE = "slow_first_byte"  # nothing is sent for a while
    HTML_ERROR_PAGE = "html_error_page"  # an HTML error page with status 200
    SCHEMA_CHANGE = "schema_change"  # a field added, removed or renamed
    CHURN = "churn"  # the dataset changes just before the answer: records are deleted


ENDPOINTS = ("any", "metadata", "records", "exports", "aggregates")
"""`aggregates`: a records or exports request with `group_by` (it is not `records`/`exports`)."""

# Options each fault accepts, with their defaults (the types of the defaults are enforced).
OPTIONS: dict[FaultKind, dict[str, Any]] = {
    FaultKind.RATE_LIMIT: {"retry_after": 1},
    FaultKind.SERVER_ERROR: {"statuses": (500, 502, 503)},
    FaultKind.DROP_CONNECTION: {"after_bytes": 65_536},
    FaultKind.TRUNCATED_BODY: {"after_bytes": 65_536},
    FaultKind.SLOW_FIRST_BYTE: {"seconds": 2.0},
    FaultKind.HTML_ERROR_PAGE: {},
    FaultKind.SCHEMA_CHANGE: {"change": "renamed", "field": "channel", "to": "request_channel"},
    FaultKind.CHURN: {"records": 1},
}
# Body faults only make sense where bodies are long: they default to exports. Churn before
# aggregations is a portal changing while a client compares its counts.
_DEFAULT_ENDPOINT = {
    FaultKind.DROP_CONNECTION: "exports",
    FaultKind.TRUNCATED_BODY: "exports",
    FaultKind.CHURN: "aggregates",
}
_UNSET: Any = object()
DATASETS = ("any", *FIELDS)
"""Which dataset a fault hits: any, or one by id."""
# A schema change alters one dataset's fields, and churn deletes requests: both default to the
# 3-1-1 dataset.
_DEFAULT_DATASET = {FaultKind.SCHEMA_CHANGE: DATASET_ID, FaultKind.CHURN: DATASET_ID}


@dataclass
class Fault:
    """One injected fault: fires on the next `times` matching requests (None: until cleared).

    With `probability` below 1, each matching request is hit only with that chance (drawn from
    the portal's seeded generator), which suits soak tests.
    """

    kind: FaultKind
    times: int | None = 1
    endpoint: str = "any"
    options: dict[str, Any] = field(default_factory=dict)
    probability: float = 1.0
    fired: int = 0
    dataset: str = "any"

    @classmethod
    def make(
        cls,
        kind: str,
        *,
        times: int | None = _UNSET,
        endpoint: str | None = None,
        probability: float = 1.0,
        dataset: str | None = None,
        **options,
    ) -> "Fault":
        """Validate a fault and fill in defaults; raise ValueError saying what is allowed."""
        try:
            fault_kind = FaultKind(kind)
        except ValueError:
            allowed = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"unknown fault {kind!r}; choose one of: {allowed}") from None
        defaults = OPTIONS[fault_kind]
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            allowed = ", ".join(defaults) or "none"
            raise ValueError(f"fault {kind!r} has no option {unknown}; its options: {allowed}")
        merged = {**defaults, **{k: _coerce(kind, k, v, defaults[k]) for k, v in options.items()}}
        if times is _UNSET:
            times = None if fault_kind is FaultKind.SCHEMA_CHANGE else 1
        if times is not None and times < 1:
            raise ValueError(f"times must be 1 or more (or None for until cleared), got {times}")
        is_schema_change = fault_kind is FaultKind.SCHEMA_CHANGE
        dataset = dataset or _DEFAULT_DATASET.get(fault_kind, "any")
        if dataset not in DATASETS or (is_schema_change and dataset == "any"):
            allowed = ", ".join(DATASETS[1:] if is_schema_change else DATASETS)
            raise ValueError(f"dataset must be one of {allowed}, got {dataset!r}")
        if is_schema_change:  # raises if invalid
            changed_fields(FIELDS[dataset], merged["change"], merged["field"], merged["to"])
        endpoint = endpoint or _DEFAULT_ENDPOINT.get(fault_kind, "any")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}, got {endpoint!r}")
        if not 0 < probability <= 1:
            raise ValueError(f"probability must be above 0 and at most 1, got {probability}")
        return cls(fault_kind, times, endpoint, merged, probability, dataset=dataset)

    @classmethod
    def parse(cls, spec: str) -> "Fault":
        """Read `kind[:key=value,...]`, e.g. `server_error:times=3,statuses=502/503`."""
        kind, _, rest = spec.partition(":")
        settings: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in rest.split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"fault option {item!r} in {spec!r} is not key=value")
            settings[key.strip()] = value.strip()
        times = settings.pop("times", _UNSET)
        if times is not _UNSET:
            times = None if times in ("", "always", "none") else int(times)
        try:
            probability = float(settings.pop("probability", 1.0))
        except ValueError:
            raise ValueError(f"probability in {spec!r} must be a number") from None
        endpoint = settings.pop("endpoint", None)
        dataset = settings.pop("dataset", None)
        return cls.make(
            kind.strip(),
            times=times,
            endpoint=endpoint,
            probability=probability,
            dataset=dataset,
            **settings,
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-friendly view of the fault."""
        return {
            "kind": self.kind.value,
            "times": self.times,
            "endpoint": self.endpoint,
            "dataset": self.dataset,
            "probability": self.probability,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()},
        }


def _coerce(kind: str, key: str, value: Any, default: Any) -> Any:
    """Convert an option to its default's type (CLI and HTTP give strings)."""
    try:
        if isinstance(default, tuple):
            parts = value.split("/") if isinstance(value, str) else value
            return tuple(int(part) for part in parts)
        return type(default)(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"fault {kind!r} option {key}={value!r} must be like {default!r}"
        ) from None


class FaultPlan:
    """The faults in force, consumed request by request, with counts of what fired."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._fired: Counter[str] = Counter()
        self._chance = np.random.default_rng([seed, 7_919])

    def add(self, fault: Fault) -> None:
        """Put a fault in force."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Remove every fault (the counts stay)."""
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        """Faults still in force."""
        with self._lock:
            return list(self._faults)

    def fired(self) -> dict[str, int]:
        """How many responses each fault kind shaped so far."""
        with self._lock:
            return dict(self._fired)

    def take(self, endpoint: str, dataset: str) -> list[Fault]:
        """Faults that fire on this request, in injection order; counts and uses them up."""
        taken: list[Fault] = []
        with self._lock:
            for fault in self._faults:
                if fault.endpoint not in ("any", endpoint) or fault.dataset not in ("any", dataset):
                    continue
                if any(other.kind is fault.kind for other in taken):
                    continue
                if fault.probability < 1 and self._chance.random() >= fault.probability:
                    continue
                taken.append(fault)
                self._fired[fault.kind.value] += 1
                fault.fired += 1
                if fault.times is not None:
                    fault.times -= 1
            self._faults = [f for f in self._faults if f.times is None or f.times > 0]
        return taken
