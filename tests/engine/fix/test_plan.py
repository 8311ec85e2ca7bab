"""`engine.fix.plan` on trees held in memory: which files a fix writes, and when it refuses.

Verdicts come from the engine's own `judge` over the four trees of a pull request (base tip,
fork point, branch head, their merge), as the shells compute them; nothing here touches git or
the disk. Generated files are checked by reading them back with `ast` (and, for the merge, by
the byte-identical tests against real Alembic in test_mergefile.py).
"""

from __future__ import annotations

import ast
import datetime as dt

import pytest
from alembic_heads_bot.engine.analysis import Verdict, judge
from alembic_heads_bot.engine.bot_config import load_bot_config
from alembic_heads_bot.engine.fix.plan import (
    FileChange,
    FixInputs,
    FixRefused,
    FixRequest,
    plan_fix,
)
from alembic_heads_bot.engine.pipeline import Options, judge_alone
from alembic_heads_bot.engine.scan import scan_tree
from alembic_heads_bot.templates import generic_template
from memtree import MemoryTree

NOW = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)
INPUTS = FixInputs(NOW, "f00dfeed0001", generic_template())
INI = "[alembic]\nscript_location = migrations\ntimezone = UTC\n"
TEMPLATE = generic_template().decode()
MARKER = "alembic_heads_bot_ran_code"
DEFAULT = FixRequest()
BREAKOUT = f'x"""\nopen({MARKER!r}, "w").close()\n"""'


def revision(rev: str, down: str | None, labels: str | None = None) -> str:
    return (
        f'"""step\n\nRevises: {down}\n"""\n'
        f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = {labels!r}\n"
    )


def path(name: str) -> str:
    return f"migrations/versions/{name}.py"


def tree(revisions: dict[str, str], **extra: str) -> MemoryTree:
    return MemoryTree({"alembic.ini": INI, **revisions, **extra})


FORK = {path("a"): revision("a", None), path("b"): revision("b", "a")}
MAIN = {**FORK, path("c"): revision("c", "b")}
FEATURE = {**FORK, path("d"): revision("d", "b")}


def verdict_of(base: MemoryTree, fork: MemoryTree, head: MemoryTree, merged: MemoryTree) -> Verdict:
    policy = load_bot_config(base)[0].policy
    return judge(*(scan_tree(t) for t in (base, fork, head, merged)), policy)


class PullRequest:
    """main (c on b) and a feature branch (d on b) forked at b, with extra files on each."""

    def __init__(self, main: dict[str, str] | None = None, feature: dict[str, str] | None = None):
        self.base = tree({**MAIN, **(main or {})})
        self.head = tree({**FEATURE, **(feature or {})})
        self.merged = tree({**MAIN, **FEATURE, **(main or {}), **(feature or {})})
        self.verdict = verdict_of(self.base, tree(FORK), self.head, self.merged)

    def fix_merged(
        self, request: FixRequest = DEFAULT, on: MemoryTree | None = None
    ) -> list[FileChange]:
        """The fix on the merged tree, as `/merge-heads` computes it: the pull request's verdict
        judges the merged tree (a tree given `on` is judged alone, with the base's config)."""
        judged = self.verdict if on is None else self.alone(on, request)
        target = on or self.merged
        return plan_fix(
            target, request, judged, self.verdict, self.base, "main", INPUTS, merged=True
        )

    def fix_branch(self, request: FixRequest = DEFAULT) -> list[FileChange]:
        """The fix on the branch itself, as the local `merge` computes it."""
        judged = self.alone(self.head, request)
        return plan_fix(self.head, request, judged, self.verdict, self.base, "main", INPUTS)

    def alone(self, target: MemoryTree, request: FixRequest) -> Verdict:
        return judge_alone(target, Options(env=request.env), config_from=self.base)


def bindings(change: FileChange) -> dict[str, object]:
    module = ast.parse(change.content)
    return {
        node.targets[0].id if isinstance(node, ast.Assign) else node.target.id: ast.literal_eval(
            node.value
        )
        for node in module.body
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None
    }


# --- merge strategy ------------------------------------------------------------------------------


def test_the_merge_strategy_writes_one_migration_joining_the_heads_with_the_given_id() -> None:
    [change] = PullRequest().fix_merged()

    assert (change.path, change.created, change.revision) == (
        "migrations/versions/f00dfeed0001_merge_heads_c_d.py",
        True,
        "f00dfeed0001",
    )
    assert bindings(change) == {
        "revision": "f00dfeed0001",
        "down_revision": ("c", "d"),
        "branch_labels": None,
        "depends_on": None,
    }
    assert b"Create Date: 2026-03-04 05:06:07+00:00\n" in change.content
    assert change.notes == (
        "No script.py.mako was available, so the file uses Alembic 1.20.1's generic template.",
    )


def test_the_same_inputs_give_the_same_files() -> None:
    pull_request = PullRequest()
    assert pull_request.fix_merged() == pull_request.fix_merged()


def test_the_request_names_the_id_and_the_message() -> None:
    [change] = PullRequest().fix_merged(FixRequest(message="join c and d", rev_id="m1"))
    assert change.path == "migrations/versions/m1_join_c_and_d.py"
    assert change.content.startswith(b'"""join c and d\n\nRevision ID: m1\nRevises: c, d\n')


