"""`engine.constants`: branch labels and dependencies taken from the repository's own module
constants (OpenStack's expand/contract pattern), read statically and checked against Alembic
importing the same files through the same config."""

from __future__ import annotations

from pathlib import Path

from alembic_heads_bot.engine.scan import scan_tree
from memtree import MemoryTree, write_tree
from oracle import config_view, our_fields

GLANCE_SCRIPT = "glance/db/sqlalchemy/alembic_migrations"
GLANCE_VERSIONS = f"{GLANCE_SCRIPT}/versions"


def glance_rev(rev: str, down: str | None, labels: str = "None", deps: str = "None") -> str:
    return (
        f'"""{rev}\n\nRevision ID: {rev}\n"""\n\n'
        "from alembic import op  # noqa\n"
        "from glance.db import migration\n\n"
        "# revision identifiers, used by Alembic.\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\n"
        f"branch_labels = {labels}\ndepends_on = {deps}\n\n\n"
        "def upgrade():\n    pass\n"
    )


# glance: `from glance.db import migration`, labels from migration.EXPAND_BRANCH and a tuple
# mixing a literal with migration.CONTRACT_BRANCH, later files depending on the label.
GLANCE = {
    "glance/__init__.py": "",
    "glance/db/__init__.py": "",
    "glance/db/migration.py": (
        '"""Database setup and migration commands."""\n\n'
        "from glance.i18n import _  # noqa: F401\n\n"
        "# Migration-related constants\n"
        "EXPAND_BRANCH = 'expand'\nCONTRACT_BRANCH = 'contract'\nCURRENT_RELEASE = '2024_1'\n"
        "ALEMBIC_INIT_VERSION = 'liberty'\n\n\n"
        "def db_sync(version=None, engine=None):\n    raise NotImplementedError\n"
    ),
    "glance/i18n.py": "def _(text):\n    return text\n",
    "glance/db/sqlalchemy/__init__.py": "",
    "glance/db/sqlalchemy/alembic_migrations/__init__.py": "",
    "glance/db/sqlalchemy/alembic_migrations/alembic.ini": (
        "[alembic]\nscript_location = %(here)s\n"
        "prepend_sys_path = %(here)s/../../../..\npath_separator = space\n"
    ),
    f"{GLANCE_SCRIPT}/env.py": "# never run\n",
    f"{GLANCE_SCRIPT}/script.py.mako": "",
    f"{GLANCE_VERSIONS}/liberty_initial.py": glance_rev("liberty", None),
    f"{GLANCE_VERSIONS}/mitaka01_add_index.py": glance_rev("mitaka01", "liberty"),
    f"{GLANCE_VERSIONS}/ocata_expand01_add_visibility.py": glance_rev(
        "ocata_expand01", "mitaka01", "migration.EXPAND_BRANCH"
    ),
    f"{GLANCE_VERSIONS}/ocata_contract01_drop_is_public.py": glance_rev(
        "ocata_contract01",
        "mitaka01",
        "('ocata01', migration.CONTRACT_BRANCH)",
        "'ocata_expand01'",
    ),
    f"{GLANCE_VERSIONS}/pike_expand01_empty.py": glance_rev("pike_expand01", "ocata_expand01"),
    f"{GLANCE_VERSIONS}/pike_contract01_empty.py": glance_rev(
        "pike_contract01", "ocata_contract01", deps="'expand'"
    ),
}


def only_env(files: dict[str, str]):
    (env,) = scan_tree(MemoryTree(files)).environments
    return env


def test_glance_labels_from_module_constants_match_alembic(tmp_path: Path):
    env = only_env(GLANCE)
    assert env.problems == ()
    write_tree(tmp_path, GLANCE)
    expected = config_view(str(tmp_path / GLANCE_SCRIPT / "alembic.ini"), ("glance",))
    assert expected.error is None
    assert our_fields(env.graph) == expected.fields
    assert expected.fields["labels"]["expand"] == ("ocata_expand01", "pike_expand01")
    assert expected.fields["labels"]["ocata01"] == ("ocata_contract01", "pike_contract01")


NEUTRON_VERSIONS = "neutron/db/migration/alembic_migrations/versions"


def neutron_rev(rev: str, down: str, labels: str) -> str:
    return (
        '"""expand initial\n\n"""\n\n'
        "from neutron.db.migration import cli\n\n\n"
        f"# revision identifiers, used by Alembic.\nrevision = {rev!r}\n"
        f"down_revision = {down!r}\nbranch_labels = {labels}\n\n\n"
        "def upgrade():\n    pass\n"
    )


