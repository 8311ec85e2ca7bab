"""The bot config's `databases` -> what each has applied (a shell: environment variables and
database connections in, `engine.deployed.DatabaseState` out).

Each database is read once, read-only, with a timeout (`adapters.version_table`). Whatever
goes wrong (an unset variable, an unknown environment, a refused connection) becomes the
state's `error`, worded so that it can be published: the URL is never shown, only the
database's name and the variable that should hold it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from alembic_heads_bot.engine.alembic_config import Discovery, select
from alembic_heads_bot.engine.bot_config import DatabaseSpec
from alembic_heads_bot.engine.deployed import DatabaseState, table_name
from alembic_heads_bot.engine.model import Environment

DEFAULT_TIMEOUT = 10.0


class DatabaseReader:
    """Reads the configured databases, each at most once: a run that judges many pull requests
    (or one against two base commits) opens one connection per database, not one per verdict.
    """

    def __init__(self, environ: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.environ = environ
        self.timeout = timeout
        self._read: dict[tuple[str, str, str | None, str], DatabaseState] = {}

    def read(
        self, specs: Sequence[DatabaseSpec], environments: Sequence[Environment]
    ) -> tuple[DatabaseState, ...]:
        """Every configured database, in the order the config lists them."""
        return tuple(self._state(spec, environments) for spec in specs)

    def _state(self, spec: DatabaseSpec, environments: Sequence[Environment]) -> DatabaseState:
        env, error = _environment_of(spec, environments)
        if env is None:
            return DatabaseState(spec.name, None, error=error)
        table = spec.version_table or env.version_table
        schema = spec.version_table_schema or env.version_table_schema
        shown = table_name(table, schema)
        url = self.environ.get(spec.url_env, "").strip()
        if not url:
            return DatabaseState(spec.name, env.name, error=_unset(spec), table=shown)
        key = (url, table, schema, env.name)
        if key not in self._read:
            self._read[key] = self._connect(spec.name, env.name, url, table, schema, shown)
        state = replace(self._read[key], name=spec.name)
        if state.rows is None and state.error is None and spec.version_table is None:
            return replace(state, error=_guessed(env, shown))
        return state

    def _connect(
        self, name: str, env: str, url: str, table: str, schema: str | None, shown: str
    ) -> DatabaseState:
        # Imported here: SQLAlchemy takes longer to import than a check of a few hundred
        # revisions takes, and most checks read no database.
        from alembic_heads_bot.adapters.version_table import DatabaseUnreadable, read_applied

        try:
            rows = read_applied(url, table, schema, timeout=self.timeout)
        except DatabaseUnreadable as exc:
            return DatabaseState(name, env, error=f"cannot read it: {exc}", table=shown)
        return DatabaseState(name, env, rows, table=shown)


def _environment_of(
    spec: DatabaseSpec, environments: Sequence[Environment]
) -> tuple[Environment | None, str]:
    names = ", ".join(env.name for env in environments) or "none found"
    if spec.environment is None:
        if len(environments) == 1:
            return environments[0], ""
        return None, (
            f"the repository has several Alembic environments ({names}); name the one this "
            "database records with `environment:` in its databases entry."
        )
    env = select(Discovery(tuple(environments)), spec.environment)
    if env is None:
        return None, f"no single Alembic environment matches {spec.environment!r} ({names})."
    return env, ""


def _guessed(env: Environment, shown: str) -> str | None:
    """No version table where env.py was read as naming it: when that reading was a guess,
    the database may well be fine and the guess wrong."""
    if not env.version_table_problems:
        return None
    why = env.version_table_problems[0].message
    return f"it has no {shown} table, and the name is a guess: {why}"


def _unset(spec: DatabaseSpec) -> str:
    return (
        f"the variable {spec.url_env} is not set. Pass it from a secret in the workflow step's "
        "`env:`; workflows started from forks get no secrets."
    )
