"""Collision forecast between open pull requests into the same base (issue 16).

On a pull-request event whose pull request adds a revision: one list of the open pull
requests into its base (one request per 100), one `git fetch` of their heads, each head read
as data (`engine.forecast`). The pull request's own sticky comment gets a forecast section
naming the others it collides with (through `ActionResult.forecast`); each colliding pull
request's comment gets its own forecast section replaced, only where it changed.

`refresh` (for `schedule` and `workflow_dispatch`) does the same for every open pull request
into a branch, so a forecast naming a pull request closed since goes away by the next day.

`handle_closed` (a pull request closed or merged) does it at once, for the open pull requests
that the closed one's own forecast named (forecasts name each other): the closed pull request
is not judged and gets no check. A merged one's push re-checks the branch (`app.recheck`,
whose rewritten comments get their forecast recomputed, `Sections`); this run only mends the
forecasts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from alembic_heads_bot.adapters.git import GitTree, open_repo
from alembic_heads_bot.adapters.github.client import ApiFailure, read
from alembic_heads_bot.adapters.github.forecast import own_forecast, sync_forecast
from alembic_heads_bot.adapters.workers import multicore_cache
from alembic_heads_bot.app.context import (
    BASE_REF,
    EXIT_ERROR,
    EXIT_OK,
    HEAD_REF,
    ActionContext,
    ActionError,
    ActionResult,
    Publisher,
    dig,
)
from alembic_heads_bot.app.publish import Session, open_session, say_failures
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.forecast import (
    Collision,
    Graphs,
    forecast,
    forecast_section,
    named_in,
    side_of,
)
from alembic_heads_bot.engine.merge_command import COMMAND
from alembic_heads_bot.engine.pipeline import Options, judge_alone
from alembic_heads_bot.engine.scan import ParseCache

FORECAST_REFS = "refs/alembic-heads/forecast/"
CLOSED_BASE_REF = "refs/alembic-heads/forecast-base"
_PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


@dataclass(frozen=True)
class _Forecast:
    session: Session
    branch: str
    base: Graphs
    collisions: Mapping[int, tuple[Collision, ...]]

    def section(self, ctx: ActionContext, number: int) -> str:
        return _section(ctx, self.branch, self.base, self.collisions.get(number, ()))


def _section(ctx: ActionContext, branch: str, base: Graphs, hits: Sequence[Collision]) -> str:
    return forecast_section(hits, branch, ctx.repository_url, COMMAND, len(base) > 1)


class Sections:
    """The forecast sections of pull requests whose heads a run fetched already (the re-check's
    `refs`, against the tip at `base_ref`): computed once, on first use, with no request and no
    fetch. Recomputed rather than copied from the comment being rewritten: after a push the
    copy may name a pull request that just merged, and a `closed` run mending the comment at
    the same time would be undone by it."""

    def __init__(
        self,
        ctx: ActionContext,
        branch: str,
        base_ref: str,
        refs: Mapping[int, str],
        cache: ParseCache,
    ) -> None:
        self._ctx, self._branch, self._base_ref, self._refs = ctx, branch, base_ref, refs
        self._cache = cache
        self._found: tuple[Graphs, Mapping[int, tuple[Collision, ...]]] | None = None

    def __call__(self, number: int) -> str:
        """Pull request `number`'s section ("" with `comment: never`, or when the heads cannot
        be read: said as a warning, and the comment then goes without one)."""
        if self._ctx.settings.comment == "never":
            return ""
        if self._found is None:
            try:
                self._found = _read(self._ctx, self._base_ref, self._refs, self._cache)
            except CannotJudge as exc:
                self._ctx.log.annotate(
                    "warning", f"alembic-heads-bot: no collision forecast: {exc}"
                )
                self._found = ({}, {})
        base, collisions = self._found
        return _section(self._ctx, self._branch, base, collisions.get(number, ()))


def with_forecast(publish: Publisher) -> Publisher:
    """`publish`, with the forecast in the pull request's comment and in the comments of the
    pull requests it collides with. What the forecast runs into is one error line; the
    verdict is published all the same."""

    def publisher(ctx: ActionContext, result: ActionResult) -> bool:
        target = ctx.target
        if not _applies(ctx, result) or target is None or target.number is None:
            return publish(ctx, result)
        try:
            found = _forecast_pull_request(ctx, target.base_branch, target.number)
        except (ApiFailure, CannotJudge) as exc:
            say_failures(ctx, [f"no collision forecast: {exc}"])
            publish(ctx, result)
            return False
        result = replace(result, forecast=found.section(ctx, target.number))
        published = publish(ctx, result)
        others = {hit.other for hit in found.collisions.get(target.number, ())}
        return _update(ctx, found, sorted(others)) and published

    return publisher


def refresh(ctx: ActionContext, branch: str, base_ref: str) -> bool:
    """Every open pull request's forecast into `branch` (tip at `base_ref`), replaced where it
    changed; False when something could not be read or posted (said as error lines)."""
    if ctx.settings.comment == "never":
        return True
    session = open_session(ctx)
    if session is None:
        return False
    try:
        numbers = _open_pulls(session, branch)
        found = _compute(ctx, session, branch, base_ref, numbers, {})
    except (ApiFailure, CannotJudge) as exc:
        return say_failures(ctx, [f"no collision forecast: {exc}"])
    return _update(ctx, found, sorted(found.collisions))


def handle_closed(ctx: ActionContext) -> int:
    """A pull request closed (or merged): the forecasts that named it, recomputed without it
    and replaced where they changed; the step's exit code (2 when something failed)."""
    number, branch = dig(ctx.payload, "pull_request", "number"), _base_branch(ctx)
    if not isinstance(number, int) or isinstance(number, bool):
        raise ActionError(f"the {ctx.event_name} event payload has no pull_request.number")
    if ctx.settings.comment == "never" or (ctx.event_name == "pull_request" and ctx.is_fork):
        ctx.log.notice(f"alembic-heads-bot: #{number} closed: no comment to mend (comment: never "
                       "or a fork's read-only token)")  # fmt: skip
        return EXIT_OK
    session = open_session(ctx)
    if session is None:
        return EXIT_ERROR
    try:
        found = _closed(ctx, session, branch, number)
    except (ApiFailure, CannotJudge) as exc:
        say_failures(ctx, [f"no collision forecast: {exc}"])
        return EXIT_ERROR
    if found is None:
        return EXIT_OK
    return EXIT_OK if _update(ctx, *found) else EXIT_ERROR


