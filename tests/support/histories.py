"""Pull requests over in-memory trees, for the diagram tests: long, wide and labelled
histories judged by the real pipeline without a git repository."""

from __future__ import annotations

from collections.abc import Mapping

from alembic_heads_bot.engine.analysis import Commits, Verdict
from alembic_heads_bot.engine.pipeline import Options, PullRequestTrees, judge_pull_request
from memtree import MemoryTree

INI = "[alembic]\nscript_location = m\n"
Spec = Mapping[str, tuple[str | None, str]]  # revision -> (down_revision, extra source)


def revision_file(rev: str, down: str | None, extra: str = "", doc: str | None = None) -> str:
    return f'"""{doc or f"step {rev}"}"""\nrevision = {rev!r}\ndown_revision = {down!r}\n{extra}'


def _files(revisions: Spec) -> dict[str, str]:
    files = {"alembic.ini": INI}
    for i, (rev, (down, extra)) in enumerate(revisions.items()):
        files[f"m/versions/{i:04}.py"] = revision_file(rev, down, extra)
    return files


def pull_request(common: Spec, base_adds: Spec, head_adds: Spec) -> Verdict:
    """The verdict on merging a branch that adds `head_adds` into a base that added
    `base_adds` since both left `common`."""
    fork = _files(common)
    base = _files({**common, **base_adds})
    head = {**fork, **_branch_files(head_adds)}
    merged = {**base, **_branch_files(head_adds)}
    trees = PullRequestTrees(
        MemoryTree(base), MemoryTree(fork), MemoryTree(head), MemoryTree(merged), (), Commits()
    )
    return judge_pull_request(trees, Options())


def _branch_files(revisions: Spec) -> dict[str, str]:
    return {
        f"m/versions/pr_{i:04}.py": revision_file(rev, down, extra)
        for i, (rev, (down, extra)) in enumerate(revisions.items())
    }


def chain(
    names: list[str], below: str | None, extra: str = ""
) -> dict[str, tuple[str | None, str]]:
    """Revisions in a line, the first on `below`."""
    return {name: (down, extra) for name, down in zip(names, [below, *names[:-1]], strict=True)}


def long_history() -> Verdict:
    """200 revisions in a line on main; the branch forks at revision 5 and adds two."""
    main = [f"r{i:03}" for i in range(200)]
    return pull_request(
        chain(main[:6], None), chain(main[6:], main[5]), chain(["x1", "x2"], main[5])
    )


def wide_history() -> Verdict:
    """main grew twelve heads of ten revisions each from one branch point (a history already
    in trouble); the branch adds a thirteenth."""
    base: dict[str, tuple[str | None, str]] = {}
    for lane in range(12):
        base |= chain([f"l{lane:02}_{i}" for i in range(10)], "root")
    return pull_request(chain(["root"], None), base, chain(["x1", "x2", "x3"], "root"))


def labelled_history() -> Verdict:
    """Two labelled branches (`shop` and `billing`), long, and the pull request adds a head to
    `shop` next to main's."""
    common = chain(["base"], None) | chain(["s0"], "base", "branch_labels = ('shop',)\n")
    common |= chain(["b0"], "base", "branch_labels = ('billing',)\n")
    common |= chain([f"b{i}" for i in range(1, 40)], "b0")
    main = chain([f"s{i}" for i in range(1, 60)], "s0")
    return pull_request(common, main, chain(["p1", "p2"], "s30"))
