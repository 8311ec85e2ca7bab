"""What a new user meets first, through the real command as a subprocess in real repositories:
the base `check` compares with by default (and says so on its first line), shallow clones, one
spelling for the repository, `--help`, and `demo --keep`."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from alembic_heads_bot.app.cli import build_parser
from gitrepo import GitRepo, push_from_another_clone
from projects import INI, chain, path, revision

ROOT = Path(__file__).resolve().parents[2]


def cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`alembic-heads-bot ARGV` as a user runs it: a new process, this tree's code."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "bot"), "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(
        [sys.executable, "-m", "alembic_heads_bot", *argv],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def short(repo: GitRepo, rev: str) -> str:
    return repo.rev(rev)[:12]


@pytest.fixture
def github_flow(tmp_path: Path) -> GitRepo:
    """The ordinary GitHub flow: a bare origin; `feature` (adds c on b) pushed with `-u`;
    since then main moved on in another clone (d on b) and `git fetch` brought it."""
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    dev = GitRepo.init(tmp_path / "dev")
    dev.write({"alembic.ini": INI, **chain("a", "b")})
    dev.commit("a, b")
    dev.git("remote", "add", "origin", str(origin))
    dev.git("push", "-q", "-u", "origin", "main")
    dev.git("switch", "-q", "-c", "feature")
    dev.write({path("c"): revision("c", "b")})
    dev.commit("c")
    dev.git("push", "-q", "-u", "origin", "feature")
    push_from_another_clone(origin, tmp_path / "other", {path("d"): revision("d", "b")})
    dev.git("fetch", "-q", "origin")
    return dev


def test_check_without_base_compares_with_the_remotes_default_branch(github_flow):
    done = cli("check", "--repo", str(github_flow.path))
    assert done.returncode == 1, done.stdout + done.stderr
    first, second = done.stdout.splitlines()[:2]
    assert first == (
        f"feature @ {short(github_flow, 'feature')} merged into "
        f"origin/main @ {short(github_flow, 'origin/main')}"
    )
    assert second == (
        "alembic-heads-bot: FAIL: New Alembic head: origin/main's single head becomes 2 once merged"
    )
    assert "new head c (migrations/versions/c_step.py:" in done.stdout
    assert "pre-commit" not in done.stdout  # the CLI's own fix command, unless asked


def test_check_prefers_the_remotes_head_symref(github_flow):
    github_flow.git("branch", "-q", "trunk", "origin/main")
    github_flow.git("push", "-q", "origin", "trunk")
    github_flow.git("fetch", "-q", "origin")
    github_flow.git("remote", "set-head", "origin", "trunk")
    done = cli("check", "--repo", str(github_flow.path))
    tip = short(github_flow, "origin/trunk")
    assert done.stdout.splitlines()[0].endswith(f"into origin/trunk @ {tip}")
    assert done.returncode == 1


def test_merge_without_base_uses_the_same_default(github_flow):
    done = cli("merge", "--repo", str(github_flow.path))
    assert done.returncode == 1
    assert "does not contain d from origin/main" in done.stderr


def test_check_with_no_base_says_it_judged_the_working_tree_alone(tmp_path):
    repo = GitRepo.init(tmp_path / "solo")
    repo.write({"alembic.ini": INI, **chain("a", "b")})
    repo.commit("a, b")
    done = cli("check", "--repo", str(repo.path))
    assert done.returncode == 0
    assert done.stdout.splitlines()[:2] == [
        "the working tree alone: no base found",
        "alembic-heads-bot: OK: No new Alembic head: one head per migration history",
    ]


# --- shallow clones --------------------------------------------------------------------------


@pytest.mark.parametrize("branches", ["--no-single-branch", "--single-branch"])
def test_a_shallow_clone_is_named_with_a_fetch_that_works(github_flow, tmp_path, branches):
    clone = GitRepo(tmp_path / "shallow")
    subprocess.run(
        ["git", "clone", "-q", "--depth=1", branches, "--branch", "feature",
         f"file://{tmp_path / 'origin.git'}", str(clone.path)],
        check=True,
    )  # fmt: skip
    done = cli("check", "--repo", str(clone.path), "--base", "origin/main")
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert "this is a shallow clone" in line or "in this shallow clone" in line
    fetch = line.split("`")[1]
    assert fetch == "git fetch --unshallow origin +refs/heads/main:refs/remotes/origin/main"
    clone.git(*shlex.split(fetch)[1:])
    again = cli("check", "--repo", str(clone.path), "--base", "origin/main")
    assert again.returncode == 1, again.stderr
    assert "new head c" in again.stdout


def test_a_plain_branch_name_in_a_shallow_clone_gets_a_fetch_that_makes_it(github_flow, tmp_path):
    clone = GitRepo(tmp_path / "shallow")
    subprocess.run(
        ["git", "clone", "-q", "--depth=1", "--branch", "feature",
         f"file://{tmp_path / 'origin.git'}", str(clone.path)],
        check=True,
    )  # fmt: skip
    done = cli("check", "--repo", str(clone.path), "--base", "main")
    assert done.returncode == 2
    fetch = done.stderr.split("`")[1]
    assert fetch == "git fetch --unshallow origin +refs/heads/main:refs/heads/main"
    clone.git(*shlex.split(fetch)[1:])
    assert cli("check", "--repo", str(clone.path), "--base", "main").returncode == 1


# --- one spelling for the repository ---------------------------------------------------------


@pytest.mark.parametrize("command", ["heads", "graph"])
def test_repo_option_and_positional_path_both_work(tmp_path, command):
    repo = GitRepo.init(tmp_path / "p")
    repo.write({"alembic.ini": INI, **chain("a", "b")})
    old = cli(command, str(repo.path))
    new = cli(command, "--repo", str(repo.path))
    assert (old.returncode, new.returncode) == (0, 0)
    assert new.stdout == old.stdout and "b (head)" in new.stdout


def test_current_takes_repo_too(tmp_path):
    repo = GitRepo.init(tmp_path / "p")
    repo.write({"alembic.ini": INI, **chain("a")})
    old = cli("current", str(repo.path), "--database-url", "sqlite://")
    new = cli("current", "--repo", str(repo.path), "--database-url", "sqlite://")
    assert (new.returncode, new.stdout, new.stderr) == (old.returncode, old.stdout, old.stderr)
    assert "an in-memory SQLite database has no deployed state" in new.stderr  # got that far


# --- --help ----------------------------------------------------------------------------------


def test_help_describes_every_option_and_the_exit_codes():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    for name, sub in commands.choices.items():
        text = cli(name, "--help").stdout
        assert "exit codes:" in text, name
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    assert "2  usage error or unreadable input" in cli("--help").stdout


def test_action_help_names_every_input_and_the_environment():
    text = cli("action", "--help").stdout
    inputs = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    for name in inputs:
        assert f"\n  {name} " in text, name
    for variable in ("GITHUB_EVENT_PATH", "GITHUB_WORKSPACE", "GITHUB_OUTPUT", "RUNNER_TEMP"):
        assert variable in text


# --- demo --keep -----------------------------------------------------------------------------


def test_demo_keep_leaves_the_repository_to_explore(tmp_path):
    kept = tmp_path / "kept"
    done = cli("demo", "--keep", str(kept))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"Example repository: {kept / 'shop'}"
    assert done.stdout.rstrip().endswith(f"cd {kept / 'shop'}")
    heads = cli("heads", "--repo", str(kept / "shop"))
    assert heads.returncode == 0
    assert "(head)" in heads.stdout
    assert (kept / "production.db").is_file()
    refused = cli("demo", "--keep", str(kept))
    assert refused.returncode == 2
    assert "not an empty directory" in refused.stderr
