"""The GitHub Action's entry point: the runner's environment in, one handler per event, an exit
code out.

    ctx = prepare(environ)              # inputs, event, workspace; no git yet (app.events)
    if ctx.skip: notice, exit 0         # an event or activity this action does not judge
    exit ROUTES[event](ctx)             # the event's handler does the work

The routing table is the only place that knows which module handles which event:
`pull_request`, `pull_request_target` and `merge_group` are judged (app.pull_request) and
published (app.publish, with the opt-in auto-fix of app.merge_heads); `issue_comment` is the
`/merge-heads` command (app.merge_heads); `push` re-checks open pull requests (app.recheck).

Every failure becomes one `::error::` line and exit code 2, never a traceback; the tokens are
masked in the log before anything else is written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TextIO

from alembic_heads_bot.adapters.git import basic_credentials
from alembic_heads_bot.adapters.runner import WorkflowLog, get_input
from alembic_heads_bot.app import pull_request
from alembic_heads_bot.app.context import EXIT_ERROR, EXIT_OK, Handler, Publisher
from alembic_heads_bot.app.events import prepare
from alembic_heads_bot.engine.errors import CannotJudge

JUDGED_EVENTS = ("pull_request", "pull_request_target", "merge_group")


def main() -> int:
    """The container's entry point (`alembic-heads-bot action`)."""
    # The GitHub side is imported here, not at the top: the CLI's other commands never pay
    # for PyGithub.
    from alembic_heads_bot.app.merge_heads import handle_comment, publish_and_fix
    from alembic_heads_bot.app.recheck import handle_push

    routes = {"issue_comment": handle_comment, "push": handle_push}
    return run_action(os.environ, publish=publish_and_fix, handlers=routes)


def run_action(
    environ: Mapping[str, str],
    *,
    publish: Publisher | None = None,
    handlers: Mapping[str, Handler] | None = None,
    stream: TextIO | None = None,
) -> int:
    """Prepare, then hand the event to its handler; the step's exit code (0 pass, 1 fail,
    2 error). Judged events go to `app.pull_request.handle` with `publish` (None: nothing is
    posted); `handlers` route the others."""
    log = WorkflowLog(stream if stream is not None else sys.stdout)
    secrets = _secrets(get_input(environ, "github-token"), get_input(environ, "fix-token"))
    for secret in secrets:
        log.add_mask(secret)
    routes: dict[str, Handler] = dict.fromkeys(
        JUDGED_EVENTS, partial(pull_request.handle, publish=publish)
    )
    routes.update(handlers or {})
    try:
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
        log.error(_scrub(f"alembic-heads-bot: {exc}", secrets))
    except OSError as exc:  # a runner file that cannot be written, a full disk
        log.error(_scrub(f"alembic-heads-bot: {exc}", secrets))
    except Exception as exc:  # the job log gets one line, never a traceback
        log.error(
            _scrub(f"alembic-heads-bot: internal error: {type(exc).__name__}: {exc}", secrets)
        )
    return EXIT_ERROR


def _secrets(*tokens: str) -> tuple[str, ...]:
    return tuple(s for token in tokens if token for s in (token, basic_credentials(token)))


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
