"""What the client sends: the API key in the header only, and export parameters that make
loads exact (explicit UTC, ordered by the cursor, `>=` with an explicit offset)."""

import logging
from datetime import timedelta

from mmds_ingest import run_load
from pydantic import SecretStr


def test_api_key_travels_in_the_header_and_is_never_logged(fake_portal, ingest_settings, caplog):
    settings = ingest_settings.model_copy(update={"portal_api_key": SecretStr("k3y-123")})
    caplog.set_level(logging.DEBUG)

    run_load(settings)

    seen = fake_portal.requests_seen
    assert {request.api_key for request in seen} == {"k3y-123"}
    assert all("apikey" not in request.params for request in seen)
    assert "k3y-123" not in caplog.text
    assert "k3y-123" not in repr(settings)


def test_exports_ask_for_utc_ordered_by_the_cursor_from_cursor_minus_lookback(
    fake_portal, ingest_settings
):
    first = run_load(ingest_settings)
    fake_portal.advance(days=1)
    run_load(ingest_settings)

    # The loads' exports, without the re-reads of days a deletion at the portal left uneven.
    exports = [
        r
        for r in fake_portal.requests_seen
        if r.endpoint == "exports" and " < date" not in r.params.get("where", "")
    ]
    assert [r.path.rsplit("/", 1)[1] for r in exports] == ["jsonl", "jsonl"]
    assert all(r.params["timezone"] == "UTC" for r in exports)
    assert all(r.params["order_by"] == "last_modified_timestamp" for r in exports)
    assert "where" not in exports[0].params
    since = first.cursor_after - timedelta(days=ingest_settings.lookback_days)
    expected = f"last_modified_timestamp >= date'{since.replace(microsecond=0).isoformat()}'"
    assert exports[1].params["where"] == expected
    assert expected.endswith("+00:00'")
