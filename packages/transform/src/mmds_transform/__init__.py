"""mmds transform."""

from importlib.metadata import version

__version__ = version("mmds-transform")
