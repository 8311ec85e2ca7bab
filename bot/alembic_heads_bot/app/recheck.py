"""On a push to a branch: re-check the open pull requests into it, and tell those whose verdict
changed (issue 6).

GitHub re-runs nothing on a pull request when its base branch moves, so a green pull request
can turn red (the first of two that each add a migration lands) without anyone seeing it. The
steps, each skipped as soon as nothing can change:

1. fetch the branch's tip and the commit before the push; a push that touches no migration
   file and no Alembic or bot config changes no verdict: done, without one API call;
2. list the open pull requests into the branch (one request per 100);
3. fetch all their heads in one `git fetch`, and keep those whose own changes (since their
   merge base) touch migrations or config;
4. judge each of those against the old tip and the new tip, and only where the verdict
   changed set the status on its head and update its sticky comment (`app.publish`).
   A pull request that now collides is told which base commit brought the other head; the
   comment keeps its collision forecast, recomputed from the heads fetched in step 3
   (`app.forecast.Sections`: no request).

Pull requests whose verdict is unchanged cost no request at all. Exit code: 0, or 2 when
GitHub refused a listing or a post (each refusal is one `::error::` line).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from alembic_heads_bot.adapters.databases import DatabaseReader
from alembic_heads_bot.adapters.git import GitTree, open_repo
from alembic_heads_bot.adapters.github.client import ApiFailure, read
from alembic_heads_bot.adapters.workers import multicore_cache
from alembic_heads_bot.app.context import (
    BASE_REF,
    EXIT_ERROR,
    EXIT_OK,
    ActionContext,
    ActionResult,
    Target,
)
from alembic_heads_bot.app.forecast import Sections
from alembic_heads_bot.app.publish import Session, open_session, report, say_failures
from alembic_heads_bot.app.pull_request import analyse, result_for
from alembic_heads_bot.engine.alembic_config import discover, load_config_file
from alembic_heads_bot.engine.analysis import Commits, Verdict
from alembic_heads_bot.engine.bot_config import BotConfig, load_bot_config
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.recheck import (
    Arrival,
    Layout,
    Push,
    arrival_note,
    changed,
    colliding_revisions,
    layout_of,
    pull_number,
    read_push,
    touches_migrations,
)
from alembic_heads_bot.engine.scan import ParseCache

BEFORE_REF = "refs/alembic-heads/before"
PULL_REFS = "refs/alembic-heads/pr/"
_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class _Run:
    """One re-check: the push, the connection, and what every pull request shares."""

    ctx: ActionContext
    push: Push
    session: Session
    layout: Layout
    has_before: bool  # the tip before the push could be fetched: old verdicts can be known
    cache: ParseCache
    databases: DatabaseReader  # shared: each database is read once per run


def handle_push(ctx: ActionContext) -> int:
    """Re-check the open pull requests into the pushed branch; the step's exit code."""
    push = read_push(ctx.payload)
    if isinstance(push, str):
        ctx.log.notice(push)
        return EXIT_OK
    if ctx.settings.status == "none" and ctx.settings.comment == "never":
        ctx.log.notice("alembic-heads-bot: status is none and comment never: nothing to update")
        return EXIT_OK
    ctx.git.mark_safe(ctx.workspace, ctx.repository)
    ctx.git.check_branch_name(push.branch)
    has_before = _fetch_tips(ctx, push)
    layout = _layout(ctx, (BASE_REF, BEFORE_REF) if has_before else (BASE_REF,))
    if has_before and not _push_matters(ctx, layout):
        ctx.log.emit(
            f"alembic-heads-bot: this push to {push.branch} changes no migration and no Alembic "
            "or bot config, so no open pull request's verdict can change: nothing to re-check"
        )
        return EXIT_OK
    session = open_session(ctx)
    if session is None:
        return EXIT_ERROR
    return _recheck_branch(
        _Run(
            ctx,
            push,
            session,
            layout,
            has_before,
            multicore_cache(),
            DatabaseReader(ctx.environ),
        )
    )


