"""Re-checking open pull requests when their base branch moves: the decisions, pure.

A push to a branch can turn a green pull request red (the first of two lands and the second
now adds a second head) or fix a red one, and GitHub re-runs nothing on the pull request. The
push handler (`app.recheck`) asks this module:

* what the push is (`read_push`): a branch that moved, or why there is nothing to do;
* whether a set of changed paths can matter (`touches_migrations`): the push's own changes
  first (a push that touches no migration or config changes no verdict), then each pull
  request's own changes since its merge base;
* whether a pull request's verdict changed (`verdict_key`): only those are posted again;
* what to say about the base commit that brought the other head (`arrival_note`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.bot_config import BOT_CONFIG_PATH
from alembic_heads_bot.engine.merge_command import COMMAND
from alembic_heads_bot.engine.model import Environment
from alembic_heads_bot.engine.report.escape import Markdown, inline_code, markdown_link

ZERO_SHA = "0" * 40
# A file by one of these names anywhere can add or change an environment, or move its
# version locations (env.py and script.py.mako make a Flask-Migrate-style directory one).
CONFIG_NAMES = frozenset({"alembic.ini", "pyproject.toml", "env.py", "script.py.mako"})
MAX_ARRIVALS = 5  # with many new heads each collides with all others; name the first few

# "Add orders (#123)" (squash merge) or "Merge pull request #123 from owner/branch".
_SQUASHED = re.compile(r"\(#(\d+)\)\s*$")
_MERGED = re.compile(r"^Merge pull request #(\d+)\b")


@dataclass(frozen=True)
class Push:
    """A branch that moved: from `before` (None when it was just created) to `after`."""

    branch: str
    before: str | None
    after: str


def read_push(payload: Mapping[str, Any]) -> Push | str:
    """The push to re-check for, or why there is nothing to re-check (a notice)."""
    ref, after, before = payload.get("ref"), payload.get("after"), payload.get("before")
    if not isinstance(ref, str) or not isinstance(after, str):
        return "alembic-heads-bot: the push event payload has no ref or after; nothing to do"
    if not ref.startswith("refs/heads/"):
        return f"alembic-heads-bot: {ref} is not a branch; no pull request to re-check"
    branch = ref.removeprefix("refs/heads/")
    if payload.get("deleted") is True or after == ZERO_SHA:
        return f"alembic-heads-bot: branch {branch} was deleted; no pull request to re-check"
    known = isinstance(before, str) and before != ZERO_SHA and before != ""
    return Push(branch, before if known else None, after)


# --- what matters ------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where a repository's migrations live: a change elsewhere cannot change a verdict."""

    directories: frozenset[str]  # version locations and script locations
    files: frozenset[str]  # config files by path (besides CONFIG_NAMES anywhere)


def layout_of(environments: Iterable[Environment], config: str | None = None) -> Layout:
    """The layout of some environments (of one or several trees), plus the bot config and
    the config file the `config` input names."""
    envs = tuple(environments)
    directories = {loc for env in envs for loc in env.version_locations}
    directories |= {env.script_location for env in envs if env.script_location}
    files = {env.config_path for env in envs if env.config_path} | {BOT_CONFIG_PATH}
    if config:
        files.add(posixpath.normpath(config))
    return Layout(frozenset(directories), frozenset(files))


def touches_migrations(paths: Iterable[str], layout: Layout) -> bool:
    """Whether any of the changed `paths` can change a verdict: a revision file, an Alembic
    config, the bot config."""
    return any(_matters(path, layout) for path in paths)


def _matters(path: str, layout: Layout) -> bool:
    if path in layout.files or posixpath.basename(path) in CONFIG_NAMES:
        return True
    return any(_inside(path, directory) for directory in layout.directories)


def _inside(path: str, directory: str) -> bool:
    return directory in (".", "") or path.startswith(directory.rstrip("/") + "/")


# --- whether a verdict changed -----------------------------------------------------------


def verdict_key(verdict: Verdict) -> tuple[object, ...]:
    """What a pull request's status and comment say, in a form two runs can compare: the
    rules that fail or warn, the conflicted paths, and per environment its new heads with
    what they collide with and the heads a merge migration must join. Heads that merely move
    on the base (a PR adding nothing there stays green) do not count."""
    environments = tuple(
        (
            env.name,
            env.failed_rules,
            env.warned_rules,
            tuple(sorted((h.revision, tuple(sorted(h.collides_with))) for h in env.new_heads)),
            env.merge_plan.heads if env.merge_plan is not None else (),
        )
        for env in verdict.environments
    )
    return (verdict.failed_rules, verdict.warned_rules, verdict.conflicts, environments)


def changed(old: Verdict | None, new: Verdict) -> bool:
    """Whether the pull request must be told: its verdict against the old tip (None when it
    cannot be known) differs from the one against the new tip."""
    return old is None or verdict_key(old) != verdict_key(new)


# --- which base commit brought the other head ---------------------------------------------


@dataclass(frozen=True)
class Arrival:
    """A revision the other side of a collision came with: the base commit that added it."""

    revision: str
    sha: str
    number: int | None  # the pull request that commit landed, when its subject names one


def pull_number(subject: str) -> int | None:
    """The pull request a commit subject names, as GitHub's squash or merge button writes it."""
    found = _SQUASHED.search(subject) or _MERGED.match(subject)
    return int(found.group(1)) if found else None


def colliding_revisions(verdict: Verdict) -> dict[str, str]:
    """The revisions the new heads collide with, and their files (in the merged tree), in
    order, at most MAX_ARRIVALS."""
    found: dict[str, str] = {}
    for env in verdict.environments:
        if env.graph is None:
            continue
        for head in env.new_heads:
            for rev in head.collides_with:
                revision = env.graph.revisions.get(rev)
                if revision is not None and revision.path and len(found) < MAX_ARRIVALS:
                    found.setdefault(rev, revision.path)
    return found


def arrival_note(
    branch: str,
    arrivals: Sequence[Arrival],
    repository_url: str,
    command: str | None = COMMAND,
) -> str | None:
    """A line for the report: which commits on `branch` brought the heads this pull request
    now collides with, and how to fix it. Commit subjects are left out: they are the words of
    whoever wrote them, and could mention people or break the Markdown."""
    if not arrivals:
        return None
    listed = ", ".join(_arrival(a, repository_url) for a in arrivals)
    fix = (
        f"comment {inline_code(command)} to have the bot commit a merge migration, or merge the "
        "heads as shown below"
        if command
        else "merge the heads as shown below"
    )
    # Markdown built here from escaped parts, so that the report keeps its links.
    return Markdown(
        f"{inline_code(branch)} moved on since this pull request was checked: {listed}. "
        f"To fix it, {fix}."
    )


def _arrival(arrival: Arrival, repository_url: str) -> str:
    sha = inline_code(arrival.sha[:12])
    commit = markdown_link(sha, f"{repository_url}/commit/{arrival.sha}")
    text = f"{inline_code(arrival.revision)} came with {commit}"
    if arrival.number is not None:
        pull = markdown_link(f"#{arrival.number}", f"{repository_url}/pull/{arrival.number}")
        text += f" ({pull})"
    return text
