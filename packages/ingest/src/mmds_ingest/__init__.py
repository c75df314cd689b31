"""mmds ingest."""

from importlib.metadata import version

__version__ = version("mmds-ingest")
