"""On a push to a branch: re-check the open pull requests into it (issue 6; not built yet)."""

from __future__ import annotations

from bot.action import EXIT_OK, ActionContext


def handle_push(ctx: ActionContext) -> int:
    ctx.log.notice("alembic-heads-bot: push events are not handled by this version; nothing to do")
    return EXIT_OK
