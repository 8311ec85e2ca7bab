"""`alembic-heads-bot merge`: write the fix into the working tree (a shell: files and git).

What to write is decided by `engine.fix.plan` (pure); this module reads the working tree and
writes the changes, never overwriting a file that appeared meanwhile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from alembic_heads_bot.adapters.disk import DiskTree
from alembic_heads_bot.app.fix_inputs import fix_inputs
from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.fix.plan import FixRefused, FixRequest, plan_fix
from alembic_heads_bot.engine.pipeline import Options, judge_alone
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
    the base tip, whose script.py.mako is trusted. Every target is checked before anything is
    written: one outside the repository, or a new file that exists, refuses the whole fix.
    """
    tree = DiskTree(root)
    judged = judge_alone(tree, Options(env=request.env), config_from=base_tree)
    changes = plan_fix(tree, request, judged, verdict, base_tree, base_label, fix_inputs())
    targets = [_target(root, change.path) for change in changes]
    for change, target in zip(changes, targets, strict=True):
        if change.created and (target.exists() or target.is_symlink()):
            raise FixRefused(f"{change.path} exists already; pass another --rev-id")
    for change, target in zip(changes, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(target, change.content, created=change.created, shown=change.path)
    return [Written(change.path, change.notes) for change in changes]


def _target(root: Path, path: str) -> Path:
    """Where `path` lands once symbolic links and `..` are resolved; FixRefused unless that is
    inside the repository. A config, a file_template or a version location that is a link can
    point anywhere, and a file written there (a `sitecustomize.py`, say) could run later."""
    top = root.resolve()
    target = (top / path).resolve()  # follows links, dangling ones included, as far as they go
    if PurePosixPath(path).is_absolute() or target == top or not target.is_relative_to(top):
        raise FixRefused(
            f"{path} resolves to {target}, which is outside the repository {top}; "
            "nothing was written"
        )
    return target


def _write(target: Path, content: bytes, *, created: bool, shown: str) -> None:
    """Write `content`; a new file is created exclusively and never through a link, so one
    that appeared since the check is not overwritten."""
    if not created:
        target.write_bytes(content)
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(target, flags, 0o666)
    except FileExistsError:
        raise FixRefused(f"{shown} exists already; pass another --rev-id") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)


def git_root(path: str) -> Path:
    """The repository's top directory, or `path` itself outside a repository."""
    from alembic_heads_bot.adapters.git import open_repo
    from alembic_heads_bot.engine.errors import SourceError

    try:
        with open_repo(path) as repo:
            return Path(repo.working_tree_dir or path)
    except SourceError:
        return Path(os.path.abspath(path))  # noqa: PTH100
