"""mmds dashboard."""

from importlib.metadata import version

__version__ = version("mmds-dashboard")