def _recheck_branch(run: _Run) -> int:
    branch = run.push.branch
    try:
        numbers = _open_pulls(run.session, branch)
    except ApiFailure as failure:
        say_failures(run.ctx, [str(failure)])
        return EXIT_ERROR
    if not numbers:
        run.ctx.log.emit(f"alembic-heads-bot: no open pull request into {branch}")
        return EXIT_OK
    _fetch_pulls(run.ctx, branch, numbers)
    return EXIT_OK if say_failures(run.ctx, _recheck_all(run, numbers)) else EXIT_ERROR


# --- git -------------------------------------------------------------------------------------


def _fetch_tips(ctx: ActionContext, push: Push) -> bool:
    """Fetch the branch's current tip and the commit before the push; whether the latter
    could be had (not after a force push whose old commits are gone, nor for a new branch)."""
    git = ctx.git
    tip = f"+refs/heads/{push.branch}:{BASE_REF}"
    # The two tips' trees are all this step compares; the history comes with the heads.
    depth = ("--depth=1",) if git.is_shallow() else ()
    before = push.before if push.before is not None and _SHA.fullmatch(push.before) else None
    if before is not None and git.try_fetch((tip, f"+{before}:{BEFORE_REF}"), depth):
        return True
    git.fetch((tip,), f"refs/heads/{push.branch}", depth)
    if before is not None:
        ctx.log.notice(
            f"alembic-heads-bot: the commit before the push ({before[:12]}) cannot be fetched; "
            "every open pull request that touches migrations is posted again"
        )
    return False


def _fetch_pulls(ctx: ActionContext, branch: str, numbers: Sequence[int]) -> None:
    """All the heads in one fetch, deepening a shallow clone until each meets the tip."""
    git = ctx.git
    refspecs = (
        f"+refs/heads/{branch}:{BASE_REF}",
        *(f"+refs/pull/{n}/head:{PULL_REFS}{n}" for n in numbers),
    )
    heads = f" and the heads of {len(numbers)} pull requests" if len(numbers) > 1 else ""
    what = f"refs/heads/{branch}{heads}"
    git.fetch_deepening(
        refspecs, what, met=lambda: all(_merge_base(ctx, f"{PULL_REFS}{n}") for n in numbers)
    )


def _merge_base(ctx: ActionContext, ref: str) -> str | None:
    return ctx.git.merge_base(BASE_REF, ref)


def _layout(ctx: ActionContext, refs: Sequence[str]) -> Layout:
    """Where the migrations and configs are, on any of the commits `refs` name."""
    config = ctx.settings.config
    with open_repo(ctx.repository) as repo:
        trees = [GitTree(repo, ref) for ref in refs]
        found = [
            load_config_file(tree, config) if config else discover(tree, _bot_config(tree))
            for tree in trees
        ]
    return layout_of((env for each in found for env in each.environments), config)


def _bot_config(tree: GitTree) -> BotConfig:
    return load_bot_config(tree)[0]  # its problems are reported with each verdict


def _push_matters(ctx: ActionContext, layout: Layout) -> bool:
    return touches_migrations(ctx.git.changed_paths(BEFORE_REF, BASE_REF), layout)


def _arrivals(ctx: ActionContext, verdict: Verdict) -> list[Arrival]:
    """The base commits (first parent, so a merge commit rather than the branch's own) that
    added the files of the revisions this pull request's new heads collide with."""
    commits = verdict.commits
    if commits is None or not commits.base or not commits.merge_base:
        return []
    found = []
    for revision, path in colliding_revisions(verdict).items():
        done = ctx.git.run(
            "log", "--first-parent", "--diff-filter=A", "-n1", "--format=%H%x00%s",
            commits.base, f"^{commits.merge_base}", "--", path,
            check=False,
        )  # fmt: skip
        sha, _, subject = done.text.strip().partition("\0")
        if done.status == 0 and _SHA.fullmatch(sha):
            found.append(Arrival(revision, sha, pull_number(subject)))
    return found


# --- the pull requests -----------------------------------------------------------------------


