"""The merge-migration template the bot ships: Alembic's `generic` script.py.mako."""

from pathlib import Path

GENERIC_TEMPLATE = Path(__file__).with_name("generic.py.mako")


def generic_template() -> bytes:
    """The built-in template's text, for environments whose own template cannot be used."""
    # Package data next to this module (importlib.resources trips over editable installs).
    return GENERIC_TEMPLATE.read_bytes()
