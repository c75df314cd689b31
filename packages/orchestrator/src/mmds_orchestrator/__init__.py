"""mmds orchestrator."""

from importlib.metadata import version

from mmds_orchestrator.defs.publish.contract import ServingColumn, serving_contract

__version__ = version("mmds-orchestrator")

__all__ = ["ServingColumn", "__version__", "serving_contract"]
