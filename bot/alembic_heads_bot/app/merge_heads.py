"""`/merge-heads` in a pull-request comment, and the opt-in auto-fix: commit the fix.

The command: 👀 at once; the commenter's permission is asked of the API (write, maintain or
admin; `author_association` is not trusted); the pull request is loaded (the comment event has
no shas), its branch and the current base tip are fetched and judged, and the fix is committed
(see fixcommit). Then the bot sets its own status on the new commit and updates the sticky
comment, because a commit made with the workflow's token starts no workflow. It ends with 🚀,
👍 (nothing to do), 👎 (not allowed) or 😕 and a reply saying why.

Exit codes: 0 done or nothing to do, 1 refused (the reply says why), 2 GitHub or git failed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from github.IssueComment import IssueComment
from github.Repository import Repository

from alembic_heads_bot.adapters.git import GitTree, open_repo
from alembic_heads_bot.adapters.github.client import ApiFailure, connect, read, write
from alembic_heads_bot.adapters.github.git_data import BranchMoved, FixCommit, commit_fix
from alembic_heads_bot.app.context import (
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_OK,
    HEAD_REF,
    ActionContext,
    ActionError,
    ActionResult,
    Target,
    dig,
    is_fork,
)
from alembic_heads_bot.app.fix_inputs import fix_inputs
from alembic_heads_bot.app.publish import Session, open_session, publish, report, say_failures
from alembic_heads_bot.app.pull_request import evaluate, publish_local
from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.fix.plan import FileChange, FixRefused, FixRequest, plan_fix
from alembic_heads_bot.engine.merge_command import (
    TRAILER,
    CommandError,
    commit_message,
    conflict_reply,
    fork_reply,
    is_command,
    parse_command,
    usage_reply,
)

_WRITERS = ("admin", "maintain", "write")
_PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


@dataclass(frozen=True)
class Outcome:
    code: int
    reaction: str  # the reaction that closes the command
    reply: str | None  # the reply comment, when there is something to say


# --- the comment command ---------------------------------------------------------------------


def handle_comment(ctx: ActionContext) -> int:
    why = _not_a_command(ctx)
    if why is not None:
        ctx.log.notice(f"alembic-heads-bot: {why}; nothing to do")
        return EXIT_OK
    session = open_session(ctx)
    if session is None:
        return EXIT_ERROR
    comment = IssueComment(session.gh.requester, url=dig(ctx.payload, "comment", "url"))
    try:
        _react(comment, "eyes")
        try:
            outcome = _command(ctx, session, dig(ctx.payload, "comment", "body"))
        except CannotJudge as error:  # git or the analysis failed: say so where it was asked
            outcome = Outcome(EXIT_ERROR, "confused", f"The bot could not do this: {error}")
        reply = outcome.reply
        if reply is not None:
            number = dig(ctx.payload, "issue", "number")
            issue = session.repo.get_issue(number)
            write(f"reply on #{number}", lambda: issue.create_comment(reply))
        _react(comment, outcome.reaction)
    except ApiFailure as failure:
        say_failures(ctx, [str(failure)])
        return EXIT_ERROR
    return outcome.code


def _not_a_command(ctx: ActionContext) -> str | None:
    payload = ctx.payload
    if payload.get("action") != "created":
        return f"the comment was {payload.get('action')}, not created"
    if not isinstance(dig(payload, "issue", "pull_request"), dict):
        return "the comment is on an issue, not a pull request"
    author = dig(payload, "comment", "user") or {}
    if author.get("type") == "Bot" or str(author.get("login", "")).endswith("[bot]"):
        return "the comment was written by a bot"
    body = dig(payload, "comment", "body")
    if not isinstance(body, str) or not is_command(body):
        return "the comment is not a /merge-heads command"
    if not isinstance(dig(payload, "comment", "url"), str):
        raise ActionError("the issue_comment event payload has no comment.url")
    return None


def _command(ctx: ActionContext, session: Session, body: str) -> Outcome:
    login = str(dig(ctx.payload, "comment", "user", "login"))
    permission = _permission(session, login)
    if permission not in _WRITERS:
        return Outcome(
            EXIT_FAILED,
            "-1",
            f"@{login}: only collaborators with write access can run `/merge-heads` "
            f"(yours: {permission}).",
        )
    try:
        request = parse_command(body)
    except CommandError as error:
        return Outcome(EXIT_FAILED, "confused", usage_reply(error))
    return fix_pull_request(ctx, session, int(dig(ctx.payload, "issue", "number")), request)


def _permission(session: Session, login: str) -> str:
    """The commenter's role (a 404 means none), from `role_name` so that maintain counts."""

    def ask() -> str:
        from github import UnknownObjectException

        try:
            return session.repo.get_collaborator_role_name(login)
        except UnknownObjectException:
            return "none"

    return read(f"read {login}'s permission", ask)


