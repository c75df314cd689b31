"""Every fault of the fake portal, over real HTTP: transient ones are retried to success;
the rest fail the load with a message naming the problem and leave the warehouse as it was."""

import dataclasses
import re
import threading
import time

import pytest
from mmds_ingest import run_load
from mmds_ingest.datasets import SERVICE_REQUESTS
from mmds_ingest.errors import (
    PayloadError,
    PortalRequestError,
    PortalUnavailableError,
    ReconciliationError,
    SchemaDriftError,
)
from pydantic import SecretStr


@pytest.fixture
def loaded(fake_portal, ingest_settings, snapshot_warehouse):
    """A warehouse after one full load, with new data waiting on the portal; its snapshot."""
    run_load(ingest_settings)
    fake_portal.advance(days=2)
    return snapshot_warehouse()


@pytest.mark.parametrize(
    "fault, options",
    [
        ("server_error", {"times": 3, "statuses": (500, 502, 503)}),
        ("drop_connection", {"times": 1, "after_bytes": 2_000}),
        ("truncated_body", {"times": 1, "after_bytes": 2_000}),
        ("rate_limit", {"times": 2, "retry_after": 0}),
    ],
)
def test_transient_faults_are_retried_to_success(fake_portal, ingest_settings, fault, options):
    fake_portal.inject(fault, endpoint="exports", **options)

    result = run_load(ingest_settings)

    assert (result.status, result.rows_received) == ("succeeded", 2_000)
    assert fake_portal.faults_fired[fault] == options["times"]


def test_retry_after_is_honoured(fake_portal, ingest_settings):
    fake_portal.inject("rate_limit", times=1, retry_after=1, endpoint="records")
    started = time.monotonic()

    run_load(ingest_settings)

    # The backoff alone would wait 0.01 s; the portal asked for one second.
    assert time.monotonic() - started >= 0.9


def test_slow_first_byte_times_out_and_is_retried(fake_portal, ingest_settings):
    settings = ingest_settings.model_copy(update={"read_timeout_seconds": 0.5})
    fake_portal.inject("slow_first_byte", times=1, seconds=2.0, endpoint="exports")

    assert run_load(settings).rows_received == 2_000
    assert fake_portal.faults_fired["slow_first_byte"] == 1


@pytest.mark.parametrize(
    "fault, options, says",
    [
        ("server_error", {"statuses": (503,)}, "HTTP 503"),
        ("truncated_body", {"after_bytes": 2_000}, "truncated"),
        ("drop_connection", {"after_bytes": 2_000}, "connection failed"),
        ("rate_limit", {"retry_after": 3600}, "rate limit"),
    ],
)
def test_persistent_transient_fault_fails_clearly_and_changes_nothing(
    fake_portal, ingest_settings, loaded, snapshot_warehouse, fault, options, says
):
    fake_portal.inject(fault, times=None, endpoint="exports", **options)

    with pytest.raises(PortalUnavailableError) as failure:
        run_load(ingest_settings)

    assert says in str(failure.value)
    assert "try again" in str(failure.value)
    assert snapshot_warehouse() == loaded
    fake_portal.clear_faults()
    assert run_load(ingest_settings).status == "succeeded"  # the next run completes the work


def test_quota_spent_suggests_an_api_key(fake_portal, ingest_settings):
    fake_portal.inject("rate_limit", times=None, retry_after=3600, endpoint="metadata")

    with pytest.raises(PortalUnavailableError, match="MMDS_PORTAL_API_KEY"):
        run_load(ingest_settings)


@pytest.mark.parametrize("endpoint", ["exports", "metadata"])
def test_html_error_page_fails_clearly_and_changes_nothing(
    fake_portal, ingest_settings, loaded, snapshot_warehouse, endpoint
):
    fake_portal.inject("html_error_page", times=None, endpoint=endpoint)

    with pytest.raises(PayloadError, match=r"HTML|did not return JSON"):
        run_load(ingest_settings)

    assert snapshot_warehouse() == loaded


def test_added_field_is_kept_in_raw_and_reported(fake_portal, ingest_settings, query):
    fake_portal.inject("schema_change", change="added", field="priority")

    result = run_load(ingest_settings)

    assert result.message == "schema drift: new field(s) priority kept in _raw only"
    assert query("SELECT message FROM bronze._loads") == [(result.message,)]
    assert query(
        "SELECT count(*) FROM bronze.service_requests WHERE json_exists(_raw, '$.priority')"
    ) == [(2_000,)]


@pytest.mark.parametrize(
    "change, says",
    [
        ("removed", "no longer has field(s) channel"),
        ("renamed", "no longer has field(s) channel; new field(s) request_channel may be renames"),
    ],
)
def test_missing_field_fails_clearly_and_changes_nothing(
    fake_portal, ingest_settings, loaded, snapshot_warehouse, change, says
):
    fake_portal.inject("schema_change", change=change, field="channel", to="request_channel")

    with pytest.raises(SchemaDriftError, match=re.escape(says)):
        run_load(ingest_settings)

    assert snapshot_warehouse() == loaded


def test_unknown_dataset_is_refused_without_retrying_and_hides_the_key(
    fake_portal, ingest_settings
):
    settings = ingest_settings.model_copy(update={"portal_api_key": SecretStr("s3cr3t-key")})
    unknown = dataclasses.replace(SERVICE_REQUESTS, id="no-such-dataset")
    with pytest.raises(PortalRequestError, match="HTTP 404") as failure:
        run_load(settings, dataset=unknown)
    assert "s3cr3t-key" not in str(failure.value)


def test_portal_changing_during_the_export_fails_the_load_and_changes_nothing(
    fake_portal, ingest_settings, loaded, snapshot_warehouse
):
    fake_portal.inject("slow_first_byte", times=1, seconds=1.5, endpoint="exports")
    mover = threading.Timer(0.5, fake_portal.advance, kwargs={"days": 10})
    mover.start()

    with pytest.raises(ReconciliationError, match="changed during the load; nothing was committed"):
        run_load(ingest_settings.model_copy(update={"lookback_days": 30}))

    mover.join()
    assert snapshot_warehouse() == loaded
    assert run_load(ingest_settings).status == "succeeded"
