"""`alembic-heads-bot merge`: write the fix into the working tree (a shell: files and git).

What to write is decided by `engine.fix.plan` (pure); this module reads the working tree and
writes the changes, never overwriting a file that appeared meanwhile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from alembic_heads_bot.adapters.disk import DiskTree
from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.fix.plan import FixRefused, FixRequest, plan_fix
from alembic_heads_bot.engine.tree import Tree


@dataclass(frozen=True)
class Written:
    path: str  # relative to the repository root
    notes: tuple[str, ...] = ()


def fix_working_tree(
    root: Path,
    request: FixRequest,
    verdict: Verdict | None,
    base_tree: Tree | None,
    base_label: str,
) -> list[Written]:
    """Write the fix for every environment (or `request.env`) that needs one.

    `verdict` judges the branch against its base (None when no base is known); `base_tree` is
    the base tip, whose script.py.mako is trusted.
    """
    now = datetime.now(timezone.utc)
    changes = plan_fix(DiskTree(root), request, verdict, base_tree, base_label, now)
    for change in changes:
        target = root / change.path
        if change.created and target.exists():
            raise FixRefused(f"{change.path} exists already; pass another --rev-id")
    for change in changes:
        target = root / change.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(change.content)
    return [Written(change.path, change.notes) for change in changes]


def git_root(path: str) -> Path:
    """The repository's top directory, or `path` itself outside a repository."""
    from alembic_heads_bot.adapters.git import open_repo
    from alembic_heads_bot.engine.errors import SourceError

    try:
        with open_repo(path) as repo:
            return Path(repo.working_tree_dir or path)
    except SourceError:
        return Path(os.path.abspath(path))  # noqa: PTH100
