"""`mmds-dashboard`: serve the dashboard with Streamlit on the loopback interface.

Usage statistics are switched off and the server binds to 127.0.0.1 by flags, so no
configuration file is needed and nothing phones home.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from mmds_dashboard import app_path
from mmds_dashboard.serving import SERVING_FILE_ENV, serving_file_path

DEFAULT_PORT = 8501
HOST = "127.0.0.1"


def streamlit_command(port: int) -> list[str]:
    """The command that serves the dashboard on `HOST`:`port`, headless, without telemetry."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.address",
        HOST,
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mmds-dashboard",
        description="Serve the mmds dashboard (Vancouver 3-1-1 requests) on 127.0.0.1.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--serving-file",
        type=Path,
        default=None,
        help="serving file to read (default: $MMDS_DATA_DIR/serving.duckdb, MMDS_DATA_DIR=./data)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be between 1 and 65535, not {args.port}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the dashboard until interrupted; return Streamlit's exit code."""
    args = _parse(argv)
    serving_file = (args.serving_file or serving_file_path()).expanduser().absolute()
    env = {**os.environ, SERVING_FILE_ENV: str(serving_file)}
    print(f"Serving {serving_file} on http://{HOST}:{args.port}", flush=True)
    process = subprocess.Popen(streamlit_command(args.port), env=env)  # noqa: S603 (own argv)
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        # The terminal sent the interrupt to Streamlit too; let it shut down cleanly.
        return process.wait()


if __name__ == "__main__":
    sys.exit(main())
