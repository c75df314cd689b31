"""How dbt nodes become Dagster assets: keys shaped like warehouse locations, groups by layer."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator


class LayerTranslator(DagsterDbtTranslator):
    """Models, snapshots and seeds get the key `[schema, name]` and their schema as group.

    Sources keep the key from `meta.dagster.asset_key`, which points at the ingest asset, so
    lineage runs unbroken from the portal to gold.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_group_name(dbt_resource_props)
        return dbt_resource_props["schema"]
