"""The bot's own optional configuration file, `.github/alembic-heads.yml`.

Every key is optional; an absent file means "discover environments, default policy".

    environments:          # name the Alembic environments instead of discovering them
      - config: services/billing/alembic.ini   # an .ini or pyproject.toml to load
        section: billing                       # ini section (default: every section that
                                               # sets script_location)
        name: billing                          # what reports show and --env selects
      - script_location: legacy/migrations     # a script directory, default settings
        version_locations:                     # default: <script_location>/versions
          - legacy/migrations/versions
          - legacy/plugins/versions
      - config: app/migrations/alembic.ini     # Flask-Migrate: the ini names no script
        script_location: app/migrations        # directory, the app sets it in code
    policy:
      new-heads: fail          # fail | warn | ignore, for each rule
      problems: fail
      hazards: fail
      new-branch-points: warn
      ignore: [duplicate-file] # problem codes never reported
      applied-revisions: fail  # a PR edits a revision a named database applied
    no-environment: fail   # fail (default): no Alembic environment found stops the check
                           # (exit 2, "not checked"); warn: a warning, for a repository
                           # that runs the workflow before its first migration
    databases:             # deployed databases whose applied revisions the verdict weighs
      - name: production                   # what reports show (never the URL)
        url_env: PRODUCTION_DATABASE_URL   # the environment variable holding the URL
        environment: alembic.ini           # needed when the repository has several
        version_table: alembic_version     # default: what env.py configures, else Alembic's
        version_table_schema: public
    fix-base: pull-request # when a watched branch itself gets several heads (a race, a
                           # direct push): pull-request (a fix pull request), comment-only
                           # (a failing check and a comment on the pushed commit), off
    fix-branches: [release-1.x]   # watched besides the default branch

An entry needs `config`, `script_location` or both; with both, `script_location` overrides the
file's value the way `Config.set_main_option` does. `version_locations` replaces what the
config says. Every path here is relative to the repository root. When `environments` is a
non-empty list, only those environments are checked and the tree is not scanned.

Unknown keys, wrong types and bad values are `config-error` problems with the line they sit on;
the rest of the file still applies. A database URL is never written in this file (it would be
public and hold a password): `url_env` names the variable the workflow fills from a secret.

YAML anchors and aliases may share a value between entries (`version_locations: *shared`).
Reading is bounded whatever the file holds (`engine.bot_config_yaml`, which reads it): a file
over `MAX_BYTES`, collections nested more than `MAX_DEPTH` deep, aliases that would expand to
more than `MAX_ALIAS_NODES` nodes (a "billion laughs" file) or that contain themselves are a
`config-error` on the line where the bound is crossed, and the file is not used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from alembic_heads_bot.engine.errors import PolicyError
from alembic_heads_bot.engine.model import Problem
from alembic_heads_bot.engine.tree import Tree

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
_RULE_NAMES: dict[str, Rule] = {rule: rule for rule in RULE_FIELDS}

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


def with_overrides(policy: Policy, overrides: Mapping[str, str]) -> Policy:
    """`policy` with some rules set from the command line (rule name -> fail|warn|ignore)."""
    rules: dict[str, Any] = {
        attribute: getattr(policy, attribute) for attribute in RULE_FIELDS.values()
    }
    for name, value in overrides.items():
        rule, outcome = _RULE_NAMES.get(name), OUTCOMES.get(value)
        if rule is None or outcome is None:
            raise PolicyError(
                f"{name}={value}: expected one of {', '.join(RULES)} = {'|'.join(VERDICTS)}"
            )
        rules[RULE_FIELDS[rule]] = outcome
    return Policy(**rules, ignore_codes=policy.ignore_codes)


@dataclass(frozen=True)
class BotConfig:
    environments: tuple[EnvironmentSpec, ...] = ()
    policy: Policy = Policy()
    databases: tuple[DatabaseSpec, ...] = ()
    no_environment: NoEnvironmentOutcome = "fail"
    fix_base: FixBase = "pull-request"
    fix_branches: tuple[str, ...] = ()  # watched besides the default branch


def load_bot_config(
    tree: Tree, path: str = BOT_CONFIG_PATH
) -> tuple[BotConfig, tuple[Problem, ...]]:
    """The bot config in `tree`; defaults without a problem when the file does not exist."""
    if path not in tree.paths():
        return BotConfig(), ()
    try:
        data = tree.read(path)
    except OSError as exc:
        return BotConfig(), (Problem.of("unreadable-file", f"cannot read {path}: {exc}", path),)
    # Imported here, not at the top: PyYAML costs a cold process 10-15 ms to import, and most
    # repositories have no bot config file.
    from alembic_heads_bot.engine.bot_config_yaml import parse_bot_config

    return parse_bot_config(data, path)
