"""`check` and `merge` on real repositories: the advice, the fix written, and what Alembic sees."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import alembic_heads_bot
import pytest
from alembic.script import ScriptDirectory
from alembic_heads_bot.app.cli import main
from gitrepo import GitRepo
from versiondb import sqlite_database

INI = "[alembic]\nscript_location = %(here)s/migrations\npath_separator = os\n"
TEMPLATE = (Path(alembic_heads_bot.__file__).parent / "templates" / "generic.py.mako").read_text()


def revision(rev: str, down: str | None) -> str:
    return (
        f'"""step {rev}\n\nRevises: {down}\n"""\n'
        f"revision = {rev!r}\ndown_revision = {down!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    )


def path(rev: str) -> str:
    return f"migrations/versions/{rev}_step.py"


@pytest.fixture
def classic(tmp_path: Path) -> GitRepo:
    """main: a -> b -> c -> d; feature (checked out) from c: e -> f."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.write({"alembic.ini": INI, "migrations/env.py": "# not run\n"})
    repo.write({"migrations/script.py.mako": TEMPLATE})
    repo.write({path(r): revision(r, d) for r, d in [("a", None), ("b", "a"), ("c", "b")]})
    repo.commit("base")
    repo.branch("feature")
    repo.write({path("d"): revision("d", "c")})
    repo.commit("d on main")
    repo.checkout("feature")
    repo.write({path("e"): revision("e", "c"), path("f"): revision("f", "e")})
    repo.commit("e, f on feature")
    return repo


