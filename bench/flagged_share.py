"""Measure: the share of requests the data-quality layer flags, and why, on a given dataset.

The fake portal serves either generated data (`--rows`, `--seed`) or a CSV extract with the
portal's field names (`--csv`, e.g. the real 10,000-row extract beside the project); mmds-ingest
loads it into a fresh warehouse, then a plain `dbt build` runs (thresholds raised, so that the
figures are measured even where they would stop the build). Systemic breakage starts above
`max_flagged_share` (default 5%) with more than `min_flagged_rows` (default 20) flagged rows.

    uv run python bench/flagged_share.py --csv ../shared/data/vancouver-311-real-sample.csv
    uv run python bench/flagged_share.py --rows 100000

Prints one JSON line last: source, rows, flagged_rows, flagged_share, newest_load_share,
excluded_rows (left out of the fact), by_reason (rows per reason code) and by_treatment.
"""

import argparse
import json
import shutil
import sys
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from mmds_ingest import IngestSettings, run_load
from mmds_ingest.fake_portal import FakePortal
from mmds_transform import run_dbt

PORTAL_END = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def measure(data_dir: Path) -> dict:
    """The flagged share of the warehouse in ``data_dir``, overall, by reason and by treatment."""
    with closing(duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)) as con:
        rows, flagged, excluded, load_rows, load_flagged = con.execute(
            """
            select count(*), count(quality_reasons), count(*) filter (where is_excluded_from_fact),
                count(*) filter (where is_in_newest_load),
                count(quality_reasons) filter (where is_in_newest_load)
            from silver.int_service_requests_flagged
            """
        ).fetchone()
        by_reason = con.execute(
            "select quality_reason, count(*) from gold.fct_quarantined_requests"
            " group by 1 order by 2 desc, 1"
        ).fetchall()
        by_treatment = con.execute(
            "select treatment, count(*) from gold.fct_quarantined_requests"
            " group by 1 order by 2 desc, 1"
        ).fetchall()
    return {
        "rows": rows,
        "flagged_rows": flagged,
        "flagged_share": round(flagged / rows, 5) if rows else 0.0,
        "newest_load_share": round(load_flagged / load_rows, 5) if load_rows else 0.0,
        "excluded_rows": excluded,
        "by_reason": dict(by_reason),
        "by_treatment": dict(by_treatment),
    }


def main() -> None:
    """Parse arguments, load and build, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, help="a CSV extract with the portal's field names")
    parser.add_argument("--rows", type=int, default=10_000, help="generated rows (without --csv)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="flagged-share-"))
    options = {"from_csv": args.csv} if args.csv else {"rows": args.rows, "seed": args.seed}
    try:
        with FakePortal(end=PORTAL_END, **options) as portal:
            run_load(IngestSettings(data_dir=data_dir, portal_url=portal.url), full_refresh=True)
        print("loaded; building", file=sys.stderr)
        run_dbt(["build", "--vars", '{"max_flagged_share": 1, "min_flagged_rows": 0}'], data_dir)
        figures = measure(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    source = f"csv:{args.csv.name}" if args.csv else f"generated:{args.rows}:seed{args.seed}"
    print(json.dumps({"bench": "flagged_share", "source": source, **figures}))


if __name__ == "__main__":
    main()
