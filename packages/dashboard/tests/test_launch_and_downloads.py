"""The launcher's command line, and what a downloaded CSV holds."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pandas as pd
from mmds_dashboard.components import csv_bytes

LAUNCHER = Path(sys.executable).with_name("mmds-dashboard")


def test_launcher_rejects_a_bad_port_with_a_clear_message() -> None:
    result = subprocess.run(
        [str(LAUNCHER), "--port", "70000"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "--port must be between 1 and 65535" in result.stderr


def test_launcher_help_names_its_options() -> None:
    result = subprocess.run(
        [str(LAUNCHER), "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "--port" in result.stdout and "--serving-file" in result.stdout
    assert "127.0.0.1" in result.stdout


def test_csv_keeps_every_value_and_defuses_spreadsheet_formulas() -> None:
    frame = pd.DataFrame(
        {
            "request_type": [
                '=HYPERLINK("http://x")',
                "Pothole Case",
                "@SUM(A1)",
                'Café, "quoted"',
            ],
            "opened": [3, -1, 0, 12],
        }
    )
    back = pd.read_csv(StringIO(csv_bytes(frame).decode("utf-8")))
    assert list(back["request_type"]) == [
        '\'=HYPERLINK("http://x")',
        "Pothole Case",
        "'@SUM(A1)",
        'Café, "quoted"',
    ]
    assert list(back["opened"]) == [3, -1, 0, 12]