def _base_branch(ctx: ActionContext) -> str:
    branch = dig(ctx.payload, "pull_request", "base", "ref")
    if not isinstance(branch, str) or not branch:
        raise ActionError(f"the {ctx.event_name} event payload has no pull_request.base.ref")
    return branch


def _closed(
    ctx: ActionContext, session: Session, branch: str, number: int
) -> tuple[_Forecast, list[int]] | None:
    """The forecast without pull request `number`, and the open pull requests to mend: those
    its own comment names (all of them when it named only some). None: nothing to mend."""
    issue = session.repo.get_issue(number)
    named = named_in(own_forecast(issue, number, ctx.settings.status_name, session.identity))
    if named == ():
        ctx.log.emit(f"alembic-heads-bot: #{number} closed; its forecast named no other: done")
        return None
    numbers = [n for n in _open_pulls(session, branch) if n != number]
    mend = sorted(n for n in numbers if named is None or n in named)
    if not mend:
        ctx.log.emit(f"alembic-heads-bot: #{number} closed; none it named is still open: done")
        return None
    ctx.git.mark_safe(ctx.workspace, ctx.repository)
    ctx.git.check_branch_name(branch)
    tip = f"+refs/heads/{branch}:{CLOSED_BASE_REF}"
    depth = ("--depth=1",) if ctx.git.is_shallow() else ()
    ctx.git.fetch((tip,), f"refs/heads/{branch}", depth)
    return _compute(ctx, session, branch, CLOSED_BASE_REF, numbers, {}), mend


