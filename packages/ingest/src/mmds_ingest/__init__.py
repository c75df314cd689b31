"""mmds ingest: the City of Vancouver's portal datasets (3-1-1, local areas) into bronze."""

from importlib.metadata import version

from mmds_ingest.errors import IngestError
from mmds_ingest.load import LoadResult, run_load
from mmds_ingest.settings import IngestSettings

__version__ = version("mmds-ingest")

__all__ = ["IngestError", "IngestSettings", "LoadResult", "__version__", "run_load"]