def _react(comment: IssueComment, content: str) -> None:
    write(f"react {content} to the command", lambda: comment.create_reaction(content), "issues")


# --- the fix ---------------------------------------------------------------------------------


def fix_pull_request(
    ctx: ActionContext, session: Session, number: int, request: FixRequest
) -> Outcome:
    """Judge pull request `number` now and commit its fix; computed again once if the branch
    moves meanwhile."""
    pull = read(f"load pull request #{number}", lambda: session.repo.get_pull(number))
    if pull.state != "open":
        return Outcome(EXIT_FAILED, "confused", f"#{number} is {pull.state}: nothing to fix.")
    head_repository = pull.head.repo.full_name if pull.head.repo is not None else None
    fork = is_fork(head_repository, session.full_name)
    head_ref = f"refs/pull/{number}/head" if fork else f"refs/heads/{pull.head.ref}"
    local = replace(ctx, target=Target("issue_comment", pull.base.ref, head_ref, number, None))
    for attempt in (1, 2):
        result = evaluate(local, request.env)
        outcome = _fix_once(local, session, result, request, pull.head.ref if not fork else None)
        if outcome is not None:
            return outcome
        ctx.log.emit(f"alembic-heads-bot: {pull.head.ref} moved (attempt {attempt}); again")
    return Outcome(
        EXIT_FAILED,
        "confused",
        f"`{pull.head.ref}` kept moving while the bot worked on it, so it committed nothing. "
        "Comment `/merge-heads` again once the pushes are done.",
    )


def _fix_once(
    ctx: ActionContext,
    session: Session,
    result: ActionResult,
    request: FixRequest,
    branch: str | None,  # None: a fork's branch, which the bot cannot push to
) -> Outcome | None:
    """The outcome, or None when the branch moved before the commit landed."""
    verdict, target = result.verdict, ctx.target
    assert target is not None and verdict.commits is not None
    if verdict.conflicts:
        return Outcome(
            EXIT_FAILED, "confused", conflict_reply(verdict.conflicts, target.base_branch)
        )
    if not _needs_fix(verdict):
        return Outcome(EXIT_OK, "+1", "Nothing to merge: one head per stream once merged.")
    merges_base = verdict.commits.merge_base != result.base_sha
    try:
        changes = _plan(ctx, verdict, request, target.base_branch, result.base_sha)
    except FixRefused as refusal:
        return Outcome(EXIT_FAILED, "confused", f"Cannot fix this: {refusal}")
    if branch is None:
        return Outcome(
            EXIT_FAILED, "confused", fork_reply(changes, target.base_branch, merges_base)
        )
    fix = FixCommit(
        branch=branch,
        head_sha=result.head_sha,
        base_sha=result.base_sha,
        merged_tree=verdict.commits.merged_tree or "",
        merges_base=merges_base,
        changes=changes,
        message=commit_message(changes, target.base_branch, merges_base, result.head_sha),
    )
    try:
        sha = commit_fix(ctx.git, _writer(ctx, session), fix)
    except BranchMoved:
        return None
    return _after_commit(ctx, session, sha, changes, merges_base)


