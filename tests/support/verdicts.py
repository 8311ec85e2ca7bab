"""Shared test builders."""

from __future__ import annotations

from pathlib import Path

from alembic_heads_bot.app.pull_request import analyse
from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.report.verdict import (
    Sides,
)
from gitrepo import GitRepo

INI = "[alembic]\nscript_location = m\n"


def rev_text(rev: str, down: str | None) -> str:
    return f'"""step {rev}"""\nrevision = {rev!r}\ndown_revision = {down!r}\n'


def classic(tmp_path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write({"alembic.ini": INI})
    repo.write({f"m/versions/{r}.py": rev_text(r, d) for r, d in [("a", None), ("b", "a")]})
    repo.commit("base")
    repo.branch("feature")
    repo.write({"m/versions/c.py": rev_text("c", "b")})
    repo.commit("c on main")
    repo.checkout("feature")
    repo.write({"m/versions/d.py": rev_text("d", "b")})
    repo.commit("d on feature")
    return repo


SIDES = Sides(base="origin/main", head="this pull request")


def verdicts(tmp_path: Path) -> tuple[Verdict, Verdict]:
    """(a second head, a clean change) from the same repository."""
    repo = classic(tmp_path)
    return analyse(repo.path, "main", "feature"), analyse(repo.path, "main", "main")


def many_heads(tmp_path: Path, count: int) -> Verdict:
    repo = GitRepo.init(tmp_path / "many")
    repo.write({"alembic.ini": "[alembic]\nscript_location = m\n"})
    repo.write({"m/versions/a.py": "revision = 'a'\ndown_revision = None\n"})
    repo.commit("base")
    repo.branch("feature")
    repo.write({"m/versions/b.py": "revision = 'b'\ndown_revision = 'a'\n"})
    repo.commit("main")
    repo.checkout("feature")
    repo.write({
        f"m/versions/n{i:04}_{'x' * 60}.py": f"revision = 'n{i:04}'\ndown_revision = 'a'\n"
        for i in range(count)
    })  # fmt: skip
    repo.commit("many")
    return analyse(repo.path, "main", "feature")
