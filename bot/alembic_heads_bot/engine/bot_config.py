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
from typing import Any

from alembic_heads_bot.engine.bot_config_model import (
    BOT_CONFIG_PATH,
    FIX_BASE,
    NO_ENVIRONMENT,
    OUTCOMES,
    RULE_FIELDS,
    RULES,
    VERDICTS,
    BotConfig,
    DatabaseSpec,
    EnvironmentSpec,
    FixBase,
    NoEnvironmentOutcome,
    Outcome,
    Policy,
    Rule,
)
from alembic_heads_bot.engine.errors import PolicyError
from alembic_heads_bot.engine.model import Problem
from alembic_heads_bot.engine.tree import Tree

# The records are defined in bot_config_model, which the YAML reader imports without this module
# (no import cycle), and imported from here by the rest of the code.
__all__ = [
    "BOT_CONFIG_PATH",
    "FIX_BASE",
    "NO_ENVIRONMENT",
    "RULES",
    "VERDICTS",
    "BotConfig",
    "DatabaseSpec",
    "EnvironmentSpec",
    "FixBase",
    "NoEnvironmentOutcome",
    "Outcome",
    "Policy",
    "Rule",
    "load_bot_config",
    "with_overrides",
]

_RULE_NAMES: dict[str, Rule] = {rule: rule for rule in RULE_FIELDS}


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
