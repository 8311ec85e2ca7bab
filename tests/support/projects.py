"""Shared test builders."""

from __future__ import annotations

import json
from pathlib import Path

from alembic_heads_bot.adapters.databases import DatabaseReader
from alembic_heads_bot.app.pull_request import analyse
from alembic_heads_bot.engine.analysis import Verdict
from gitrepo import GitRepo

INI = "[alembic]\nscript_location = migrations\n"


def revision(
    rev: str,
    down: str | tuple[str, ...] | None = None,
    *,
    labels: str | None = None,
    depends: str | None = None,
    body: str = "pass",
) -> str:
    return (
        f'"""{rev}\n\nRevision ID: {rev}\n"""\n\n'
        f"revision = {rev!r}\n"
        f"down_revision = {down!r}\n"
        f"branch_labels = {labels!r}\n"
        f"depends_on = {depends!r}\n\n\n"
        f"def upgrade():\n    {body}\n\n\n"
        "def downgrade():\n    pass\n"
    )


def path(rev: str, root: str = "migrations") -> str:
    return f"{root}/versions/{rev}_step.py"


def chain(*revs: str, root: str = "migrations") -> dict[str, str]:
    """Files for a linear history revs[0] <- revs[1] <- ..."""
    parents = (None, *revs[:-1])
    return {path(rev, root): revision(rev, down) for rev, down in zip(revs, parents, strict=True)}


def project(tmp_path: Path, files: dict[str, str | None]) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write({"alembic.ini": INI, **files})
    repo.commit("base")
    return repo


def on_branches(repo: GitRepo, main: dict[str, str | None], feature: dict[str, str | None]) -> None:
    """Fork `feature` at HEAD, then commit `main` on main and `feature` on feature."""
    repo.branch("feature")
    if main:
        repo.write(main)
        repo.commit("main moves on")
    repo.checkout("feature")
    repo.write(feature)
    repo.commit("feature")
    repo.checkout("main")


def check(repo: GitRepo, environ: dict[str, str] | None = None, **options: object) -> Verdict:
    """`environ`: the variables the configured databases' URLs are read from."""
    if environ is not None:
        options["databases"] = DatabaseReader(environ)
    verdict = analyse(repo.path, "main", "feature", **options)  # type: ignore[arg-type]
    json.dumps(verdict.as_dict())  # always JSON-ready
    return verdict
