"""The GitHub Action's entry point: the runner's environment in, one handler per event, an exit
code out.

    ctx = prepare(environ)              # inputs, event, workspace; no git yet (app.events)
    if ctx.skip: notice, exit 0         # an event or activity this action does not judge
    exit ROUTES[event](ctx)             # the event's handler does the work

The routing table is the only place that knows which module handles which event:
`pull_request`, `pull_request_target` and `merge_group` are judged (app.pull_request) and
published (app.publish, with the opt-in auto-fix of app.merge_heads); `issue_comment` is the
`/merge-heads` command (app.merge_heads); `push` re-checks open pull requests (app.recheck).

Every failure becomes one `::error::` line and exit code 2, never a traceback; when the event
has a target, its head still gets a failing status saying why (`report_failure`), so that a
required check never stays pending. The tokens are masked in the log before anything else is
written, and refused (by the input's name, never shown) when they hold a line break or another
character no token has.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Callable, Mapping
from functools import partial
from typing import TextIO

from alembic_heads_bot.adapters.runner import (
    InputError,
    WorkflowLog,
    append_summary,
    get_input,
    write_outputs,
)
from alembic_heads_bot.app import pull_request
from alembic_heads_bot.app.context import (
    EXIT_ERROR,
    EXIT_OK,
    ActionContext,
    Handler,
    Publisher,
    scrub,
    secret_forms,
)
from alembic_heads_bot.app.events import prepare
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.report.escape import code_block

TOKEN_INPUTS = ("github-token", "fix-token")
# Sets a failing status on the target's head with the reason; False when it could not.
FailureReporter = Callable[[ActionContext, str], bool]

JUDGED_EVENTS = ("pull_request", "pull_request_target", "merge_group")


def main() -> int:
    """The container's entry point (`alembic-heads-bot action`)."""
    # The GitHub side is imported here, not at the top: the CLI's other commands never pay
    # for PyGithub.
    from alembic_heads_bot.app.fix_base import handle_push, handle_schedule
    from alembic_heads_bot.app.forecast import with_forecast
    from alembic_heads_bot.app.merge_heads import handle_comment, publish_and_fix
    from alembic_heads_bot.app.publish import publish_failure

    routes = {"issue_comment": handle_comment, "push": handle_push}
    routes |= {"schedule": handle_schedule, "workflow_dispatch": handle_schedule}
    return run_action(
        os.environ,
        publish=with_forecast(publish_and_fix),
        handlers=routes,
        report_failure=publish_failure,
    )


def run_action(
    environ: Mapping[str, str],
    *,
    publish: Publisher | None = None,
    handlers: Mapping[str, Handler] | None = None,
    stream: TextIO | None = None,
    report_failure: FailureReporter | None = None,
) -> int:
    """Prepare, then hand the event to its handler; the step's exit code (0 pass, 1 fail,
    2 error). Judged events go to `app.pull_request.handle` with `publish` (None: nothing is
    posted); `handlers` route the others. When something fails after the event named its
    target, `report_failure` (None: nothing) sets the failing status."""
    log = WorkflowLog(stream if stream is not None else sys.stdout)
    secrets = secret_forms(*(get_input(environ, name) for name in TOKEN_INPUTS))
    for secret in secrets:
        log.add_mask(secret)
    routes: dict[str, Handler] = dict.fromkeys(
        JUDGED_EVENTS, partial(pull_request.handle, publish=publish)
    )
    routes.update(handlers or {})
    ctx: ActionContext | None = None
    try:
        check_tokens(environ)
        ctx = prepare(environ, log)
        if ctx.skip is not None:
            log.notice(ctx.skip)
            return EXIT_OK
        handler = routes.get(ctx.event_name)
        if handler is None:
            log.notice(f"alembic-heads-bot: {ctx.event_name} events are not handled here")
            return EXIT_OK
        return handler(ctx)
    except CannotJudge as exc:
        reason = str(exc)
    except OSError as exc:  # a runner file that cannot be written, a full disk
        reason = str(exc)
    except Exception as exc:  # the job log gets one line, never a traceback
        reason = f"internal error: {type(exc).__name__}: {exc}"
    reason = scrub(reason, secrets)
    log.error(f"alembic-heads-bot: {reason}")
    if ctx is not None and ctx.target is not None:
        _not_checked(environ, log, reason)
        if report_failure is not None:
            _report(ctx, reason, report_failure, secrets)
    return EXIT_ERROR


def _report(
    ctx: ActionContext, reason: str, report_failure: FailureReporter, secrets: tuple[str, ...]
) -> None:
    try:
        report_failure(ctx, reason)
    except Exception as exc:  # still one line, and the step still exits 2
        text = f"alembic-heads-bot: no failing status either: {type(exc).__name__}: {exc}"
        ctx.log.error(scrub(text, secrets))


def _not_checked(environ: Mapping[str, str], log: WorkflowLog, reason: str) -> None:
    """`ok=false` among the outputs and "Not checked" in the job summary, for a target that
    was not judged: a later step that tests `ok`, or someone reading the run's page, must not
    take the silence of a run that checked nothing for a pass."""
    output_file = environ.get("GITHUB_OUTPUT")
    summary_file = environ.get("GITHUB_STEP_SUMMARY")
    try:
        if output_file:
            write_outputs(output_file, {"ok": "false"})
        if summary_file:
            # the reason may quote a pull request's paths: a code block shows it as text
            append_summary(summary_file, f"**Not checked:**\n\n{code_block(reason, 'text')}\n")
    except OSError as exc:  # the runner file itself may be what failed
        log.error(f"alembic-heads-bot: cannot write the outputs either: {exc.strerror or exc}")


def check_tokens(environ: Mapping[str, str]) -> None:
    """InputError naming the token input that holds a character no token has (surrounding
    whitespace is removed first, as from every input); the value is never shown, not even in
    part: it is a secret, and a line of it may not be masked."""
    for name in TOKEN_INPUTS:
        kind = _odd_character(get_input(environ, name))
        if kind is not None:
            raise InputError(
                f"input {name}: the token holds {kind}, which no token has; check the secret "
                "that sets it (the value is not shown)"
            )


def _odd_character(token: str) -> str | None:
    for char in token:
        if char in "\r\n\u2028\u2029\x85":
            return "a line break"
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return "a control character"
        if not char.isascii() or char.isspace():
            return "a space or a character that is not ASCII"
    return None
