"""alembic-heads-bot: catch Alembic multiple heads before the merge, statically."""

__version__ = "0.1.0"
