"""Collision forecast between open pull requests into the same base branch (issue 16). Pure.

Each pull request passes on its own, yet two that both add a revision on the same parent
leave two heads once both land, and the second to merge needs a merge migration. The app
reads each open pull request's head (one list call, one `git fetch`), and this module sets
what each adds (`side_of`: revisions its head has and the base tip has not) against the
others: two collide in an environment when the base with both their revisions has more
unexplained heads than with either alone (`collide`). The forecast is one section of the
sticky comment (`forecast_section`), marked so that it can be replaced on its own in another
pull request's comment (`with_forecast`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from alembic_heads_bot.engine.analysis import unexplained_heads
from alembic_heads_bot.engine.graph import Graph, build_graph
from alembic_heads_bot.engine.model import Revision
from alembic_heads_bot.engine.report.escape import inline_code, markdown_link, shell_command

FORECAST_MARKER = "<!-- alembic-heads-bot:forecast -->"
MAX_LISTED = 10  # collisions named in one comment; the rest are counted

Graphs = Mapping[str, Graph]  # environment name -> its graph


@dataclass(frozen=True)
class Side:
    """One open pull request's migrations: per environment, the revisions it adds."""

    number: int
    added: Mapping[str, tuple[Revision, ...]]


@dataclass(frozen=True)
class Collision:
    """Pull request `other` collides with this one in environment `env`."""

    other: int
    env: str
    parents: tuple[str, ...]  # the base revisions both build on (none: different ones)
    heads: tuple[str, ...]  # the two heads to join, when each side brings exactly one


def side_of(number: int, base: Graphs, head: Graphs) -> Side:
    """What pull request `number` adds: its head's revisions that the base tip lacks."""
    added = {}
    for env, graph in head.items():
        known = base[env].revisions if env in base else {}
        revisions = tuple(r for rid, r in graph.revisions.items() if rid not in known)
        if revisions:
            added[env] = revisions
    return Side(number, added)


def collide(base: Graphs, mine: Side, other: Side) -> list[Collision]:
    """The environments where `mine` and `other`, both landed, leave more heads than either."""
    found = []
    for env, own in mine.added.items():
        own_ids = {r.revision for r in own}
        # A pull request stacked on this one carries its revisions: those are not a collision.
        theirs = tuple(r for r in other.added.get(env, ()) if r.revision not in own_ids)
        if not theirs:
            continue
        below = tuple(base[env].revisions.values()) if env in base else ()
        both = _heads((*below, *own, *theirs))
        if len(both) <= max(len(_heads((*below, *own))), len(_heads((*below, *theirs)))):
            continue
        their_ids = {r.revision for r in theirs}
        new = ([h for h in both if h in own_ids], [h for h in both if h in their_ids])
        heads = tuple(sorted(new[0] + new[1])) if len(new[0]) == len(new[1]) == 1 else ()
        parents = _attached(own, below) & _attached(theirs, below)
        found.append(Collision(other.number, env, tuple(sorted(parents)), heads))
    return found


def forecast(base: Graphs, sides: Sequence[Side]) -> dict[int, tuple[Collision, ...]]:
    """Every pull request's collisions with the others, by number (pull requests that add
    nothing are left out)."""
    adding = [side for side in sides if side.added]
    return {
        side.number: tuple(
            hit
            for other in adding
            if other.number != side.number
            for hit in collide(base, side, other)
        )
        for side in adding
    }


def _heads(revisions: Sequence[Revision]) -> tuple[str, ...]:
    return unexplained_heads(build_graph(revisions))


def _attached(revisions: Sequence[Revision], below: Sequence[Revision]) -> set[str]:
    known = {r.revision for r in below}
    return {parent for r in revisions for parent in r.down_revision if parent in known}


# --- the comment section ---------------------------------------------------------------------


def forecast_section(
    collisions: Sequence[Collision],
    branch: str,
    repository_url: str,
    command: str | None,
    several_environments: bool = False,
) -> str:
    """The sticky comment's forecast section ("" when there is nothing to forecast)."""
    if not collisions:
        return ""
    lines = [
        FORECAST_MARKER,
        f"**Collision forecast** with other open pull requests into {inline_code(branch)}:",
    ]
    for hit in collisions[:MAX_LISTED]:
        lines.append("- " + _line(hit, repository_url, command, several_environments))
    if len(collisions) > MAX_LISTED:
        lines.append(f"- and {len(collisions) - MAX_LISTED} more")
    return "\n".join(lines) + "\n"


def _line(hit: Collision, repository_url: str, command: str | None, envs: bool) -> str:
    pull = markdown_link(f"#{hit.other}", f"{repository_url}/pull/{hit.other}")
    where = f"[{inline_code(hit.env)}] " if envs else ""
    parents = ", ".join(inline_code(p) for p in hit.parents)
    what = f"also builds on {parents}" if parents else "also adds a revision to this history"
    fix = f"{inline_code(command)}" if command else "a merge migration"
    line = f"{where}{pull} {what}: whichever merges second will need {fix}"
    if hit.heads:
        merge = ["alembic", "merge", "-m", f"merge heads {', '.join(hit.heads)}", *hit.heads]
        line += f" (or {inline_code(shell_command(merge))})"
    return line + "."


def with_forecast(body: str, section: str) -> str:
    """A comment body with its forecast section replaced by `section` (removed for "")."""
    if FORECAST_MARKER not in body and not section:
        return body
    kept = body.split(FORECAST_MARKER, 1)[0].rstrip("\n") + "\n"
    return f"{kept}\n{section}" if section else kept


def forecast_of(body: str) -> str:
    """The forecast section a comment body holds ("" for none)."""
    _, marker, rest = body.partition(FORECAST_MARKER)
    return marker + rest if marker else ""
