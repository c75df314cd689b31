"""mmds transform: the dbt project that turns bronze into silver and gold, shipped as package data.

Callers run dbt as ``dbt_executable()`` with ``project_dir()`` as the project, ``profiles_dir()``
as the profiles directory, ``dbt_vars(data_dir)`` as ``--vars`` and ``dbt_env(data_dir)`` as the
environment (or simply ``run_dbt``).
"""

from importlib.metadata import version

from mmds_transform.dbt_cli import (
    DbtCommandError,
    WarehouseUrlError,
    dbt_env,
    dbt_executable,
    dbt_target,
    dbt_target_dir,
    dbt_vars,
    run_dbt,
    warehouse_env,
)
from mmds_transform.project import ROUTINE_SELECTOR, profiles_dir, project_dir

__version__ = version("mmds-transform")

__all__ = [
    "ROUTINE_SELECTOR",
    "DbtCommandError",
    "WarehouseUrlError",
    "dbt_env",
    "dbt_executable",
    "dbt_target",
    "dbt_target_dir",
    "dbt_vars",
    "profiles_dir",
    "project_dir",
    "run_dbt",
    "warehouse_env",
]
