"""mmds-transform's dbt project as a `DbtProject`, its warehouse in the data dir."""

import fcntl
import json
from pathlib import Path

import mmds_transform
from dagster_dbt import DbtCliResource, DbtProject

from mmds_orchestrator.defs.transform.stream import STOP_GRACE_SECONDS, wait
from mmds_orchestrator.settings import PipelineSettings

# dbt's parse arguments for the manifest; `DbtProject` prepares with them under `dg dev`.
PARSE_ARGS = ["parse", "--quiet"]


def dbt_vars(data_dir: Path) -> list[str]:
    """dbt's `--vars` arguments giving the committed profile the warehouse's data dir."""
    return ["--vars", json.dumps(mmds_transform.dbt_vars(data_dir))]


def mmds_dbt_project(settings: PipelineSettings) -> DbtProject:
    """The project (or `MMDS_DBT_PROJECT_DIR`), its manifest and artefacts under `data_dir/dbt`."""
    project_dir = settings.orchestrator.dbt_project_dir or mmds_transform.project_dir()
    return dbt_project(project_dir, settings.dbt_artifacts_dir / "target", settings.data_dir)


def dbt_project(project_dir: Path, target: Path, data_dir: Path) -> DbtProject:
    """`project_dir` writing its manifest and artefacts to `target`, its warehouse in `data_dir`."""
    return DbtProject(
        project_dir=project_dir,
        target_path=target,
        prepare_project_cli_args=[*PARSE_ARGS, *dbt_vars(data_dir)],
    )


def dbt_resource(project: DbtProject) -> DbtCliResource:
    """dagster-dbt's resource for `project`, running dbt as `mmds-dbt`, without colours (its
    output goes to `mmds run`'s log file, and to the terminal only with `-v`)."""
    return DbtCliResource(
        project_dir=project,
        dbt_executable=str(mmds_transform.dbt_executable()),
        global_config_flags=["--no-use-colors"],
    )


def prepare_manifest(project: DbtProject, data_dir: Path) -> None:
    """Write the manifest with `dbt parse` when it is missing or older than a project file.

    `prepare_if_dev()` prepares under `dg dev` only; `mmds run`, the tests and `dg check defs`
    need a manifest too (a fresh clone has none). dbt itself reparses only what changed. A lock
    in the target dir keeps two first runs from writing the manifest at once.
    """
    target = project.manifest_path.parent
    target.mkdir(parents=True, exist_ok=True)
    with (target / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _is_current(project):
            return
        invocation = dbt_resource(project).cli(
            [*PARSE_ARGS, *dbt_vars(data_dir)], target_path=target, raise_on_error=False
        )
        invocation.termination_timeout_seconds = STOP_GRACE_SECONDS
        wait(invocation)  # stopped with `mmds run`, never left behind
        if not invocation.is_successful():
            log = target / "dbt.log"
            raise DbtProjectError(f"`dbt parse` failed for {project.project_dir}: see {log}")


class DbtProjectError(RuntimeError):
    """The dbt project does not parse; the message says where dbt logged why."""


def _is_current(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return False
    written = manifest.stat().st_mtime
    return not any(
        path.stat().st_mtime > written
        for path in project.project_dir.rglob("*")
        if path.is_file()
        and not _NOT_SOURCE.intersection(path.relative_to(project.project_dir).parts)
    )


# Folders dbt writes into, or that hold no project source.
_NOT_SOURCE = {"target", "logs", "dbt_packages", "__pycache__"}
