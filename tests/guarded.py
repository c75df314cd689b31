"""An environment for subprocesses that hold a made-up API key and may not leave the machine."""

import os
from pathlib import Path

NETGUARD = Path(__file__).with_name("netguard")
SECRET = "mmds-test-key-7f3a9c1e-do-not-log"  # noqa: S105 - a made-up key the tests hunt for


def guarded(env: dict[str, str], log: Path) -> dict[str, str]:
    """`env` plus the API key and tests/netguard, which refuses and logs outbound connections."""
    python_path = [str(NETGUARD), env.get("PYTHONPATH", "")]
    return {
        **env,
        "PYTHONPATH": os.pathsep.join(filter(None, python_path)),
        "MMDS_NETGUARD_LOG": str(log),
        "MMDS_PORTAL_API_KEY": SECRET,
    }


def files_containing(folder: Path, needle: bytes) -> list[Path]:
    """Every file under `folder` whose bytes contain `needle`."""
    return [path for path in folder.rglob("*") if path.is_file() and needle in path.read_bytes()]
