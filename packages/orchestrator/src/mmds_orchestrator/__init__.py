"""mmds orchestrator."""

from importlib.metadata import version

__version__ = version("mmds-orchestrator")
