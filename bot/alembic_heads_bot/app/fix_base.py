"""When the race slips through: a watched branch itself gets several heads (issue 16).

On `push` to the default branch (or a branch the bot config lists in `fix-branches`) the
pushed tip and the tip before the push are judged on their own, from git alone. Nothing is
asked of GitHub while the heads stay as they were. When the push left more unexplained heads:

1. a failing check run on the pushed commit names the heads and, for each, the commit and
   pull request that brought it (from the merge or squash subject, as the re-check does);
2. with `fix-base: pull-request` (the default) one pull request from the bot's own branch
   `alembic-heads-bot/merge-heads/<branch>` holds the merge migration, rendered as `merge`
   renders it from the branch's own template; a later push that leaves the branch broken
   force-updates that branch (the bot's own, never another) and edits the pull request;
3. when the heads are joined another way, the pull request is closed with a comment.

With `fix-base: comment-only` step 2 is a comment on the pushed commit instead (the check's
words: heads, culprits, the exact `alembic merge` command, the diagram), one per commit.

Before opening a pull request the bot looks for the open one from its branch (GitHub allows
one per head and base, and refuses a racing second with 422): never two. A re-run of the same
event finds its branch already on the tip and changes nothing. Then the open pull requests
into the branch are re-checked (`app.recheck`). `schedule` and `workflow_dispatch` judge the
default branch alone (`handle_schedule`): exit 1 naming the heads when it has several.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from github.Repository import Repository

from alembic_heads_bot.adapters.git import GitTree, open_repo
from alembic_heads_bot.adapters.github.client import ApiFailure, connect
from alembic_heads_bot.adapters.github.commit_comments import comment_on_commit
from alembic_heads_bot.adapters.github.pulls import (
    close_pull,
    find_open_pull,
    open_pull,
    push_fix_branch,
    update_pull,
)
from alembic_heads_bot.adapters.github.statuses import set_check_run, set_commit_status
from alembic_heads_bot.adapters.runner import append_summary
from alembic_heads_bot.adapters.workers import multicore_cache
from alembic_heads_bot.app import forecast, recheck
from alembic_heads_bot.app.context import (
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_OK,
    ActionContext,
    dig,
)
from alembic_heads_bot.app.fix_inputs import fix_inputs
from alembic_heads_bot.app.publish import Session, open_session, say_failures
from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.bot_config import BotConfig, load_bot_config
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.fix.base_branch import (
    COMMIT_COMMENT_MARKER,
    Heads,
    base_check_output,
    broken_heads,
    closing_comment,
    commit_comment_body,
    commit_message,
    fix_branch,
    fix_pull_body,
    got_worse,
    head_count,
    heads_line,
    title,
)
from alembic_heads_bot.engine.fix.plan import FileChange, FixRefused, FixRequest, plan_fix
from alembic_heads_bot.engine.pipeline import Options, judge_alone
from alembic_heads_bot.engine.recheck import Arrival, Push, pull_number, read_push
from alembic_heads_bot.engine.report.check_run import check_output
from alembic_heads_bot.engine.report.verdict import Linker, Sides

TIP_REF = "refs/alembic-heads/fix-base/tip"
BEFORE_REF = "refs/alembic-heads/fix-base/before"
FIX_REF = "refs/alembic-heads/fix-base/fix"


def handle_push(ctx: ActionContext) -> int:
    """A push: repair the branch itself when it is watched, then re-check the open pull
    requests into it; the worse of the two exit codes."""
    try:
        repaired = repair_on_push(ctx)
    except (CannotJudge, ApiFailure) as exc:
        say_failures(ctx, [str(exc)])
        repaired = EXIT_ERROR
    return max(repaired, recheck.handle_push(ctx))


def handle_schedule(ctx: ActionContext) -> int:
    """`schedule` and `workflow_dispatch`: judge the default branch alone, and refresh the
    collision forecasts of the open pull requests into it."""
    branch = _default_branch(ctx)
    if branch is None:
        ctx.log.error("alembic-heads-bot: the event names no default branch to judge")
        return EXIT_ERROR
    ctx.git.mark_safe(ctx.workspace, ctx.repository)
    ctx.git.check_branch_name(branch)
    ctx.git.fetch((f"+refs/heads/{branch}:{TIP_REF}",), f"refs/heads/{branch}", _depth(ctx))
    verdict = _judge(ctx, TIP_REF)
    heads = broken_heads(verdict)
    tip = ctx.git.rev_parse(TIP_REF)
    refreshed = forecast.refresh(ctx, branch, TIP_REF)
    if not heads:
        ctx.log.emit(f"alembic-heads-bot: {branch} ({tip[:12]}) has one head per environment")
        return EXIT_OK if refreshed else EXIT_ERROR
    line = f"{branch} ({tip[:12]}) has {head_count(heads)} Alembic heads: {heads_line(heads)}"
    ctx.log.error(f"alembic-heads-bot: {line}; join them with a merge migration")
    arrivals = _culprits(ctx, verdict, heads)
    output = base_check_output(branch, verdict, arrivals, ctx.repository_url, _linker(ctx, tip))
    _summary(ctx, output.summary)
    return EXIT_FAILED if refreshed else EXIT_ERROR


# --- the push ------------------------------------------------------------------------------


def repair_on_push(ctx: ActionContext) -> int:
    push = read_push(ctx.payload)
    if isinstance(push, str):  # said by the re-check
        return EXIT_OK
    ctx.git.mark_safe(ctx.workspace, ctx.repository)
    ctx.git.check_branch_name(push.branch)
    has_before = _fetch_tips(ctx, push)
    config = _bot_config(ctx)
    if not _watched(ctx, push.branch, config) or config.fix_base == "off":
        return EXIT_OK
    tip_verdict = _judge(ctx, TIP_REF)
    tip_heads = broken_heads(tip_verdict)
    before_heads = broken_heads(_judge(ctx, BEFORE_REF)) if has_before else None
    if before_heads is not None and tip_heads == before_heads:
        return EXIT_FAILED if tip_heads else EXIT_OK  # the heads did not move: nothing to do
    if tip_heads:
        return _broken(ctx, push.branch, config, tip_verdict, tip_heads, before_heads)
    if before_heads is None or before_heads:  # joined (or unknown): a fix is no longer needed
        return _joined(ctx, push.branch)
    return EXIT_OK


def _fetch_tips(ctx: ActionContext, push: Push) -> bool:
    """The pushed tip and the one before; whether the latter could be had."""
    tip = f"+refs/heads/{push.branch}:{TIP_REF}"
    if push.before is not None and ctx.git.try_fetch(
        (tip, f"+{push.before}:{BEFORE_REF}"), _depth(ctx)
    ):
        return True
    ctx.git.fetch((tip,), f"refs/heads/{push.branch}", _depth(ctx))
    return False


def _depth(ctx: ActionContext) -> tuple[str, ...]:
    return ("--depth=1",) if ctx.git.is_shallow() else ()


def _bot_config(ctx: ActionContext) -> BotConfig:
    with open_repo(ctx.repository) as repo:
        return load_bot_config(GitTree(repo, TIP_REF))[0]  # problems: with each verdict


def _default_branch(ctx: ActionContext) -> str | None:
    named = dig(ctx.payload, "repository", "default_branch")
    if isinstance(named, str) and named:
        return named
    ref = ctx.environ.get("GITHUB_REF", "")
    return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None


def _watched(ctx: ActionContext, branch: str, config: BotConfig) -> bool:
    return branch == _default_branch(ctx) or branch in config.fix_branches


def _judge(ctx: ActionContext, ref: str) -> Verdict:
    with open_repo(ctx.repository) as repo:
        tree = GitTree(repo, ref)
        return judge_alone(tree, Options(config=ctx.settings.config), multicore_cache())


def _summary(ctx: ActionContext, markdown: str) -> None:
    path = ctx.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        append_summary(path, markdown)


def _linker(ctx: ActionContext, sha: str) -> Linker:
    def link(path: str, line: int | None) -> str | None:
        anchor = f"#L{line}" if line else ""
        return f"{ctx.repository_url}/blob/{sha}/{quote(path)}{anchor}"

    return link


# --- broken: the check run and the fix pull request -----------------------------------------


def _broken(
    ctx: ActionContext,
    branch: str,
    config: BotConfig,
    verdict: Verdict,
    heads: Heads,
    before: Heads | None,
) -> int:
    tip = ctx.git.rev_parse(TIP_REF)
    ctx.log.error(
        f"alembic-heads-bot: {branch} ({tip[:12]}) has {head_count(heads)} Alembic heads: "
        f"{heads_line(heads)}"
    )
    session = open_session(ctx)
    if session is None:
        return EXIT_ERROR
    name = fix_branch(branch)
    exists = ctx.git.try_fetch((f"+refs/heads/{name}:{FIX_REF}",))
    # A run for this very tip (a re-run, an overlapping one) left its fix on it already.
    current = exists and ctx.git.run("rev-parse", f"{FIX_REF}^1", check=False).text.strip() == tip
    arrivals = _culprits(ctx, verdict, heads)
    fixing = config.fix_base == "pull-request"
    failures: list[str] = []
    if got_worse(heads, before) and not current:
        fix_name = name if fixing else None
        failures += _set_check(ctx, session, branch, verdict, arrivals, tip, fix_name)
        if config.fix_base == "comment-only":
            failures += _comment_on_tip(ctx, session, branch, verdict, arrivals, tip)
    if fixing:
        failures += _fix_pull(ctx, session, branch, verdict, arrivals, tip, exists, current)
    return EXIT_FAILED if say_failures(ctx, failures) else EXIT_ERROR


def _set_check(
    ctx: ActionContext,
    session: Session,
    branch: str,
    verdict: Verdict,
    arrivals: Sequence[Arrival],
    tip: str,
    fix_name: str | None,
) -> list[str]:
    settings = ctx.settings
    fix = f"from branch `{fix_name}`" if fix_name else None
    output = base_check_output(
        branch, verdict, arrivals, ctx.repository_url, _linker(ctx, tip), fix
    )
    _summary(ctx, output.summary)
    try:
        if settings.status == "check-run":
            done = set_check_run(session.repo, settings.status_name, tip, output, ctx.run_url)
        elif settings.status == "commit-status":
            done = set_commit_status(
                session.repo, settings.status_name, tip, "failure", output.title[:140], ctx.run_url
            )
        else:
            return []
    except ApiFailure as failure:
        return [str(failure)]
    session.identity.learn(done.login)  # whose comments are the bot's, for free
    return []


def _comment_on_tip(
    ctx: ActionContext,
    session: Session,
    branch: str,
    verdict: Verdict,
    arrivals: Sequence[Arrival],
    tip: str,
) -> list[str]:
    """`fix-base: comment-only`: the check's words as a comment on the pushed commit, where
    its author is notified (one per commit; none with `comment: never`)."""
    if ctx.settings.comment == "never":
        return []
    output = base_check_output(branch, verdict, arrivals, ctx.repository_url, _linker(ctx, tip))
    body = commit_comment_body(output)
    try:
        done, url = comment_on_commit(
            session.repo, tip, COMMIT_COMMENT_MARKER, body, session.identity
        )
    except ApiFailure as failure:
        return [str(failure)]
    said = "commented on" if done == "created" else "comment already on"
    ctx.log.untrusted(f"alembic-heads-bot: {said} {tip[:12]}: {url}")
    return []


def _fix_pull(
    ctx: ActionContext,
    session: Session,
    branch: str,
    verdict: Verdict,
    arrivals: Sequence[Arrival],
    tip: str,
    exists: bool,
    current: bool,
) -> list[str]:
    name = fix_branch(branch)
    owner = session.full_name.split("/")[0]
    writer = _writer(ctx, session)
    try:
        pull = find_open_pull(session.repo, owner, name, branch)
        if current:
            files = ctx.git.changed_paths(f"{FIX_REF}^1", FIX_REF)
        else:
            changes = _plan(ctx, verdict, branch)
            files = [change.path for change in changes]
            message = commit_message(branch, broken_heads(verdict), files)
            sha = push_fix_branch(ctx.git, writer, name, tip, changes, message, exists)
            ctx.log.emit(f"alembic-heads-bot: branch {name} set to {sha[:12]}: {', '.join(files)}")
            _check_fix(ctx, session, branch, name, sha)
        heads = broken_heads(verdict)
        body = fix_pull_body(
            branch, verdict, arrivals, ctx.repository_url, files, tip, _linker(ctx, tip)
        )
        if pull is None:
            pull = open_pull(writer, owner, name, branch, title(branch, heads), body)
            ctx.log.emit(f"alembic-heads-bot: fix pull request #{pull.number} opened")
        if update_pull(pull, title(branch, heads), body):
            ctx.log.emit(f"alembic-heads-bot: fix pull request #{pull.number} updated")
        elif current:
            ctx.log.emit(f"alembic-heads-bot: fix pull request #{pull.number} is up to date")
    except FixRefused as refusal:
        return [f"cannot write the merge migration for {branch}: {refusal}"]
    except ApiFailure as failure:
        return [str(failure)]
    return []


def _check_fix(ctx: ActionContext, session: Session, branch: str, name: str, sha: str) -> None:
    """The fix commit's own check run, judged from the commit itself: pushed with the
    workflow's token it starts no workflow, and a required check would keep the fix pull
    request waiting forever. (With `fix-token` the workflows run and set it.)"""
    settings = ctx.settings
    if settings.status != "check-run" or settings.fix_token:
        return
    ctx.git.fetch((f"+refs/heads/{name}:{FIX_REF}",), f"refs/heads/{name}", _depth(ctx))
    verdict = _judge(ctx, FIX_REF)
    code = EXIT_OK if verdict.ok else EXIT_FAILED
    output = check_output(
        verdict, Sides(base=branch, head=name), code, _linker(ctx, sha), ctx.run_url
    )
    set_check_run(session.repo, settings.status_name, sha, output, ctx.run_url)


def _plan(ctx: ActionContext, verdict: Verdict, branch: str) -> list[FileChange]:
    """The merge migration on the tip, from the tip's own template and configuration."""
    with open_repo(ctx.repository) as repo:
        tree = GitTree(repo, TIP_REF)
        return plan_fix(tree, FixRequest(), verdict, None, tree, branch, fix_inputs(), merged=True)


