"""The inputs the shell gives the pure fix planning."""

from __future__ import annotations

from alembic_heads_bot.app.fix_inputs import fix_inputs, new_revision_id
from alembic_heads_bot.templates import generic_template


def test_new_revision_id_looks_like_alembics() -> None:
    ids = {new_revision_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 12 and set(i) <= set("0123456789abcdef") for i in ids)


def test_fix_inputs_carry_a_fresh_id_the_utc_clock_and_the_shipped_template() -> None:
    first, second = fix_inputs(), fix_inputs()
    assert first.rev_id != second.rev_id
    assert first.now.utcoffset() is not None and first.now.utcoffset().total_seconds() == 0
    assert first.builtin_template == generic_template()
