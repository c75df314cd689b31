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


INLINE_COMMAND = re.compile(r"`(uv run [^`]+)`")
DOCUMENTS = ("README.md", "packages/*/README.md", "bench/README.md", "docs/*.md")


def documented_commands() -> dict[str, set[str]]:
    """Every `uv run ...` command of the project's docs (code blocks and inline code), by file."""
    found: dict[str, set[str]] = {}
    for pattern in DOCUMENTS:
        for path in sorted(ROOT.glob(pattern)):
            text = path.read_text()
            lines = [line for block in shell_blocks(text) for line in block]
            lines += INLINE_COMMAND.findall(text)
            commands = {line for line in lines if line.startswith("uv run ")}
            if commands:
                found[str(path.relative_to(ROOT))] = commands
    return found


def command_key(command: str) -> str:
    """What a command runs, without its options: `mmds run`, `python bench/ingest.py`, `pytest`."""
    words = [word for word in command.split()[2:] if not word.startswith(("-", "[", "<", "$"))]
    if words[0] == "pytest":
        return "pytest"
    if words[0] == "python":
        return " ".join(words[:2]).replace("../../bench/", "bench/")
    return " ".join(words[:2]) if len(words) > 1 and words[1].isalpha() else words[0]
