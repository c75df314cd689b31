"""Shared fixtures of the ingest tests."""

from collections.abc import Iterator

import pytest
from mmds_ingest.fake_portal import FakePortal


@pytest.fixture
def fake_portal() -> Iterator[FakePortal]:
    """A fresh fake portal serving 2,000 generated rows (seed 7) on 127.0.0.1."""
    with FakePortal(rows=2_000, seed=7) as portal:
        yield portal
