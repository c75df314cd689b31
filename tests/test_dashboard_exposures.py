"""Each dashboard page reads exactly the gold tables its dbt exposure names (the dashboard
declares them in `mmds_dashboard.expectations`; the transform package declares the exposures)."""

import yaml
from mmds_dashboard.expectations import COLUMNS, PAGE_GOLD_TABLES
from mmds_transform import project_dir


def test_each_page_reads_the_gold_tables_of_its_exposure() -> None:
    exposures = yaml.safe_load(
        (project_dir() / "models" / "exposures.yml").read_text(encoding="utf-8")
    )["exposures"]
    read_by_exposure = {
        exposure["name"].removeprefix("dashboard_"): {
            "gold." + ref.removeprefix("ref('").removesuffix("')") for ref in exposure["depends_on"]
        }
        for exposure in exposures
        if exposure["type"] == "dashboard"
    }
    assert read_by_exposure == PAGE_GOLD_TABLES
    every_table = set().union(*PAGE_GOLD_TABLES.values())
    assert every_table == {table for table in COLUMNS if table.startswith("gold.")}
