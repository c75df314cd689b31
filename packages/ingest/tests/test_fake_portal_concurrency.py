"""Readers never see the dataset half-changed while time moves under them."""

import json
import threading

import httpx
from mmds_ingest.fake_portal import FakePortal

ROUNDS = 12


def test_exports_and_records_stay_whole_while_time_moves():
    failures: list[str] = []
    export_sizes: list[int] = []

    def export(portal: FakePortal) -> None:
        params = {"order_by": "last_modified_timestamp", "timezone": "UTC"}
        with httpx.Client(base_url=portal.dataset_url, timeout=60) as client:
            for _ in range(ROUNDS):
                try:
                    lines = client.get("/exports/jsonl", params=params).text.splitlines()
                    rows = [json.loads(line) for line in lines]
                    assert all(row["last_modified_timestamp"] for row in rows)
                    export_sizes.append(len(rows))
                except Exception as error:
                    failures.append(f"export: {error!r}")

    def page(portal: FakePortal) -> None:
        with httpx.Client(base_url=portal.dataset_url, timeout=60) as client:
            for offset in range(ROUNDS):
                params = {"limit": 100, "offset": offset * 100, "order_by": "address"}
                response = client.get("/records", params=params)
                if response.status_code != 200 or len(response.json()["results"]) != 100:
                    failures.append(f"records: {response.status_code} {response.text[:200]}")

    with FakePortal(rows=5_000, seed=2) as portal:
        readers = [threading.Thread(target=export, args=(portal,)) for _ in range(2)]
        readers.append(threading.Thread(target=page, args=(portal,)))
        for reader in readers:
            reader.start()
        summaries = [portal.advance(days=0.5) for _ in range(ROUNDS)]
        for reader in readers:
            reader.join()
    assert failures == []
    possible = {5_000, *(summary.total_count for summary in summaries)}
    assert set(export_sizes) <= possible  # every export is one consistent moment
