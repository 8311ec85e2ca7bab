"""The release workflow's checks on a tag, and the release notes it publishes.

    python3 scripts/release.py check vX.Y.Z   # the tag is the package's version, with an entry
    python3 scripts/release.py notes vX.Y.Z   # that version's CHANGELOG.md entry, to stdout

One version: `alembic_heads_bot.__version__` is what `--version` prints, what the wheel and the
image carry, and what action.yml reads to pick the image; a tag that says anything else
releases nothing. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = re.compile(r"v((0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*))")
VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)
# Keep a Changelog: `## [1.2.3] - 2026-12-04`, up to the next `## ` heading or the link list.
ENTRY = re.compile(r"^## \[(?P<version>[^\]]+)\][^\n]*\n(?P<body>.*?)(?=^## |^\[[^\]]+\]: |\Z)",
                   re.MULTILINE | re.DOTALL)  # fmt: skip


class ReleaseError(Exception):
    """A tag that must not be released, said in words."""


def package_version(root: Path = ROOT) -> str:
    source = (root / "bot" / "alembic_heads_bot" / "__init__.py").read_text("utf-8")
    found = VERSION_LINE.search(source)
    if not found:
        raise ReleaseError("bot/alembic_heads_bot/__init__.py has no __version__ line")
    return found.group(1)


def changelog_entry(changelog: str, version: str) -> str:
    """The body of `version`'s entry, without its heading; ReleaseError when there is none."""
    for entry in ENTRY.finditer(changelog):
        if entry.group("version") == version:
            body = entry.group("body").strip()
            if not any(line.strip() and not line.startswith("#") for line in body.splitlines()):
                raise ReleaseError(f"CHANGELOG.md: the entry for {version} is empty")
            return body + "\n"
    raise ReleaseError(f"CHANGELOG.md has no entry `## [{version}] - YYYY-MM-DD`")


def check(tag: str, version: str, changelog: str) -> str:
    """The version the tag releases, once the tag, the package and the changelog agree."""
    matched = TAG.fullmatch(tag)
    if not matched:
        raise ReleaseError(f"{tag!r} is not a release tag: vX.Y.Z")
    if matched.group(1) != version:
        raise ReleaseError(
            f"tag {tag} but the package says {version}: set __version__ in "
            "bot/alembic_heads_bot/__init__.py to the tag's version, then tag that commit"
        )
    changelog_entry(changelog, version)
    return version


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("check", "notes"):
        print(__doc__, file=sys.stderr)
        return 2
    command, tag = argv
    changelog = (ROOT / "CHANGELOG.md").read_text("utf-8")
    try:
        version = check(tag, package_version(), changelog)
    except ReleaseError as error:
        print(f"::error::release {tag}: {error}", file=sys.stderr)
        return 1
    print(changelog_entry(changelog, version) if command == "notes" else f"{version}\n", end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
