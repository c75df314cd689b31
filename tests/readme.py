"""Commands as the READMEs write them: the fenced shell blocks, one command a line."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(?:bash|sh|console)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)


def shell_blocks(markdown: str) -> list[list[str]]:
    """Every bash/sh block of a markdown text, as its command lines (comments dropped)."""
    blocks = []
    for match in FENCE.finditer(markdown):
        body = match["body"].replace("\\\n", " ")  # join continued lines
        lines = [line.split(" #", 1)[0].strip() for line in body.splitlines()]
        blocks.append([line for line in lines if line and not line.startswith("#")])
    return blocks


def quick_start_commands() -> list[list[str]]:
    """The two commands of the root README's quick start, split into argv lists."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [shlex.split(line) for line in shell_blocks(section)[0]]
