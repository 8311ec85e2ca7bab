"""Parsing on every core: the same records as one core gives, from disk and from git, with the
files only the parent may read left to it, and a child's bad answer never taken."""

from __future__ import annotations

import marshal
import resource
from collections.abc import Iterator

import pytest
from alembic_heads_bot.adapters import workers
from alembic_heads_bot.adapters.disk import DiskTree
from alembic_heads_bot.adapters.git import GitTree
from alembic_heads_bot.engine.scan import ParseJob, encode_parsed, parse_files
from alembic_heads_bot.engine.tree import Tree
from gitrepo import GitRepo

COUNT = 1_200  # enough for two shares of `workers.MIN_SHARE`

# Every kind of record: plain, a dynamic binding, a syntax error (found when compiled), a
# non-ASCII file, a file the line grammar leaves to Python, one with no revision at all, and a
# large one.
KINDS = (
    'revision = "r{i}"\ndown_revision = {down!r}\n\n\ndef upgrade() -> None:\n    pass\n',
    'revision = "r{i}"\ndown_revision = {down!r}\nglobals()["branch_labels"] = ("x",)\n',
    'revision = "r{i}"\ndown_revision = {down!r}\n\n\ndef upgrade(:\n    pass\n',
    '"""Ünïcode {i}"""\nrevision = "r{i}"\ndown_revision = {down!r}\n',
    'revision = "r{i}"  ;  down_revision = {down!r}\n',
    "x = {i}\n",
    "# a file larger than the trees below read{pad}\n",
)


def files() -> dict[str, str]:
    found = {}
    for i in range(COUNT):
        down = f"r{i - 1}" if i else None
        text = KINDS[i % len(KINDS)].format(i=i, down=down, pad="." * 200)
        found[f"m/versions/r{i:04}.py"] = text
    return found


def jobs_of(tree: Tree) -> list[ParseJob]:
    paths = sorted(tree.paths())
    return [ParseJob(p, tree.oid(p), compile_check=i % 3 == 0) for i, p in enumerate(paths)]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.fixture
def two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(workers.WORKERS_VARIABLE, "2")
    assert workers.workers() == 2, "these tests need a machine with two cores or more"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    repo = GitRepo.init(tmp_path_factory.mktemp("workers") / "repo")
    repo.write(files())
    repo.write({"elsewhere.py": "revision = 'z'\n"})
    repo.symlink("m/versions/zz_link.py", "../../elsewhere.py")
    repo.commit()
    return repo


@pytest.fixture
def git_tree(repo: GitRepo) -> Iterator[GitTree]:
    with repo.open() as handle:
        yield GitTree(handle, "HEAD")


def test_files_on_disk_parsed_by_two_processes_give_one_process_s_records(repo, two_workers):
    tree = DiskTree(repo.path, max_bytes=150)  # some files are too large to read
    jobs = jobs_of(tree)
    before = children_cpu()
    parsed = workers.parse_many(tree, jobs)
    assert children_cpu() > before  # a child did part of the work
    expected = parse_files(tree, jobs)
    assert parsed == expected
    assert [p.oid for p in parsed] == [p.oid for p in expected]
    codes = {problem.code for p in parsed for problem in p.problems}
    assert {"dynamic-binding", "syntax-error", "file-too-large", "unreadable-file"} <= codes


def test_a_git_tree_s_children_read_with_git_of_their_own_and_leave_links_to_the_parent(
    git_tree, two_workers
):
    jobs = jobs_of(git_tree)
    assert jobs[-1].path == "m/versions/zz_link.py"  # in the child's share
    before = children_cpu()
    parsed = workers.parse_many(git_tree, jobs)
    assert children_cpu() > before
    assert parsed == parse_files(git_tree, jobs)
    assert [p.code for p in parsed[-1].problems] == ["unreadable-file"]
    assert "symbolic link" in parsed[-1].problems[0].message


def test_one_worker_parses_here(repo, monkeypatch):
    monkeypatch.setenv(workers.WORKERS_VARIABLE, "1")
    tree = DiskTree(repo.path)
    before = children_cpu()
    assert workers.parse_many(tree, jobs_of(tree)) == parse_files(tree, jobs_of(tree))
    assert children_cpu() == before


def test_an_answer_that_does_not_fit_its_share_is_refused(repo):
    tree = DiskTree(repo.path)
    share = jobs_of(tree)[1:4]
    good = [(encode_parsed(p), p.oid) for p in parse_files(tree, share)]
    assert workers.decode_answer(marshal.dumps(good), share) == parse_files(tree, share)
    left = [good[0], None, good[2]]  # the middle one left to the parent
    assert workers.decode_answer(marshal.dumps(left), share)[1] is None
    for bad in (b"", b"\x00garbage", marshal.dumps(good[:2]), marshal.dumps(good[::-1])):
        assert workers.decode_answer(bad, share) is None
