"""The shipped .pre-commit-hooks.yaml through the real `pre-commit` client, in the ordinary
GitHub flow: a bare origin, `feature` pushed with `-u`, main moved on since. pre-commit installs
this project (a snapshot of the working tree, committed) into its own environment with pip."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import GitRepo, push_from_another_clone
from projects import INI, chain, path, revision

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (ROOT / "bot" / "alembic_heads_bot" / "templates" / "generic.py.mako").read_text()


def snapshot(where: Path) -> tuple[Path, str]:
    """This project as it is on disk (tracked and new files), committed: pre-commit installs
    hooks from a git repository at a revision."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    copy = GitRepo.init(where)
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = where / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return where, copy.commit("snapshot")


def pre_commit(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo.path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def push(repo: GitRepo) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.CompletedProcess([], 0, repo.git("push", "origin", "feature"), "")
    except subprocess.CalledProcessError as failed:
        return subprocess.CompletedProcess([], failed.returncode, failed.stdout, failed.stderr)


def test_the_hook_fails_on_the_second_head_and_passes_after_the_fix_hook(tmp_path, monkeypatch):
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    hooks, rev = snapshot(tmp_path / "alembic-heads-bot")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    dev = GitRepo.init(tmp_path / "dev")
    config = (
        f"repos:\n  - repo: {hooks}\n    rev: {rev}\n    hooks:\n"
        "      - id: alembic-heads-check\n      - id: alembic-heads-merge\n"
    )
    dev.write({"alembic.ini": INI, "migrations/script.py.mako": TEMPLATE, **chain("a", "b")})
    dev.write({".pre-commit-config.yaml": config})
    dev.commit("a, b")
    dev.git("remote", "add", "origin", str(origin))
    dev.git("push", "-q", "-u", "origin", "main")
    installed = pre_commit(dev, "install", "--hook-type", "pre-push")
    assert installed.returncode == 0, installed.stderr
    dev.git("switch", "-q", "-c", "feature")
    dev.write({path("c"): revision("c", "b")})
    dev.commit("c")
    first = push(dev)  # also `-u`: the upstream is origin/feature from now on
    assert first.returncode == 0, first.stderr
    dev.git("branch", "-q", "--set-upstream-to", "origin/feature")

    push_from_another_clone(origin, tmp_path / "other", {path("d"): revision("d", "b")})
    dev.git("fetch", "-q", "origin")
    dev.write({"README.md": "more work\n"})
    dev.commit("more work on feature")

    refused = push(dev)
    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    assert re.search(
        r"alembic heads \(branch merged into the remote's default branch\)\.+Failed", said
    )
    assert "merged into origin/main @ " in said
    assert "new head c (migrations/versions/c_step.py:" in said
    assert "pre-commit run alembic-heads-merge --hook-stage manual" in said
    assert "alembic merge -m 'merge heads c, d' c d" in said
    assert "alembic-heads-bot merge" not in said  # not on a pre-commit user's PATH

    dev.git("merge", "-q", "--no-edit", "origin/main")  # the hint's first step
    fixed = pre_commit(dev, "run", "alembic-heads-merge", "--hook-stage", "manual")
    assert "merge_heads_c_d.py" in fixed.stdout, fixed.stdout + fixed.stderr
    assert len(list((dev.path / "migrations" / "versions").glob("*_merge_heads_c_d.py"))) == 1
    dev.commit("merge migration")
    passed = push(dev)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"default branch\)\.+Passed", passed.stdout + passed.stderr)


@pytest.fixture(autouse=True)
def _identity(monkeypatch):
    # `git merge` run by the test and the hooks' git calls need no user config
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