def _writer(ctx: ActionContext, session: Session) -> Repository:
    """The repository as the fix-token sees it (then the fix pull request's own workflows
    run), or as the workflow token does."""
    if not ctx.settings.fix_token:
        return session.repo
    return connect(ctx.api_url, ctx.settings.fix_token).get_repo(session.full_name)


# --- joined: close the fix pull request ------------------------------------------------------


def _joined(ctx: ActionContext, branch: str) -> int:
    session = open_session(ctx)
    if session is None:
        return EXIT_ERROR
    name = fix_branch(branch)
    owner = session.full_name.split("/")[0]
    try:
        pull = find_open_pull(session.repo, owner, name, branch)
        if pull is None:
            return EXIT_OK
        tip = ctx.git.rev_parse(TIP_REF)
        close_pull(pull, closing_comment(branch, tip, ctx.repository_url))
    except ApiFailure as failure:
        say_failures(ctx, [str(failure)])
        return EXIT_ERROR
    ctx.log.emit(f"alembic-heads-bot: {branch} has one head again: fix #{pull.number} closed")
    return EXIT_OK


# --- who brought the heads -------------------------------------------------------------------


def _culprits(ctx: ActionContext, verdict: Verdict, heads: Heads) -> list[Arrival]:
    """For each head, the commit on the branch's first-parent line that added its file, and
    the pull request its subject names. The clone is deepened until each is found below its
    shallow boundary (or the history is complete)."""
    paths = _head_paths(verdict, heads)
    found: dict[str, Arrival] = {}

    def all_found() -> bool:
        for revision, path in paths.items():
            if revision not in found:
                arrival = _added_by(ctx, revision, path)
                if arrival is not None:
                    found[revision] = arrival
        return len(found) == len(paths)

    if not all_found() and ctx.git.is_shallow():
        branch_ref = ctx.git.rev_parse(TIP_REF)
        ctx.git.fetch_deepening((f"+{branch_ref}:{TIP_REF}",), "the branch's history", all_found)
        all_found()
    return [found[revision] for revision in paths if revision in found]


def _head_paths(verdict: Verdict, heads: Heads) -> dict[str, str]:
    paths: dict[str, str] = {}
    for env in verdict.environments:
        graph = env.graph
        for revision in heads.get(env.name, ()):
            if graph is not None and revision in graph.revisions:
                paths[revision] = graph.revisions[revision].path
    return paths


def _added_by(ctx: ActionContext, revision: str, path: str) -> Arrival | None:
    """The commit that added `path`, unless it is the shallow clone's boundary (which seems to
    add every file)."""
    done = ctx.git.run(
        "log", "--first-parent", "--diff-filter=A", "-n1", "--format=%H%x00%P%x00%s",
        TIP_REF, "--", path, check=False,
    )  # fmt: skip
    sha, _, rest = done.text.strip().partition("\0")
    parents, _, subject = rest.partition("\0")
    if done.status != 0 or not sha:
        return None
    if not parents and ctx.git.is_shallow():
        return None
    return Arrival(revision, sha, pull_number(subject))