# neutron: `from neutron.db.migration import cli`, a one-element tuple of cli.EXPAND_BRANCH, and
# once a string prefix `+` the constant; the release sub-folders are version locations.
NEUTRON = {
    "neutron/__init__.py": "",
    "neutron/db/__init__.py": "",
    "neutron/db/migration/__init__.py": "",
    "neutron/db/migration/cli.py": (
        "import os\n\nfrom alembic import command as alembic_command\n\n"
        "HEAD_FILENAME = 'HEAD'\nHEADS_FILENAME = 'HEADS'\n"
        "CURRENT_RELEASE = 'bobcat'\nRELEASES = ('liberty', 'mitaka')\n"
        "EXPAND_BRANCH = 'expand'\nCONTRACT_BRANCH = 'contract'\n"
        "MIGRATION_BRANCHES = (EXPAND_BRANCH, CONTRACT_BRANCH)\n\n\n"
        "def do_alembic_command(config, cmd, revision=None, **kwargs):\n    pass\n\n\n"
        # getattr with a computed name in a function handed to the parser: a read only
        "def add_alembic_subparser(sub, cmd):\n"
        "    return sub.add_parser(cmd, help=getattr(alembic_command, cmd).__doc__)\n\n\n"
        "def add_command_parsers(subparsers):\n    add_alembic_subparser(subparsers, 'stamp')\n\n\n"
        "command_opt = dict(name='command', handler=add_command_parsers)\n"
    ),
    "neutron/db/migration/alembic.ini": (
        "[alembic]\nscript_location = %(here)s/alembic_migrations\n"
        "version_locations = %(here)s/alembic_migrations/versions "
        "%(here)s/alembic_migrations/versions/liberty/expand "
        "%(here)s/alembic_migrations/versions/liberty/contract\n"
        "prepend_sys_path = %(here)s/../../..\npath_separator = space\n"
    ),
    "neutron/db/migration/alembic_migrations/env.py": "# never run\n",
    f"{NEUTRON_VERSIONS}/kilo_initial.py": (
        "revision = 'kilo'\ndown_revision = None\n\n\ndef upgrade():\n    pass\n"
    ),
    f"{NEUTRON_VERSIONS}/liberty/expand/354db87e3225_nsxv_vdr_metadata.py": neutron_rev(
        "354db87e3225", "kilo", "('liberty_' + cli.EXPAND_BRANCH,)"
    ),
    f"{NEUTRON_VERSIONS}/liberty/contract/30018084ec99_initial.py": neutron_rev(
        "30018084ec99", "kilo", "(cli.CONTRACT_BRANCH,)"
    ),
}


def test_neutron_labels_from_an_imported_cli_module_match_alembic(tmp_path: Path):
    env = only_env(NEUTRON)
    assert env.problems == ()
    assert dict(env.graph.labels) == {
        "contract": ("30018084ec99",),
        "liberty_expand": ("354db87e3225",),
    }
    write_tree(tmp_path, NEUTRON)
    expected = config_view(str(tmp_path / "neutron/db/migration/alembic.ini"), ("neutron",))
    assert our_fields(env.graph) == expected.fields


def test_a_constant_of_another_repository_stays_non_literal_and_says_where_it_looked():
    # neutron-vpnaas imports neutron's cli module, which is not part of its own repository.
    files = {
        "neutron_vpnaas/__init__.py": "",
        "neutron_vpnaas/db/migration/alembic.ini": (
            "[alembic]\nscript_location = %(here)s/alembic_migrations\n"
        ),
        "neutron_vpnaas/db/migration/alembic_migrations/env.py": "",
        "neutron_vpnaas/db/migration/alembic_migrations/versions/start.py": (
            "revision = 'start_vpnaas'\ndown_revision = None\n"
        ),
        "neutron_vpnaas/db/migration/alembic_migrations/versions/b4d1_expand.py": neutron_rev(
            "b4d1", "start_vpnaas", "(cli.EXPAND_BRANCH,)"
        ),
    }
    env = only_env(files)
    (problem,) = env.problems
    assert problem.code == "non-literal"
    assert problem.line == 11
    assert problem.path.endswith("b4d1_expand.py")
    assert "module `neutron.db.migration.cli`" in problem.message
    assert "imported as `cli` on line 5" in problem.message
    assert "neutron/db/migration/cli.py or neutron/db/migration/cli/__init__.py" in (
        problem.message
    )
    assert "branch labels are unknown" in problem.message


def test_depends_on_a_label_from_a_constant_is_no_missing_dependency():
    files = dict(GLANCE)
    env = only_env(files)
    assert "missing-dependency" not in {p.code for p in env.problems}
    assert set(env.graph.heads) == {"pike_expand01", "pike_contract01"}


def test_a_constant_rebound_in_a_block_is_not_trusted():
    files = dict(GLANCE)
    files["glance/db/migration.py"] = (
        "EXPAND_BRANCH = 'expand'\nCONTRACT_BRANCH = 'contract'\n"
        "try:\n    from glance.local import EXPAND_BRANCH\nexcept ImportError:\n    pass\n"
    )
    env = only_env(files)
    problems = [p for p in env.problems if p.code == "non-literal"]
    assert [p.path.rpartition("/")[2] for p in problems] == ["ocata_expand01_add_visibility.py"]
    assert "bound inside a block" in problems[0].message