def alembic_heads(root: Path) -> tuple[str, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return tuple(ScriptDirectory(str(root / "migrations")).get_heads())


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_names_the_new_head_its_collision_and_the_fix_in_order(classic, capsys):
    code, out, _ = run(capsys, "check", "--repo", str(classic.path), "--base", "main")
    assert code == 1
    assert "new head f (migrations/versions/f_step.py:6)" in out
    assert "collides with: d; common ancestor: c" in out
    fix = out[out.index("fix:") :]
    assert fix.index("git merge main") < fix.index("alembic-heads-bot merge")
    assert "alembic merge -m 'merge heads d, f' d f" in fix


def test_check_json_is_the_verdict(classic, capsys):
    code, out, _ = run(
        capsys, "check", "--repo", str(classic.path), "--base", "main", "--format", "json"
    )
    verdict = json.loads(out)
    assert (code, verdict["ok"], verdict["failed_rules"]) == (1, False, ["new-heads"])
    (env,) = verdict["environments"]
    assert [h["revision"] for h in env["new_heads"]] == ["f"]


def test_check_defaults_to_the_upstream_branch(classic, capsys):
    classic.git("branch", "--set-upstream-to", "main")
    code, out, _ = run(capsys, "check", "--repo", str(classic.path))
    assert code == 1
    assert "heads on main: d" in out


def test_policy_override_turns_the_failure_into_a_warning(classic, capsys):
    argv = ["check", "--repo", str(classic.path), "--base", "main", "--policy", "new-heads=warn"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "OK: New Alembic head, allowed by the policy: main's single head becomes 2" in out
    code, _, err = run(capsys, *argv[:-1], "nonsense=fail")
    assert code == 2
    assert "expected one of new-heads" in err


def test_merge_refuses_while_the_branch_lacks_the_base_head_then_writes_a_working_fix(
    classic, capsys
):
    code, out, err = run(capsys, "merge", "--repo", str(classic.path), "--base", "main")
    assert code == 1
    assert "does not contain d from main" in err
    assert classic.status() == ""  # nothing written

    classic.merge("main")
    code, out, _ = run(
        capsys,
        "merge",
        "--repo",
        str(classic.path),
        "--base",
        "main",
        "-m",
        "join",
        "--rev-id",
        "m1",
    )
    assert code == 0
    assert out.splitlines()[0] == "migrations/versions/m1_join.py"
    written = (classic.path / "migrations/versions/m1_join.py").read_text()
    assert "down_revision: Union[str, Sequence[str], None] = ('d', 'f')" in written
    assert alembic_heads(classic.path) == ("m1",)
    classic.commit("merge migration")
    assert run(capsys, "check", "--repo", str(classic.path), "--base", "main")[0] == 0


def test_merge_without_a_base_joins_the_working_trees_heads(classic, capsys):
    classic.merge("main")
    code, out, _ = run(capsys, "merge", "--repo", str(classic.path), "--rev-id", "m2")
    assert code == 0
    assert alembic_heads(classic.path) == ("m2",)
    code, out, _ = run(capsys, "merge", "--repo", str(classic.path))
    assert (code, out) == (0, "Nothing to merge: every environment has one head per stream.\n")


def test_merge_uses_the_base_branch_template_not_the_branchs(classic, capsys):
    classic.merge("main")
    classic.write({"migrations/script.py.mako": "${'pwned' if True else ''}\n"})
    classic.commit("feature edits the template")
    code, out, _ = run(
        capsys, "merge", "--repo", str(classic.path), "--base", "main", "--rev-id", "m3"
    )
    assert code == 0
    assert "used migrations/script.py.mako as it is on the base branch" in out
    assert "pwned" not in (classic.path / "migrations/versions/m3_merge_heads_d_f.py").read_text()


def test_rebase_strategy_repoints_the_branchs_first_revision(classic, capsys):
    code, out, _ = run(
        capsys, "merge", "--repo", str(classic.path), "--base", "main", "--strategy", "rebase"
    )
    assert code == 0
    assert out.splitlines()[0] == path("e")
    edited = (classic.path / path("e")).read_text()
    assert "down_revision = 'd'" in edited
    assert "Revises: d" in edited
    assert "rebase this branch onto main" in out
    classic.commit("re-parent e")
    classic.git("rebase", "-q", "main")
    assert alembic_heads(classic.path) == ("f",)
    assert run(capsys, "check", "--repo", str(classic.path), "--base", "main")[0] == 0


def test_rebase_needs_a_base(classic, capsys):
    code, _, err = run(capsys, "merge", "--repo", str(classic.path), "--strategy", "rebase")
    assert code == 1
    assert "--strategy rebase needs the base branch" in err


def test_check_without_a_base_judges_the_working_tree(classic, capsys):
    classic.merge("main")
    code, out, _ = run(capsys, "check", "--repo", str(classic.path))
    assert code == 1
    assert "heads: d, f" in out


def test_rebase_refuses_to_move_a_revision_a_database_applied(
    classic, capsys, tmp_path, monkeypatch
):
    classic.checkout("main")
    classic.write({".github/alembic-heads.yml": "databases: [{name: qa, url_env: QA_URL}]\n"})
    classic.commit("name the qa database")
    classic.checkout("feature")
    monkeypatch.setenv("QA_URL", sqlite_database(tmp_path, "f", name="qa"))
    code, _, err = run(
        capsys, "merge", "--repo", str(classic.path), "--base", "main", "--strategy", "rebase"
    )
    assert code == 1
    assert "[alembic.ini] e is applied in qa: re-parenting it would rewrite the history" in err
    assert "down_revision = 'c'" in (classic.path / path("e")).read_text()


# --- hostile input: `alembic-heads-bot merge` run as a user runs it --------------------------

MARKER = "alembic_heads_bot_ran_code"
BREAKOUT = f'x"""\nopen({MARKER!r}, "w").close()\n"""'


def merge_cli(repo: GitRepo, cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """The installed command in a fresh Python, from `cwd` (where a stray file would land)."""
    command = [sys.executable, "-m", "alembic_heads_bot", "merge", "--repo", str(repo.path)]
    return subprocess.run(
        [*command, *argv], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def import_in_subprocess(where: Path, file: Path) -> tuple[int, bool]:
    """Run the file as Alembic's import would, from `where`: exit code, marker created?"""
    code = "import runpy, sys; runpy.run_path(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", code, str(file)], cwd=where, capture_output=True, check=False
    )
    return done.returncode, (where / MARKER).exists()


def test_merge_refuses_a_head_id_that_would_become_code(classic, tmp_path):
    hostile = f'"""a pull request\'s revision"""\nrevision = {BREAKOUT!r}\ndown_revision = "f"\n'
    classic.write({"migrations/versions/evil.py": hostile})
    classic.commit("a head whose id closes a docstring")
    classic.merge("main")

    done = merge_cli(classic, tmp_path, "--base", "main")

    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(
        "alembic-heads-bot: cannot fix: [alembic.ini] migrations/versions/evil.py line 2: "
        'revision id \'x"""\\nopen('
    )
    assert "has characters the bot never writes into a migration file" in done.stderr
    assert classic.status() == ""
    assert not list(tmp_path.rglob(MARKER))


def test_merge_keeps_a_hostile_message_to_one_line_of_text(classic, tmp_path):
    classic.merge("main")
    message = f'join"""\nopen({MARKER!r}, "w").close()\n"""'

    done = merge_cli(classic, tmp_path, "--base", "main", "--rev-id", "m9", "-m", message)

    assert done.returncode == 0, done.stderr
    written = classic.path / done.stdout.splitlines()[0]
    assert written.name == "m9_join_open_alembic_heads_bot_ran_code_w_.py"
    runner = tmp_path / "import-here"
    runner.mkdir()
    assert import_in_subprocess(runner, written) == (0, False)
    assert "note: The message was reduced to one line for the file" in done.stdout
    assert alembic_heads(classic.path) == ("m9",)


OUTSIDE_SETTINGS = "recursive_version_locations = true\nfile_template = {}\n"


@pytest.mark.parametrize(
    ("file_template", "link", "expected"),
    [
        (
            "lib/sitecustomize",
            "migrations/versions/lib",
            "[alembic.ini] migrations/versions/lib is a symbolic link in the tree, so "
            "migrations/versions/lib/sitecustomize.py cannot be written below it",
        ),
        (
            # node_modules is never walked, so only the write itself can see this link
            "node_modules/evil/sitecustomize",
            "migrations/versions/node_modules/evil",
            "migrations/versions/node_modules/evil/sitecustomize.py resolves to {outside}/"
            "sitecustomize.py, which is outside the repository {root}; nothing was written",
        ),
        (
            "../../../outside/sitecustomize",
            None,
            "[alembic.ini] file_template gives the file name "
            "'../../../outside/sitecustomize.py', which leaves the version location",
        ),
    ],
    ids=["linked-directory", "link-in-a-skipped-directory", "dot-dot-template"],
)
def test_merge_never_writes_outside_the_repository(
    classic, tmp_path, file_template, link, expected
):
    outside = tmp_path / "outside"
    outside.mkdir()
    classic.write({"alembic.ini": INI + OUTSIDE_SETTINGS.format(file_template.replace("%", "%%"))})
    if link is not None:
        classic.symlink(link, str(outside))
    classic.commit("a version directory that leads out")
    classic.merge("main")

    done = merge_cli(classic, tmp_path, "--base", "main")

    assert done.returncode == 1, done.stdout
    root = classic.path.resolve()
    assert expected.format(outside=outside.resolve(), root=root) in done.stderr
    assert list(outside.iterdir()) == []
    assert classic.status() == ""


def test_check_fails_on_a_second_head_in_a_flask_alembic_migrations_folder(tmp_path, capsys):
    # flaskbb: revision files straight in migrations/, configured in code (Flask-Alembic)
    repo = GitRepo.init(tmp_path / "flaskbb")
    flask = {f"migrations/{r}_step.py": revision(r, d) for r, d in [("a", None), ("b", "a")]}
    repo.write({"flaskbb/app.py": "from flask_alembic import Alembic\n", **flask})
    repo.commit("base")
    repo.branch("feature")
    repo.write({"migrations/c_step.py": revision("c", "b")})
    repo.commit("c on main")
    repo.checkout("feature")
    repo.write({"migrations/d_step.py": revision("d", "b")})
    repo.commit("d on feature")
    code, out, _ = run(capsys, "check", "--repo", str(repo.path), "--base", "main")
    assert code == 1
    assert "new head d (migrations/d_step.py:6)" in out
    assert "collides with: c" in out
