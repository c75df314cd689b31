"""Streamlit's own command line, run after the dashboard's libraries are imported.

A Streamlit server imports what a page needs on the first visit (pandas, altair, pyarrow and the
dashboard's modules): several seconds on a slow or busy machine, paid by the first person to
open the dashboard. Importing them before the server starts moves that wait to start-up.

    python -m mmds_dashboard.server run <app.py> [streamlit options]
"""

from __future__ import annotations


def preload() -> None:
    """Import what the pages import, so the first visit does not wait for it."""
    import altair  # noqa: F401
    import pyarrow  # noqa: F401

    import mmds_dashboard.cache
    import mmds_dashboard.components
    import mmds_dashboard.health  # noqa: F401


def main() -> None:
    """Preload, then hand the arguments to `streamlit` (as `python -m streamlit` does)."""
    preload()
    from streamlit.web import cli

    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