def test_the_base_branch_template_is_used_not_the_branchs() -> None:
    mako = "migrations/script.py.mako"
    pull_request = PullRequest(main={mako: TEMPLATE}, feature={mako: "${'pwned'}\n" + TEMPLATE})
    [change] = pull_request.fix_merged(on=tree({**MAIN, **FEATURE, mako: "${'pwned'}\n"}))
    assert b"pwned" not in change.content
    assert change.notes == (f"used {mako} as it is on the base branch; this branch changes it",)


def test_the_notes_say_why_not_alembic_merge_heads() -> None:
    other = {path("x"): revision("x", None, labels="other")}
    [change] = PullRequest(main=other).fix_merged()
    assert bindings(change)["down_revision"] == ("c", "d")
    assert change.notes[-1] == (
        "Run `alembic merge c d`, not `alembic merge heads`: `alembic merge heads` would also "
        "join the labelled branch head x, which is meant to stay separate."
    )


def test_a_branch_without_the_base_head_is_refused() -> None:
    with pytest.raises(FixRefused) as error:
        PullRequest().fix_branch()
    assert str(error.value) == (
        "[alembic.ini] this branch does not contain c from main yet, so a merge migration here "
        "could not name it. Bring main in first (git merge main, or git rebase), then run "
        "alembic-heads-bot merge again."
    )


def test_a_merge_file_that_exists_already_is_refused() -> None:
    existing = "migrations/versions/m1_merge_heads_c_d.py"
    pull_request = PullRequest(feature={existing: "# someone's notes\n"})
    with pytest.raises(FixRefused, match=f"^\\[alembic.ini\\] {existing} exists already; pass"):
        pull_request.fix_merged(FixRequest(rev_id="m1"))


def test_a_merge_file_below_a_symbolic_link_is_refused() -> None:
    ini = INI + "recursive_version_locations = true\nfile_template = lib/%%(rev)s\n"
    links = {"migrations/versions/lib": "/usr/lib/python3/dist-packages"}
    merged = MemoryTree({"alembic.ini": ini, **MAIN, **FEATURE}, links)
    with pytest.raises(FixRefused) as error:
        PullRequest().fix_merged(on=merged)
    assert str(error.value) == (
        "[alembic.ini] migrations/versions/lib is a symbolic link in the tree, so "
        "migrations/versions/lib/f00dfeed0001.py cannot be written below it; the bot writes "
        "merge files only into real directories"
    )


def test_a_head_id_that_would_become_code_is_refused_with_its_file_and_line() -> None:
    evil = {path("evil"): revision(BREAKOUT, "b").replace(f"Revises: {BREAKOUT}", "")}
    pull_request = PullRequest(feature={**evil})
    with pytest.raises(FixRefused) as error:
        pull_request.fix_merged()
    message = str(error.value)
    assert message.startswith(
        '[alembic.ini] migrations/versions/evil.py line 5: revision id \'x"""\\nopen('
    )
    assert "has characters the bot never writes into a migration file" in message


def test_a_hostile_message_reaches_the_file_as_one_line_of_text() -> None:
    request = FixRequest(message=f'join"""\nopen({MARKER!r}, "w").close()\n"""')
    [change] = PullRequest().fix_merged(request)
    module = ast.parse(change.content)
    assert not any(isinstance(node, ast.Expr) for node in module.body[1:])
    assert ast.get_docstring(module, clean=False).startswith(  # type: ignore[union-attr]
        'join" open(\'alembic_heads_bot_ran_code\', "w").close() "\n'
    )
    assert "The message was reduced to one line" in change.notes[-1]


# --- rebase strategy -----------------------------------------------------------------------------


def test_the_rebase_strategy_re_parents_the_branchs_first_revision() -> None:
    [change] = PullRequest().fix_branch(FixRequest(strategy="rebase"))

    assert (change.path, change.created, change.revision) == (path("d"), False, "d")
    assert change.content.decode() == revision("d", "c")
    assert change.notes == (
        "d now revises c, not b",
        "rebase this branch onto main so that it holds the new parent",
    )


def test_the_rebase_strategy_on_the_merged_tree_needs_no_rebase_note() -> None:
    [change] = PullRequest().fix_merged(FixRequest(strategy="rebase"))
    assert change.notes == ("d now revises c, not b",)


def test_the_rebase_strategy_needs_the_base() -> None:
    pull_request = PullRequest()
    with pytest.raises(FixRefused, match=r"^--strategy rebase needs the base branch: pass --base"):
        judged = pull_request.alone(pull_request.head, DEFAULT)
        plan_fix(pull_request.head, FixRequest(strategy="rebase"), judged, None, None, "", INPUTS)


def test_the_rebase_strategy_refuses_a_hostile_base_head_with_its_file_and_line() -> None:
    hostile_main = {path("c"): revision(BREAKOUT, "b").replace(f"Revises: {BREAKOUT}", "")}
    pull_request = PullRequest(main=hostile_main)
    with pytest.raises(FixRefused, match=r"^\[alembic.ini\] migrations/versions/c.py line 5: "):
        pull_request.fix_merged(FixRequest(strategy="rebase"))
    with pytest.raises(FixRefused, match=r"^\[alembic.ini\] migrations/versions/d.py: the new "):
        pull_request.fix_branch(FixRequest(strategy="rebase"))
