"""Regenerate the diagrams of docs/architecture.md from the real code.

    uv run python docs/diagrams.py               # rewrite the Mermaid blocks from the definitions
    uv run python docs/diagrams.py --screenshot  # also export the asset graph from Dagster's UI

The asset graph comes from mmds' Dagster definitions, the dbt lineage from the manifest that
`dbt parse` writes; a test checks that the page still shows what the code defines.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest.mock import patch

import httpx

DOCS = Path(__file__).resolve().parent
PAGE = DOCS / "architecture.md"
SCREENSHOT = DOCS / "images" / "asset-graph.png"


def load_code(data_dir: Path):
    """The Dagster repository and the dbt manifest for a data dir (parses dbt if needed)."""
    from mmds_orchestrator.definitions import defs
    from mmds_orchestrator.settings import PipelineSettings

    # definitions read their settings from the environment when they load: only while loading
    with patch.dict(os.environ, {"MMDS_DATA_DIR": str(data_dir)}):
        settings = PipelineSettings.from_environment()
        repository = defs().get_repository_def()
    manifest = json.loads((settings.dbt_artifacts_dir / "target" / "manifest.json").read_text())
    return repository, manifest


def _node_id(name: str) -> str:
    return re.sub(r"\W", "_", name)


def asset_graph_mermaid(repository) -> str:
    """A Mermaid flowchart of the asset graph, one subgraph per asset group."""
    graph = repository.asset_graph
    keys = sorted(graph.get_all_asset_keys(), key=lambda key: key.path)
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(graph.get(key).group_name, []).append(key.to_user_string())
    lines = ["flowchart LR"]
    for group, names in groups.items():
        lines.append(f"    subgraph {group}")
        lines += [f'        {_node_id(name)}["{name}"]' for name in names]
        lines.append("    end")
    for key in keys:
        for parent in sorted(graph.get(key).parent_keys, key=lambda parent: parent.path):
            lines.append(
                f"    {_node_id(parent.to_user_string())} --> {_node_id(key.to_user_string())}"
            )
    return "\n".join(lines)


def dbt_lineage_mermaid(manifest: dict) -> str:
    """A Mermaid flowchart of the dbt project: sources, seeds, models, snapshots, exposures."""
    nodes = {**manifest["nodes"], **manifest["sources"], **manifest["exposures"]}
    shown = {
        unique_id: node
        for unique_id, node in nodes.items()
        if node["resource_type"] in {"source", "seed", "model", "snapshot", "exposure"}
    }

    def label(node: dict) -> str:
        if node["resource_type"] == "source":
            return f"{node['source_name']}.{node['name']}"
        return node["name"]

    lines = ["flowchart LR"]
    for unique_id in sorted(shown):
        node = shown[unique_id]
        lines.append(f'    {_node_id(unique_id)}["{label(node)}<br/>({node["resource_type"]})"]')
    for unique_id in sorted(shown):
        for parent in sorted(shown[unique_id].get("depends_on", {}).get("nodes", [])):
            if parent in shown:
                lines.append(f"    {_node_id(parent)} --> {_node_id(unique_id)}")
    return "\n".join(lines)


def replace_block(page: str, name: str, mermaid: str) -> str:
    """Put `mermaid` between the page's `<!-- BEGIN name -->` and `<!-- END name -->` markers."""
    pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.DOTALL)
    if not pattern.search(page):
        raise ValueError(f"{PAGE.name} has no '<!-- BEGIN {name} -->' block")
    return pattern.sub(lambda m: f"{m[1]}```mermaid\n{mermaid}\n```\n{m[2]}", page)


def render_page(page: str, repository, manifest: dict) -> str:
    """The page with both diagrams regenerated."""
    page = replace_block(page, "asset-graph", asset_graph_mermaid(repository))
    return replace_block(page, "dbt-lineage", dbt_lineage_mermaid(manifest))


def screenshot_asset_graph(data_dir: Path, out: Path) -> None:
    """Start `mmds ui` on a loopback port and save its global asset graph as a PNG."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "MMDS_DATA_DIR": str(data_dir)}
    mmds = str(Path(sys.executable).with_name("mmds"))
    server = subprocess.Popen(  # noqa: S603 - the project's own command
        [mmds, "ui", "--port", str(port)], env=env, start_new_session=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 2200, "height": 1500})
            _draw_expanded_graph(page, f"{url}/asset-groups")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), clip={"x": 70, "y": 60, "width": 1830, "height": 1440})
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGINT)  # the group this function started
        server.wait(timeout=60)


def _draw_expanded_graph(page, url: str) -> None:
    """Open the global lineage with every group expanded, navigation hidden, zoomed to fit."""
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(3000)
    skip = page.get_by_role("button", name="Skip")  # the first-visit newsletter dialog
    if skip.count():
        skip.click()
    for group in ["bronze", "silver", "gold", "serving"]:
        header = page.locator("foreignObject").filter(has_text=group).first.bounding_box()
        page.mouse.click(header["x"] + header["width"] - 12, header["y"] + 14)
        page.wait_for_timeout(1000)
    page.get_by_role("button", name="Hide navigation").click()
    page.reload(wait_until="networkidle")  # lays the expanded graph out afresh
    page.wait_for_timeout(3000)
    jump = page.get_by_placeholder("Jump to…").bounding_box()
    page.mouse.click(jump["x"] + jump["width"] + 16, jump["y"] + jump["height"] / 2)
    page.wait_for_timeout(2000)
    page.mouse.click(2172, 1351)  # the graph's zoom-out button
    page.mouse.move(1500, 400)
    page.mouse.down()
    page.mouse.move(1500, 455, steps=5)
    page.mouse.up()
    page.wait_for_timeout(2000)


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", action="store_true", help=f"also write {SCREENSHOT}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repository, manifest = load_code(Path(tmp))
        PAGE.write_text(render_page(PAGE.read_text(), repository, manifest))
        if args.screenshot:
            screenshot_asset_graph(Path(tmp), SCREENSHOT)
    print(f"wrote {PAGE}" + (f" and {SCREENSHOT}" if args.screenshot else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
