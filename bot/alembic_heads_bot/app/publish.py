"""The Action's GitHub side: the status on the judged commit and the sticky comment.

Runs after the job summary, outputs and annotations are written, so a refusal here loses
nothing. Each part is tried on its own (a failed status does not stop the comment); every
failure is one `::error::` line saying what and why, and the step then exits 2 whatever the
verdict, because a required status that was not set would otherwise block the pull request
without a word.

When the run fails before the verdict is published (git, the analysis, a bug),
`publish_failure` still sets the status, failing, with the reason: a required check never
stays pending.
"""

from __future__ import annotations

from dataclasses import dataclass

from github import Github
from github.Repository import Repository

from alembic_heads_bot.adapters.git import GitError
from alembic_heads_bot.adapters.github.client import ApiFailure, connect
from alembic_heads_bot.adapters.github.identity import Identity
from alembic_heads_bot.adapters.github.statuses import (
    StatusOutcome,
    set_check_run,
    set_commit_status,
)
from alembic_heads_bot.adapters.github.sticky import CommentOutcome, sync_comment
from alembic_heads_bot.app.context import HEAD_REF, ActionContext, ActionResult
from alembic_heads_bot.engine.forecast import with_forecast
from alembic_heads_bot.engine.merge_command import COMMAND
from alembic_heads_bot.engine.report.check_run import (
    DESCRIPTION_LIMIT,
    CheckOutput,
    check_output,
    status_description,
    status_state,
)
from alembic_heads_bot.engine.report.comment import comment_body, worth_a_comment
from alembic_heads_bot.engine.report.escape import code_block


@dataclass(frozen=True)
class Session:
    """A connection to the repository the job runs for, and the bot's identity on it."""

    ctx: ActionContext
    gh: Github
    full_name: str
    repo: Repository  # lazy: its attributes other than the url would cost a request
    identity: Identity


def publish(ctx: ActionContext, result: ActionResult, session: Session | None = None) -> bool:
    """Set the status and the comment as the inputs ask; False when something failed. A run
    that has a session already passes it, so that one run connects once."""
    settings, target = ctx.settings, ctx.target
    assert target is not None, "publish runs only for a judged event"
    wants_comment = target.number is not None and settings.comment != "never"
    if settings.status == "none" and not wants_comment:
        return True
    if ctx.event_name == "pull_request" and ctx.is_fork:  # a read-only token
        ctx.log.notice(
            "alembic-heads-bot: no comment and no status: this pull request comes from a fork "
            "and the pull_request event gives it a read-only token. The verdict is in the job "
            "summary, the annotations and the exit code; run the workflow on "
            "pull_request_target, as the shipped one does, to have them posted (README: "
            "Fork pull requests)."
        )
        return True
    session = session or open_session(ctx)
    if session is None:
        return False
    return say_failures(ctx, report(session, result, target.number))


def open_session(ctx: ActionContext) -> Session | None:
    """Connect with the github-token input; None (and an error line) without a token."""
    full_name = ctx.repository_name
    if not ctx.settings.token or not full_name:
        missing = "the github-token input" if not ctx.settings.token else "GITHUB_REPOSITORY"
        ctx.log.error(f"alembic-heads-bot: {missing} is empty: nothing was posted")
        return None
    gh = connect(ctx.api_url, ctx.settings.token)
    return Session(ctx, gh, full_name, gh.get_repo(full_name), Identity(gh))


def report(session: Session, result: ActionResult, number: int | None) -> list[str]:
    """Set the status on result.head_sha and, for pull request `number`, the sticky comment;
    the failures, in words. Each part is tried whatever became of the other."""
    ctx, settings = session.ctx, session.ctx.settings
    failures: list[str] = []
    if settings.status != "none":
        try:
            outcome = _set_status(ctx, result, session.repo)
            session.identity.learn(outcome.login)
        except ApiFailure as failure:
            failures.append(str(failure))
    if number is not None and settings.comment != "never":
        try:
            done = sync_comment(
                session.repo.get_issue(number),
                number,
                settings.status_name,
                lambda previous: _body(ctx, result, previous),
                open_new=worth_a_comment(result.verdict, settings.comment) or bool(result.forecast),
                identity=session.identity,
            )
            _say_comment(ctx, done)
        except ApiFailure as failure:
            failures.append(str(failure))
    return failures


