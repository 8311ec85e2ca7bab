"""The `/merge-heads` comment command (issue 5; not built yet)."""

from __future__ import annotations

from bot.action import EXIT_OK, ActionContext


def handle_comment(ctx: ActionContext) -> int:
    ctx.log.notice(
        "alembic-heads-bot: issue_comment events are not handled by this version; nothing to do"
    )
    return EXIT_OK
