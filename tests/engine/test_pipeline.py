"""The pipeline over a pull request's four trees: work is shared between trees only where they
are the same tree, and every other tree is read for itself."""

from __future__ import annotations

from alembic_heads_bot.engine.analysis import Commits, Verdict
from alembic_heads_bot.engine.pipeline import Options, PullRequestTrees, judge_pull_request
from memtree import MemoryTree

INI = "[alembic]\nscript_location = m\n"


def rev(rev: str, down: str | None) -> str:
    return f"revision = {rev!r}\ndown_revision = {down!r}\n"


def judged(base: MemoryTree, fork: MemoryTree, head: MemoryTree, merged: MemoryTree) -> Verdict:
    return judge_pull_request(PullRequestTrees(base, fork, head, merged, (), Commits()), Options())


FORK = {"alembic.ini": INI, "m/versions/a.py": rev("a", None), "m/versions/b.py": rev("b", "a")}


def test_a_tree_given_for_two_roles_is_judged_as_two_copies_of_it_are() -> None:
    # A branch made from the base tip: the merge base is the base tip, the merge the head.
    head = {**FORK, "m/versions/c.py": rev("c", "b"), "m/versions/d.py": rev("d", "b")}
    base, branch = MemoryTree(FORK), MemoryTree(head)
    once = judged(base, base, branch, branch)
    twice = judged(base, MemoryTree(FORK), branch, MemoryTree(head))

    assert once.as_dict() == twice.as_dict()
    env = once.environment("alembic.ini")
    assert (env.added, env.base_heads, env.heads) == (("c", "d"), ("b",), ("c", "d"))
    assert once.failed_rules == ("new-heads",)


def test_each_tree_gets_its_own_listing_config_and_graph() -> None:
    # The base tip added c; the branch renamed b's file, deleted nothing, added d, and a
    # version location (a config change) holding e.
    base = {**FORK, "m/versions/c.py": rev("c", "b")}
    more = "[alembic]\nscript_location = m\nversion_locations = m/versions m/more\n"
    renamed = {k: v for k, v in FORK.items() if k != "m/versions/b.py"}
    branch = {
        "alembic.ini": more,
        "m/versions/b2.py": rev("b", "a"),
        "m/versions/d.py": rev("d", "b"),
        "m/more/e.py": rev("e", "d"),
    }
    head = {**renamed, **branch}
    merged = {**{k: v for k, v in base.items() if k != "m/versions/b.py"}, **branch}
    verdict = judged(MemoryTree(base), MemoryTree(FORK), MemoryTree(head), MemoryTree(merged))
    env = verdict.environment("alembic.ini")

    assert (env.base_heads, env.heads) == (("c",), ("c", "e"))
    assert (env.added, env.modified, env.removed) == (("d", "e"), ("b",), ())
    assert [h.revision for h in env.new_heads] == ["e"]
    assert env.new_heads[0].common_ancestor == "b"
    assert not verdict.ok
