"""The dashboard, declared downstream of publish so that lineage ends where users look.

It is an external asset: Dagster does not run it; the Streamlit app reads the serving file
that `serving/gold` publishes.
"""

from dagster import AssetKey, AssetSpec

from mmds_orchestrator.defs.publish.assets import PUBLISH_KEY

DASHBOARD_KEY = AssetKey(["dashboard", "mmds_dashboard"])

mmds_dashboard = AssetSpec(
    DASHBOARD_KEY,
    deps=[PUBLISH_KEY],
    group_name="dashboard",
    kinds={"streamlit"},
    description="The Streamlit dashboard over serving.duckdb (`uv run mmds dashboard`).",
    metadata={"start_with": "uv run mmds dashboard"},
)
