"""mmds dashboard: a Streamlit app over the published gold tables (serving.duckdb, read-only)."""

from importlib.metadata import version
from pathlib import Path

__version__ = version("mmds-dashboard")


def app_path() -> Path:
    """The Streamlit entry file: `streamlit run` it to serve the dashboard."""
    return Path(__file__).with_name("app.py")
