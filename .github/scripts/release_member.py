"""Check a release tag `<member>/v<version>` against that member's pyproject and changelog.

Prints `distribution=`, `version=` and `notes_file=` lines for $GITHUB_OUTPUT, and writes the
changelog section of that version to the notes file. Exits non-zero with a clear message when the
tag names no member, its version differs from the member's, or the changelog has no such section.
"""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TAG = re.compile(r"^(?P<member>[a-z]+)/v(?P<version>\d+\.\d+\.\d+(?:[-.+][0-9A-Za-z.]+)?)$")


def release_notes(changelog: str, version: str) -> str:
    """Return the body of the `## [version]` section of a Keep a Changelog file."""
    match = re.search(
        rf"^## \[{re.escape(version)}\][^\n]*\n(?P<body>.*?)(?=^## \[|\Z)",
        changelog,
        flags=re.MULTILINE | re.DOTALL,
    )
    if match is None:
        raise ValueError(f"CHANGELOG.md has no section '## [{version}]'")
    return match.group("body").strip() + "\n"


def check(tag: str, root: Path = ROOT) -> dict[str, str]:
    """Validate `tag` and return the distribution, version and notes file for the release."""
    match = TAG.match(tag)
    if match is None:
        raise ValueError(f"tag {tag!r} is not of the form <member>/v<version>, e.g. ingest/v0.2.0")
    member, version = match["member"], match["version"]
    package_dir = root / "packages" / member
    if not (package_dir / "pyproject.toml").is_file():
        members = sorted(p.name for p in (root / "packages").iterdir() if p.is_dir())
        raise ValueError(f"tag names member {member!r}; members are {', '.join(members)}")
    project = tomllib.loads((package_dir / "pyproject.toml").read_text())["project"]
    if project["version"] != version:
        raise ValueError(
            f"tag {tag} says version {version}, but packages/{member}/pyproject.toml says "
            f"{project['version']}: bump the version (and CHANGELOG) first, or fix the tag"
        )
    notes = release_notes((package_dir / "CHANGELOG.md").read_text(), version)
    notes_file = root / "build" / f"release-notes-{member}-{version}.md"
    notes_file.parent.mkdir(parents=True, exist_ok=True)
    notes_file.write_text(notes)
    return {"distribution": project["name"], "version": version, "notes_file": str(notes_file)}


def main() -> int:
    """Entry point: `release_member.py <tag>`."""
    if len(sys.argv) != 2:
        print("usage: release_member.py <member>/v<version>", file=sys.stderr)
        return 2
    try:
        outputs = check(sys.argv[1])
    except ValueError as error:
        print(f"release refused: {error}", file=sys.stderr)
        return 1
    for key, value in outputs.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
