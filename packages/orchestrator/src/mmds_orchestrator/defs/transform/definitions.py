"""The transform stage: dbt's models and tests, and the dbt resource that builds them."""

from dagster import Definitions, definitions

from mmds_orchestrator.defs.transform.assets import dbt_models
from mmds_orchestrator.defs.transform.project import dbt_resource
from mmds_orchestrator.settings import PipelineSettings


@definitions
def transform() -> Definitions:
    """dbt assets and the `dbt` resource for the data dir of the current settings."""
    project, models = dbt_models(PipelineSettings.from_environment())
    return Definitions(assets=[models], resources={"dbt": dbt_resource(project)})
