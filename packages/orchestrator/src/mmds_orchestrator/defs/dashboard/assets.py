"""The dashboard, declared as an asset downstream of publish so lineage ends where users look."""

import pyarrow as pa
from dagster import AssetExecutionContext, AssetIn, AssetKey, MaterializeResult, asset

from mmds_orchestrator.defs.pools import WAREHOUSE_POOL
from mmds_orchestrator.defs.publish.assets import PUBLISH_KEY

DASHBOARD_KEY = AssetKey(["dashboard", "mmds_dashboard"])


@asset(
    key=DASHBOARD_KEY,
    ins={"published": AssetIn(PUBLISH_KEY)},
    group_name="dashboard",
    # Reading the hand-off table opens a DuckDB file of the data dir: take turns with writers.
    pool=WAREHOUSE_POOL,
    kinds={"streamlit"},
    description="The Streamlit dashboard over serving.duckdb (`uv run mmds dashboard`).",
)
def mmds_dashboard(context: AssetExecutionContext, published: pa.Table) -> MaterializeResult:
    """Record which publication the dashboard now shows; the app itself reads the serving file."""
    row = published.to_pylist()[0]
    context.log.info(f"The dashboard now shows the data published at {row['published_at']}.")
    return MaterializeResult(
        metadata={
            "showing_published_at": row["published_at"].isoformat(),
            "showing_load_id": row["load_id"] or "none",
            "serving_path": row["serving_path"],
            "start_with": "uv run mmds dashboard",
        }
    )
