"""How dbt nodes become Dagster assets: keys shaped like warehouse locations, groups by layer."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetCheckSpec, AssetKey, AssetSpec
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject


class LayerTranslator(DagsterDbtTranslator):
    """Models, snapshots and seeds get the key `[schema, name]` and their schema as group.

    Sources keep the key from `meta.dagster.asset_key`, which points at the ingest asset, so
    lineage runs unbroken from the portal to gold. Tests carrying a tag that the build's
    selector excludes are no checks: dbt never runs them, so Dagster would wait for them forever.
    """

    def __init__(
        self,
        unselected_tags: frozenset[str] = frozenset(),
        settings: DagsterDbtTranslatorSettings | None = None,
    ) -> None:
        super().__init__(settings)
        self.unselected_tags = unselected_tags

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_group_name(dbt_resource_props)
        return dbt_resource_props["schema"]

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        """dagster-dbt's check of a dbt test, not blocking.

        A failing error-severity test already fails the `dbt build` step, so publish never runs
        after one (and refuses on its own when started from the UI). Blocking checks would only
        add a warning per test on every run in which bronze did not change and dbt was skipped.
        """
        if self.unselected_tags.intersection(manifest["nodes"][unique_id].get("tags", [])):
            return None  # dagster-dbt declares the tests of sources whatever the selection
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=spec.description,
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=False,
        )


def excluded_tags(manifest: Mapping[str, Any], selector: str) -> frozenset[str]:
    """The tags whose nodes a selector of the manifest (selectors.yml) excludes."""
    found: set[str] = set()

    def visit(part: Any, excluding: bool) -> None:
        if isinstance(part, list):
            for item in part:
                visit(item, excluding)
        elif isinstance(part, dict):
            if excluding and part.get("method") == "tag":
                found.add(str(part["value"]))
            for key, value in part.items():
                visit(value, excluding or key == "exclude")

    visit(manifest.get("selectors", {}).get(selector, {}).get("definition"), excluding=False)
    return frozenset(found)
