"""The bot config's records: what `.github/alembic-heads.yml` says once read, and the rules
and outcomes a policy names.

`engine.bot_config` documents the file and loads it from a tree; `engine.bot_config_yaml` reads
its YAML text into these records. They live apart from both so that the YAML reader, which
`load_bot_config` imports only when the file exists, imports no module that imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BOT_CONFIG_PATH = ".github/alembic-heads.yml"

# What a rule does when it fires.
Outcome = Literal["fail", "warn", "ignore"]
Rule = Literal["new-heads", "problems", "hazards", "new-branch-points", "applied-revisions"]

VERDICTS: tuple[Outcome, ...] = ("fail", "warn", "ignore")
# What the bot does when a watched branch itself has several heads (app.fix_base).
FixBase = Literal["pull-request", "comment-only", "off"]
FIX_BASE: tuple[FixBase, ...] = ("pull-request", "comment-only", "off")
# A verdict's text -> the Outcome it names (narrows a str read from YAML or the command line).
OUTCOMES: dict[str, Outcome] = {outcome: outcome for outcome in VERDICTS}

# YAML key -> Policy field.
RULE_FIELDS: dict[Rule, str] = {
    "new-heads": "new_heads",
    "problems": "problems",
    "hazards": "hazards",
    "new-branch-points": "new_branch_points",
    "applied-revisions": "applied_revisions",
}

# What finding no Alembic environment at all does: stop the check (exit 2), or only warn.
NoEnvironmentOutcome = Literal["fail", "warn"]
NO_ENVIRONMENT: tuple[NoEnvironmentOutcome, ...] = ("fail", "warn")


@dataclass(frozen=True)
class EnvironmentSpec:
    """One environment named in the bot config (paths tree-relative, already normalised)."""

    name: str | None = None
    config: str | None = None
    section: str | None = None
    script_location: str | None = None
    version_locations: tuple[str, ...] | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Policy:
    """What each rule does when it fires: "fail", "warn" or "ignore"."""

    new_heads: Outcome = "fail"
    problems: Outcome = "fail"
    hazards: Outcome = "fail"
    new_branch_points: Outcome = "warn"
    applied_revisions: Outcome = "fail"
    ignore_codes: frozenset[str] = frozenset()


RULES: tuple[Rule, ...] = tuple(RULE_FIELDS)


@dataclass(frozen=True)
class DatabaseSpec:
    """One deployed database: its URL is read from the variable `url_env` when the bot runs.

    `version_table` and `version_table_schema` override what env.py configures (None: keep it).
    """

    name: str
    url_env: str
    environment: str | None = None
    version_table: str | None = None
    version_table_schema: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class BotConfig:
    environments: tuple[EnvironmentSpec, ...] = ()
    policy: Policy = Policy()
    databases: tuple[DatabaseSpec, ...] = ()
    no_environment: NoEnvironmentOutcome = "fail"
    fix_base: FixBase = "pull-request"
    fix_branches: tuple[str, ...] = ()  # watched besides the default branch
