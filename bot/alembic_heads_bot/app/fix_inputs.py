"""What a fix run gives the pure fix planning: the clock, a random id, the shipped template."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from alembic_heads_bot.engine.fix.plan import FixInputs
from alembic_heads_bot.templates import generic_template


def new_revision_id() -> str:
    """A fresh id exactly as Alembic makes one (`util.rev_id`): 12 lowercase hex digits."""
    return uuid.uuid4().hex[-12:]


def fix_inputs() -> FixInputs:
    """The inputs of a fix made now."""
    return FixInputs(datetime.now(timezone.utc), new_revision_id(), generic_template())