def say_failures(ctx: ActionContext, failures: list[str]) -> bool:
    for failure in failures:
        ctx.log.error(f"alembic-heads-bot: {failure}")
    return not failures


def _set_status(ctx: ActionContext, result: ActionResult, repo: Repository) -> StatusOutcome:
    settings, verdict = ctx.settings, result.verdict
    run_url = ctx.run_url
    if settings.status == "check-run":
        output = check_output(
            verdict, result.sides, result.exit_code, result.link, run_url,
            rendered=result.markdown, found=result.findings,
        )  # fmt: skip
        outcome = set_check_run(repo, settings.status_name, result.head_sha, output, run_url)
        state = output.conclusion
    else:
        state = status_state(result.exit_code)
        description = status_description(verdict, result.sides)
        outcome = set_commit_status(
            repo, settings.status_name, result.head_sha, state, description, run_url
        )
    ctx.log.untrusted(
        f"alembic-heads-bot: {settings.status} {settings.status_name!r} set to {state} on "
        f"{result.head_sha}"
    )
    return outcome


def publish_failure(ctx: ActionContext, reason: str) -> bool:
    """A failing status on the head of the target that could not be judged, saying why;
    False when it could not be set (and said so). Nothing for a fork's read-only token or
    with `status: none`."""
    target = ctx.target
    assert target is not None, "publish_failure runs only for an event with a target"
    if ctx.settings.status == "none" or (ctx.event_name == "pull_request" and ctx.is_fork):
        return True
    sha = target.event_head_sha or _fetched_head(ctx)
    if sha is None:
        ctx.log.error("alembic-heads-bot: no failing status either: the head commit is unknown")
        return False
    session = open_session(ctx)
    if session is None:
        return False
    try:
        _set_failure(ctx, session.repo, sha, reason)
    except ApiFailure as failure:
        return say_failures(ctx, [str(failure)])
    return True


# "Not checked" first: the title is what the pull request's checks list shows.
FAILURE_TITLE = "Not checked: alembic-heads-bot could not judge this change"


def _set_failure(ctx: ActionContext, repo: Repository, sha: str, reason: str) -> None:
    name = ctx.settings.status_name
    if ctx.settings.status == "check-run":
        output = CheckOutput("failure", FAILURE_TITLE, _failure_summary(reason, ctx.run_url), ())
        set_check_run(repo, name, sha, output, ctx.run_url)
    else:
        line = " ".join(f"Not checked: {reason}".split())
        if len(line) > DESCRIPTION_LIMIT:
            line = line[: DESCRIPTION_LIMIT - 1].rstrip() + "…"
        set_commit_status(repo, name, sha, "failure", line, ctx.run_url)
    ctx.log.untrusted(
        f"alembic-heads-bot: {ctx.settings.status} {name!r} set to failure on {sha}: the run failed"
    )


_REASON_LIMIT = 60_000  # characters of the reason in a check run's summary (65,535 in all)


def _failure_summary(reason: str, run_url: str | None) -> str:
    lines = [
        "The check stopped before it could judge the migrations, so it fails rather than "
        "leave the pull request waiting:",
        "",
        code_block(reason[:_REASON_LIMIT], "text"),
    ]
    if run_url:
        lines += ["", f"The job log says more: {run_url}"]
    return "\n".join(lines)


def _fetched_head(ctx: ActionContext) -> str | None:
    """The head this run fetched, when the payload named none (a merge group without one)."""
    try:
        return ctx.git.rev_parse(HEAD_REF) or None
    except GitError:
        return None


def _body(ctx: ActionContext, result: ActionResult, previous: str | None) -> str:
    report = comment_body(
        result.verdict,
        result.sides,
        status_name=ctx.settings.status_name,
        previous=previous,
        link=result.link,
        command=COMMAND,
        full_report=ctx.run_url,
    )
    return with_forecast(report, result.forecast)  # its own section (app.forecast)


def _say_comment(ctx: ActionContext, done: CommentOutcome) -> None:
    if done.action == "none":
        ctx.log.emit("alembic-heads-bot: nothing to report, so no pull-request comment")
    else:
        ctx.log.untrusted(f"alembic-heads-bot: pull-request comment {done.action}: {done.url}")
