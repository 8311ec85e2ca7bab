"""`/merge-heads` in a pull-request comment, and the opt-in auto-fix: commit the fix.

The command: 👀 at once; the commenter's permission is asked of the API (write, maintain or
admin; `author_association` is not trusted); the pull request is loaded (the comment event has
no shas), its branch and the current base tip are fetched and judged, and the fix is committed
(see fixcommit). Then the bot sets its own status on the new commit and updates the sticky
comment, because a commit made with the workflow's token starts no workflow. It ends with 🚀,
👍 (nothing to do), 👎 (not allowed) or 😕 and a reply saying why.

No command ends silently: whatever fails on the way (GitHub, also when tried again; git; the
analysis; a bug) ends with a reply saying what failed and 😕, and one `::error::` line in the
job log. A reply too long for a comment is shortened, never dropped.

Exit codes: 0 done or nothing to do, 1 refused (the reply says why), 2 GitHub or git failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from github.IssueComment import IssueComment
from github.Repository import Repository

from alembic_heads_bot.adapters.git import GitError, GitTree, open_repo
from alembic_heads_bot.adapters.github.client import ApiFailure, connect, read
from alembic_heads_bot.adapters.github.git_data import BranchMoved, FixCommit, commit_fix
from alembic_heads_bot.adapters.github.replies import REPLY_ROOM, post_reply, react
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
    scrub,
)
from alembic_heads_bot.app.fix_inputs import fix_inputs
from alembic_heads_bot.app.publish import (
    Session,
    open_session,
    publish,
    report,
    say_failures,
)
from alembic_heads_bot.app.pull_request import evaluate, publish_local
from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.fix.plan import FileChange, FixRefused, FixRequest, plan_fix
from alembic_heads_bot.engine.merge_command import (
    COMMAND,
    TRAILER,
    CommandError,
    commit_message,
    conflict_reply,
    fork_reply,
    is_command,
    parse_command,
    usage_reply,
)
from alembic_heads_bot.engine.report.escape import code_block, code_list, inline_code, prose
from alembic_heads_bot.engine.scan import EnvironmentNotFound

_WRITERS = ("admin", "maintain", "write")
_PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


@dataclass(frozen=True)
class Outcome:
    code: int
    reaction: str  # the reaction that closes the command
    reply: str | None  # the reply comment, when there is something to say


# --- the comment command ---------------------------------------------------------------------


# The work a command does once it is known to be one: the outcome to say. Any exception it
# raises is turned into a 😕 and a reply saying what failed.
Command = Callable[[ActionContext, Session, str], Outcome]


def handle_comment(ctx: ActionContext, command: Command | None = None) -> int:
    why = _not_a_command(ctx)
    if why is not None:
        ctx.log.notice(f"alembic-heads-bot: {why}; nothing to do")
        return EXIT_OK
    session = open_session(ctx)
    if session is None:
        return EXIT_ERROR
    comment = IssueComment(session.gh.requester, url=dig(ctx.payload, "comment", "url"))
    body, work = dig(ctx.payload, "comment", "body"), command or _command

    def started() -> Outcome:
        react(comment, "eyes", session.identity)
        return work(ctx, session, body)

    outcome = attempt(ctx, started)
    say_outcome(ctx, "/merge-heads", outcome)
    failures = []
    if outcome.reply is not None:
        number = int(dig(ctx.payload, "issue", "number"))
        try:
            post_reply(
                session.repo.get_issue(number), number, fit_reply(outcome.reply), session.identity
            )
        except ApiFailure as failure:
            failures.append(str(failure))
    try:
        react(comment, outcome.reaction, session.identity)
    except ApiFailure as failure:
        failures.append(str(failure))
    say_failures(ctx, failures)
    return EXIT_ERROR if failures else outcome.code


def attempt(ctx: ActionContext, work: Callable[[], Outcome]) -> Outcome:
    """`work()`'s outcome, or, whatever it raised, a 😕 and a reply saying what failed (the
    tokens scrubbed: the reply is public)."""
    try:
        outcome = work()
    except EnvironmentNotFound as error:  # --env NAME names nothing: the commenter's mistake
        outcome = Outcome(
            EXIT_FAILED, "confused", f"Cannot fix this:\n\n{code_block(str(error), 'text')}"
        )
    except Exception as exc:  # said where the command was asked, not only in the log
        reason = failure_reason(exc)
        outcome = Outcome(
            EXIT_ERROR, "confused", f"`{COMMAND}` failed:\n\n{code_block(reason, 'text')}"
        )
    if outcome.reply is None:
        return outcome
    return replace(outcome, reply=scrub(outcome.reply, ctx.secrets))


def failure_reason(exc: Exception) -> str:
    """What failed, in words: GitHub's failures (also when asked again) and git's or the
    analysis's (CannotJudge) say it themselves; anything else is a bug."""
    if isinstance(exc, (ApiFailure, CannotJudge)):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


def say_outcome(ctx: ActionContext, what: str, outcome: Outcome) -> None:
    """The reply in the job log too: as the step's one error line when it did not succeed."""
    if outcome.reply is None:
        return
    if outcome.code == EXIT_OK:
        ctx.log.untrusted(f"alembic-heads-bot: {what}: {outcome.reply}")
    else:
        ctx.log.error(f"alembic-heads-bot: {what}: {outcome.reply}")


