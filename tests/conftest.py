"""Root test configuration: heavy tests run only when asked for."""

import os

import pytest

HEAVY_ENV = "MMDS_HEAVY_TESTS"


def pytest_collection_modifyitems(config, items):
    """Skip tests marked `heavy` unless MMDS_HEAVY_TESTS=1 (CI runs them in their own job)."""
    if os.environ.get(HEAVY_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"heavy (10+ minutes): set {HEAVY_ENV}=1 to run it")
    for item in items:
        if "heavy" in item.keywords:
            item.add_marker(skip)