def _open_pulls(session: Session, branch: str) -> list[int]:
    pulls = session.repo.get_pulls(state="open", base=branch)  # all pages, 100 a page
    return read(f"list the open pull requests into {branch}", lambda: [p.number for p in pulls])


def _recheck_all(run: _Run, numbers: Sequence[int]) -> list[str]:
    """Re-check each pull request; the publishing failures."""
    log, branch = run.ctx.log, run.push.branch
    failures: list[str] = []
    untouched, told = [], 0
    touching = [n for n in sorted(numbers) if _touches_migrations(run, n)]
    refs = {n: f"{PULL_REFS}{n}" for n in touching}
    sections = Sections(run.ctx, branch, BASE_REF, refs, run.cache)
    for index, number in enumerate(sorted(numbers), start=1):
        if number not in touching:
            untouched.append(number)
            continue
        # One line per pull request: a re-check of hundreds takes tens of seconds, and a log
        # that stays silent that long looks stuck.
        log.emit(f"alembic-heads-bot: re-checking #{number} ({index} of {len(numbers)})")
        done = _recheck(run, number, sections)
        told += done is not None
        failures += done or []
    if untouched:
        listed = ", ".join(f"#{n}" for n in untouched)
        log.emit(f"alembic-heads-bot: changing no migration or config, left alone: {listed}")
    log.emit(
        f"alembic-heads-bot: {len(numbers)} open pull requests into {branch}, "
        f"{len(numbers) - len(untouched)} touching migrations, {told} with a new verdict"
    )
    return failures


def _touches_migrations(run: _Run, number: int) -> bool:
    """Whether the pull request's own changes, since its merge base with the tip, can matter."""
    ref = f"{PULL_REFS}{number}"
    fork = _merge_base(run.ctx, ref)
    if fork is None:  # judged all the same, so that the log says why it cannot be
        return True
    return touches_migrations(run.ctx.git.changed_paths(fork, ref), run.layout)


def _recheck(run: _Run, number: int, sections: Sections) -> list[str] | None:
    """Judge one pull request against both tips; post when its verdict changed. The posting
    failures, or None when nothing was posted."""
    ctx, ref = run.ctx, f"{PULL_REFS}{number}"
    new = _judge(run, BASE_REF, ref, number)
    if new is None:
        return None
    old = _judge(run, BEFORE_REF, ref, number, quiet=True) if run.has_before else None
    if not changed(old, new):
        ctx.log.emit(f"alembic-heads-bot: #{number}: unchanged, still {_state(new)}")
        return None
    was = f"was {_state(old)}, " if old is not None else ""
    ctx.log.emit(f"alembic-heads-bot: #{number}: {was}now {_state(new)}")
    result = replace(_result(run, new, number), forecast=sections(number))
    return report(run.session, result, number)


def _judge(run: _Run, base: str, head: str, number: int, *, quiet: bool = False) -> Verdict | None:
    try:
        return analyse(
            run.ctx.repository,
            base,
            head,
            config=run.ctx.settings.config,
            cache=run.cache,
            databases=run.databases,
        )
    except CannotJudge as exc:
        if not quiet:
            why = f"alembic-heads-bot: #{number} cannot be judged: {exc}"
            run.ctx.log.annotate("warning", why)
        return None


def _result(run: _Run, verdict: Verdict, number: int) -> ActionResult:
    """What the publisher posts for one pull request, with a note on the base commits that
    brought the heads it now collides with."""
    ctx, commits = run.ctx, verdict.commits or Commits()
    note = arrival_note(run.push.branch, _arrivals(ctx, verdict), ctx.repository_url)
    if note is not None:
        verdict = replace(verdict, notes=(*verdict.notes, note))
    target = Target("pull_request", run.push.branch, f"refs/pull/{number}/head", number, None)
    return result_for(ctx, verdict, target.sides, commits.base or "", commits.head or "")


def _state(verdict: Verdict | None) -> str:
    if verdict is None:
        return "unknown"
    if verdict.failed_rules:
        return f"failing ({', '.join(verdict.failed_rules)})"
    return "passing"