_SHORTENED = "\n\n… (shortened to fit in a GitHub comment; the job log has all of it)"


def fit_reply(text: str, room: int = REPLY_ROOM) -> str:
    """`text`, or as much of it as fits in `room` characters with a note that it was cut, its
    open code block closed."""
    if len(text) <= room:
        return text
    keep = room - len(_SHORTENED)
    while True:
        cut = text[:keep]
        newline = cut.rfind("\n")
        if newline > keep // 2:  # end on a whole line when that loses little
            cut = cut[:newline]
        closing = _closing(cut)
        if len(cut) + len(closing) + len(_SHORTENED) <= room:
            return cut + closing + _SHORTENED
        keep -= len(closing)


def _closing(text: str) -> str:
    """What closes the code block or inline code span left open at the end of `text`."""
    fence: str | None = None
    last = ""
    for line in text.split("\n"):
        opened = re.match(r" {0,3}(`{3,}|~{3,})", line)
        if opened is None:
            last = line
            continue
        run = opened.group(1)
        if fence is None:
            fence = run
        elif run[0] == fence[0] and len(run) >= len(fence) and line.strip() == run:
            fence = None
        last = ""
    if fence is not None:
        return f"\n{fence}"
    return "`" if last.count("`") % 2 else ""


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
    number = dig(payload, "issue", "number")
    if not isinstance(number, int) or isinstance(number, bool):
        raise ActionError("the issue_comment event payload has no issue.number (int expected)")
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
    for tries in (1, 2):
        result = evaluate(local, request.env)
        outcome = _fix_once(local, session, result, request, pull.head.ref if not fork else None)
        if outcome is not None:
            return outcome
        ctx.log.untrusted(f"alembic-heads-bot: {pull.head.ref} moved (attempt {tries}); again")
    return Outcome(
        EXIT_FAILED,
        "confused",
        f"{inline_code(pull.head.ref)} kept moving while the bot worked on it, so it committed "
        "nothing. "
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
        said = code_block(str(refusal), "text")  # it quotes ids and paths from the branch
        return Outcome(EXIT_FAILED, "confused", f"Cannot fix this:\n\n{said}")
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
    """Judge the new commit, set its status and the sticky comment, and say what was done (and
    what of this failed: the commit stands either way)."""
    target = ctx.target
    assert target is not None and target.number is not None
    try:
        result = evaluate(ctx)  # fetches the branch again: now at the fix commit
        publish_local(ctx, result)
        failures = report(session, result, target.number)
    except Exception as exc:
        failures = [failure_reason(exc)]
    link = f"[{sha[:12]}]({ctx.server_url}/{session.full_name}/commit/{sha})"
    files = code_list(c.path for c in changes)
    merged = f" (with {inline_code(target.base_branch)} merged in)" if merges_base else ""
    notes = [prose(n) for c in changes for n in c.notes]
    reply = f"Committed {link}{merged}: {files}." + "".join(f"\n- {n}" for n in notes)
    if failures:  # said in the reply, which the log gets as an error line (say_outcome)
        reply += "\n\nBut the bot could not set the new commit's status and comment:\n\n"
        reply += code_block("\n".join(failures), "text")
    return Outcome(EXIT_ERROR if failures else EXIT_OK, "rocket", reply)


# --- auto-fix --------------------------------------------------------------------------------


def publish_and_fix(ctx: ActionContext, result: ActionResult) -> bool:
    """The publisher for pull-request events: publish, then with `auto-fix` commit the fix,
    both through one session. Whatever the fix runs into is said in the log (one `::error::`
    line) and fails the step; it never undoes what was published."""
    why = _no_auto_fix(ctx, result)
    if why is not None:
        published = publish(ctx, result)
        if ctx.settings.auto_fix:
            ctx.log.untrusted(f"alembic-heads-bot: no auto-fix: {why}")
        return published
    session = open_session(ctx)
    if session is None:  # no token: nothing can be posted or committed (said once)
        return False
    published = publish(ctx, result, session)
    target = ctx.target
    assert target is not None and target.number is not None
    number = target.number
    outcome = attempt(ctx, lambda: fix_pull_request(ctx, session, number, FixRequest()))
    say_outcome(ctx, "auto-fix", outcome)
    return published and outcome.code == EXIT_OK


def _no_auto_fix(ctx: ActionContext, result: ActionResult) -> str | None:
    target = ctx.target
    if not ctx.settings.auto_fix or target is None or target.event not in _PULL_REQUEST_EVENTS:
        return "auto-fix is off" if not ctx.settings.auto_fix else "not a pull request"
    if not any(e.new_heads for e in result.verdict.environments):
        return "no new head"
    if ctx.is_fork:
        return "the pull request comes from a fork"
    try:
        message = ctx.git.text("log", "-1", "--format=%B", HEAD_REF)
    except GitError as error:
        return f"cannot tell whether the head is the bot's own fix: {error}"
    if f"\n{TRAILER}: " in message:
        return "the head commit is the bot's own fix"
    return None
