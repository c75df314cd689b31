"""mmds transform: the dbt project that turns bronze into silver and gold, shipped as package data.

Callers run dbt with ``project_dir()`` as the project and ``profiles_dir()`` as the profiles
directory, and with ``MMDS_DATA_DIR`` set to an absolute path (see ``dbt_env``).
"""

from importlib.metadata import version

from mmds_transform.dbt_cli import DbtCommandError, dbt_env, dbt_target_dir, run_dbt
from mmds_transform.project import ROUTINE_SELECTOR, profiles_dir, project_dir

__version__ = version("mmds-transform")

__all__ = [
    "ROUTINE_SELECTOR",
    "DbtCommandError",
    "dbt_env",
    "dbt_target_dir",
    "profiles_dir",
    "project_dir",
    "run_dbt",
]