def _applies(ctx: ActionContext, result: ActionResult) -> bool:
    """Only a pull request that adds a revision can collide, and only a token that may
    comment can say so."""
    if ctx.event_name not in _PULL_REQUEST_EVENTS or ctx.settings.comment == "never":
        return False
    if ctx.event_name == "pull_request" and ctx.is_fork:
        return False
    return any(env.added for env in result.verdict.environments)


def _forecast_pull_request(ctx: ActionContext, branch: str, number: int) -> _Forecast:
    session = open_session(ctx)
    if session is None:
        raise ApiFailure("the github-token input is empty")
    numbers = [n for n in _open_pulls(session, branch) if n != number]
    return _compute(ctx, session, branch, BASE_REF, numbers, {number: HEAD_REF})


def _compute(
    ctx: ActionContext,
    session: Session,
    branch: str,
    base_ref: str,
    numbers: Sequence[int],
    fetched: Mapping[int, str],
) -> _Forecast:
    """Fetch the heads of `numbers` (one fetch) besides those `fetched` already, read them."""
    refs = {**fetched, **{n: f"{FORECAST_REFS}{n}" for n in numbers}}
    if numbers:
        _fetch_heads(ctx, numbers)
    return _Forecast(session, branch, *_read(ctx, base_ref, refs, multicore_cache()))


def _read(
    ctx: ActionContext, base_ref: str, refs: Mapping[int, str], cache: ParseCache
) -> tuple[Graphs, dict[int, tuple[Collision, ...]]]:
    """The base's graphs and every pull request's collisions, each head read at `refs`."""
    with open_repo(ctx.repository) as repo:
        base_tree = GitTree(repo, base_ref)
        base = _graphs(ctx, base_tree, base_tree, cache)
        sides = [
            side_of(n, base, _graphs(ctx, GitTree(repo, ref), base_tree, cache))
            for n, ref in sorted(refs.items())
        ]
    return base, forecast(base, sides)


def _graphs(ctx: ActionContext, tree: GitTree, base: GitTree, cache: ParseCache) -> Graphs:
    """Each environment's graph in `tree`, with the base's bot config (a pull request's own
    config never decides how it is read)."""
    verdict = judge_alone(
        tree, Options(config=ctx.settings.config), cache, config_from=base, heads_only=True
    )
    return {env.name: env.graph for env in verdict.environments if env.graph is not None}


def _open_pulls(session: Session, branch: str) -> list[int]:
    pulls = session.repo.get_pulls(state="open", base=branch)  # all pages, 100 a page
    return read(f"list the open pull requests into {branch}", lambda: [p.number for p in pulls])


def _fetch_heads(ctx: ActionContext, numbers: Sequence[int]) -> None:
    git = ctx.git
    depth = ("--depth=1",) if git.is_shallow() else ()  # their trees are all it reads
    refspecs = [f"+refs/pull/{n}/head:{FORECAST_REFS}{n}" for n in numbers]
    git.fetch(refspecs, f"the heads of {len(numbers)} open pull requests", depth)


def _update(ctx: ActionContext, found: _Forecast, numbers: Sequence[int]) -> bool:
    """Replace the forecast section of each of `numbers`' comments where it changed."""
    session, failures = found.session, []
    for number in numbers:
        try:
            done = sync_forecast(
                session.repo.get_issue(number),
                number,
                ctx.settings.status_name,
                found.section(ctx, number),
                session.identity,
            )
        except ApiFailure as failure:
            failures.append(str(failure))
            continue
        if done != "unchanged":
            ctx.log.emit(f"alembic-heads-bot: #{number}: collision forecast {done}")
    return say_failures(ctx, failures)