def _needs_fix(verdict: Verdict) -> bool:
    """Whether an environment the verdict judged (the one `--env` chose, or all) has a new
    head to join."""
    return any(e.merge_plan is not None and e.new_heads for e in verdict.environments)


def _plan(
    ctx: ActionContext, verdict: Verdict, request: FixRequest, base_branch: str, base_sha: str
) -> list[FileChange]:
    """The fix on the merged tree, with the base tip's template and configuration."""
    assert verdict.commits is not None and verdict.commits.merged_tree
    with open_repo(ctx.repository) as repo:
        merged = GitTree(repo, verdict.commits.merged_tree)
        base = GitTree(repo, base_sha)
        inputs = fix_inputs()
        return plan_fix(merged, request, verdict, verdict, base, base_branch, inputs, merged=True)


def _writer(ctx: ActionContext, session: Session) -> Repository:
    """The repository as the fix-token sees it (so the push starts workflows), or as the
    workflow token does."""
    if not ctx.settings.fix_token:
        return session.repo
    return connect(ctx.api_url, ctx.settings.fix_token).get_repo(session.full_name)


def _after_commit(
    ctx: ActionContext, session: Session, sha: str, changes: list[FileChange], merges_base: bool
) -> Outcome:
    """Judge the new commit, set its status and the sticky comment, and say what was done."""
    target = ctx.target
    assert target is not None and target.number is not None
    result = evaluate(ctx)  # fetches the branch again: now at the fix commit
    publish_local(ctx, result)
    failures = report(session, result, target.number)
    say_failures(ctx, failures)
    link = f"[{sha[:12]}]({ctx.server_url}/{session.full_name}/commit/{sha})"
    files = ", ".join(f"`{c.path}`" for c in changes)
    merged = f" (with `{target.base_branch}` merged in)" if merges_base else ""
    notes = [n for c in changes for n in c.notes]
    reply = f"Committed {link}{merged}: {files}." + "".join(f"\n- {n}" for n in notes)
    return Outcome(EXIT_ERROR if failures else EXIT_OK, "rocket", reply)


# --- auto-fix --------------------------------------------------------------------------------


def publish_and_fix(ctx: ActionContext, result: ActionResult) -> bool:
    """The publisher for pull-request events: publish, then with `auto-fix` commit the fix,
    both through one session."""
    why = _no_auto_fix(ctx, result)
    if why is not None:
        published = publish(ctx, result)
        if ctx.settings.auto_fix:
            ctx.log.emit(f"alembic-heads-bot: no auto-fix: {why}")
        return published
    session = open_session(ctx)
    if session is None:  # no token: nothing can be posted or committed (said once)
        return False
    published = publish(ctx, result, session)
    assert ctx.target is not None and ctx.target.number is not None
    try:
        outcome = fix_pull_request(ctx, session, ctx.target.number, FixRequest())
    except ApiFailure as failure:
        say_failures(ctx, [str(failure)])
        return False
    ctx.log.emit(f"alembic-heads-bot: auto-fix: {outcome.reply}")
    return published and outcome.code == EXIT_OK


def _no_auto_fix(ctx: ActionContext, result: ActionResult) -> str | None:
    target = ctx.target
    if not ctx.settings.auto_fix or target is None or target.event not in _PULL_REQUEST_EVENTS:
        return "auto-fix is off" if not ctx.settings.auto_fix else "not a pull request"
    if not any(e.new_heads for e in result.verdict.environments):
        return "no new head"
    if ctx.is_fork:
        return "the pull request comes from a fork"
    message = ctx.git.text("log", "-1", "--format=%B", HEAD_REF)
    if f"\n{TRAILER}: " in message:
        return "the head commit is the bot's own fix"
    return None
