"""Collision forecast between open pull requests into the same base (issue 16).

On a pull-request event whose pull request adds a revision: one list of the open pull
requests into its base (one request per 100), one `git fetch` of their heads, each head read
as data (`engine.forecast`). The pull request's own sticky comment gets a forecast section
naming the others it collides with (through `ActionResult.forecast`); each colliding pull
request's comment gets its own forecast section replaced, only where it changed.

`refresh` (for `schedule` and `workflow_dispatch`) does the same for every open pull request
into a branch, so a forecast naming a pull request closed since goes away by the next day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from alembic_heads_bot.adapters.git import GitTree, open_repo
from alembic_heads_bot.adapters.github.client import ApiFailure, read
from alembic_heads_bot.adapters.github.forecast import sync_forecast
from alembic_heads_bot.app.context import (
    BASE_REF,
    HEAD_REF,
    ActionContext,
    ActionResult,
    Publisher,
)
from alembic_heads_bot.app.publish import Session, open_session, say_failures
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.forecast import (
    Collision,
    Graphs,
    forecast,
    forecast_section,
    side_of,
)
from alembic_heads_bot.engine.merge_command import COMMAND
from alembic_heads_bot.engine.pipeline import Options, judge_alone
from alembic_heads_bot.engine.scan import ParseCache

FORECAST_REFS = "refs/alembic-heads/forecast/"
_PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


@dataclass(frozen=True)
class _Forecast:
    session: Session
    branch: str
    base: Graphs
    collisions: Mapping[int, tuple[Collision, ...]]

    def section(self, ctx: ActionContext, number: int) -> str:
        hits = self.collisions.get(number, ())
        several = len(self.base) > 1
        return forecast_section(hits, self.branch, ctx.repository_url, COMMAND, several)


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
    cache = ParseCache()
    with open_repo(ctx.repository) as repo:
        base_tree = GitTree(repo, base_ref)
        base = _graphs(ctx, base_tree, base_tree, cache)
        sides = [
            side_of(n, base, _graphs(ctx, GitTree(repo, ref), base_tree, cache))
            for n, ref in sorted(refs.items())
        ]
    return _Forecast(session, branch, base, forecast(base, sides))


def _graphs(ctx: ActionContext, tree: GitTree, base: GitTree, cache: ParseCache) -> Graphs:
    """Each environment's graph in `tree`, with the base's bot config (a pull request's own
    config never decides how it is read)."""
    verdict = judge_alone(tree, Options(config=ctx.settings.config), cache, config_from=base)
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
