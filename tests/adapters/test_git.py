"""A commit as a Tree, read from git's object database without touching the checkout."""

from __future__ import annotations

import errno
import os
import shlex
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from alembic_heads_bot.adapters import git as git_adapter
from alembic_heads_bot.adapters.disk import DiskTree
from alembic_heads_bot.adapters.git import (
    GitError,
    GitTree,
    NotAGitRepository,
    UnknownRevision,
    merge_base,
    merge_tree,
    open_repo,
    resolve,
)
from alembic_heads_bot.engine.errors import SourceError
from alembic_heads_bot.engine.parse import MAX_FILE_BYTES, decode_source
from alembic_heads_bot.engine.scan import scan_tree
from alembic_heads_bot.engine.tree import FileTooLarge
from gitrepo import GitRepo
from projects import INI, chain, path

LATIN1_NAME = os.fsdecode(b"v/caf\xe9.py")  # not UTF-8: git and the filesystem keep bytes


def populated(path: Path) -> GitRepo:
    repo = GitRepo.init(path)
    repo.write(
        {
            "migrations/versions/a.py": "revision = 'a'\n",
            "migrations/versions/sub/b.py": "revision = 'b'\n",
            "data/blob.bin": bytes(range(256)),
            LATIN1_NAME: "x = 1\n",
            "a.py": "top\n",
        }
    )
    repo.symlink("migrations/versions/link.py", "../../a.py")
    repo.symlink("migrations/versions/linked_dir", "sub")
    repo.symlink("dangling.py", "./nowhere.py")
    repo.commit("layout")
    return repo


def test_a_commit_lists_reads_and_links_like_its_checkout(tmp_path: Path) -> None:
    repo = populated(tmp_path / "repo")
    disk = DiskTree(repo.path)
    with repo.open() as handle:
        tree = GitTree(handle, "HEAD")
        assert list(tree.paths()) == list(disk.paths())
        assert LATIN1_NAME in tree.paths()
        for path in tree.paths():
            assert tree.link(path) == disk.link(path)
            assert tree.oid(path) == repo.object_id(f"HEAD:{path}")
            if tree.link(path) is None:
                assert tree.read(path) == disk.read(path)
        assert tree.link("dangling.py") == "./nowhere.py"
        assert tree.commit == repo.rev("HEAD")


def test_a_commit_that_is_not_checked_out_is_read_as_committed(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write({"v/a.py": "main a\n", "v/c.py": "main c\n"})
    main = repo.commit("main")
    repo.branch("feature")
    repo.checkout("feature")
    repo.write({"v/a.py": "feature a\n", "v/b.py": "feature b\n", "v/c.py": None})
    repo.symlink("v/l.py", "b.py")
    feature = repo.commit("feature")
    repo.checkout("main")

    with repo.open() as handle:
        tree = GitTree(handle, "feature")
        assert tree.commit == feature
        assert list(tree.paths()) == ["v/a.py", "v/b.py", "v/l.py"]
        assert tree.read("v/a.py") == b"feature a\n"
        assert tree.link("v/l.py") == "b.py"
        old = GitTree(handle, main)
        assert list(old.paths()) == ["v/a.py", "v/c.py"]
        assert old.read("v/a.py") == b"main a\n"
    assert (repo.path / "v/a.py").read_bytes() == b"main a\n"


def test_reading_commits_changes_nothing_in_the_working_tree_or_index(tmp_path: Path) -> None:
    repo = populated(tmp_path / "repo")
    repo.branch("other")
    repo.checkout("other")
    repo.write({"migrations/versions/a.py": "revision = 'other'\n"})
    repo.commit("other")
    repo.checkout("main")
    repo.write({"a.py": "edited, not staged\n", "untracked.py": "new\n"})
    repo.write({"data/blob.bin": b"staged"})
    repo.git("add", "data/blob.bin")
    index = repo.path / ".git" / "index"
    before = (repo.status(), index.read_bytes(), index.stat().st_mtime_ns, repo.rev("HEAD"))
    assert "M a.py" in before[0]

    with repo.open() as handle:
        for rev in ("other", "main", "HEAD"):
            tree = GitTree(handle, rev)
            for path in tree.paths():
                tree.oid(path)
                if tree.link(path) is None:
                    tree.read(path)

    after = (repo.status(), index.read_bytes(), index.stat().st_mtime_ns, repo.rev("HEAD"))
    assert after == before
    assert (repo.path / "a.py").read_text() == "edited, not staged\n"


def test_submodules_are_left_out(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write({"a.py": ""})
    sha = repo.commit()
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sha},vendored")
    repo.git("commit", "--quiet", "--message", "add a submodule")
    with repo.open() as handle:
        tree = GitTree(handle, "HEAD")
        assert "vendored" in repo.git("ls-tree", "HEAD")
        assert list(tree.paths()) == ["a.py"]


def test_missing_paths_and_links_cannot_be_read(tmp_path: Path) -> None:
    repo = populated(tmp_path / "repo")
    with repo.open() as handle:
        tree = GitTree(handle, "HEAD")
        with pytest.raises(FileNotFoundError):
            tree.read("migrations/versions/linked_dir/b.py")
        with pytest.raises(FileNotFoundError):
            tree.link("migrations")
        with pytest.raises(OSError) as raised:
            tree.read("migrations/versions/link.py")
        assert raised.value.errno == errno.ELOOP


def test_many_files_are_read_at_once_as_read_reads_them(tmp_path: Path) -> None:
    """One git process for many files; links, missing and oversized files are left to `read`,
    which explains them, and no more than the budget is held at once."""
    repo = populated(tmp_path / "repo")
    with repo.open() as handle:
        tree = GitTree(handle, "HEAD", max_bytes=100)
        files = sorted(tree.paths())
        many = tree.read_many([*files, "not/there.py"])
        readable = {p for p in files if tree.link(p) is None and p != "data/blob.bin"}
        assert set(many) == readable
        assert all(data == tree.read(p) for p, data in many.items())
        some = tree.read_many(files, budget=20)
        assert 0 < len(some) < len(many)
        assert all(data == many[p] for p, data in some.items())


def test_revision_expressions_resolve_to_full_commit_shas(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    first = repo.commit("first")
    second = repo.commit("second")
    repo.git("tag", "--annotate", "--message", "release", "v1", first)
    with repo.open() as handle:
        assert resolve(handle, "HEAD") == second
        assert resolve(handle, "main~1") == first
        assert resolve(handle, first[:8]) == first
        assert resolve(handle, "v1") == first  # an annotated tag, peeled to its commit


@pytest.mark.parametrize(
    ("rev", "message"),
    [
        ("nope", "unknown revision 'nope': no commit by that name in {path}"),
        ("-n1", "invalid revision '-n1'"),
        ("", "invalid revision ''"),
    ],
)
def test_an_unknown_revision_is_a_source_error_saying_which(
    tmp_path: Path, rev: str, message: str
) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit()
    with repo.open() as handle, pytest.raises(SourceError) as raised:
        GitTree(handle, rev)
    assert isinstance(raised.value, UnknownRevision)
    assert str(raised.value) == message.format(path=repo.path)


def test_what_git_says_about_a_revision_it_cannot_use_is_passed_on(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    sha = repo.commit()
    with repo.open() as handle, pytest.raises(GitError) as raised:
        resolve(handle, "HEAD^{tree}")
    assert str(raised.value) == (
        f"cannot resolve revision 'HEAD^{{tree}}' in {repo.path}: HEAD^{{tree}}^{{commit}}: "
        "expected commit type, but the object dereferences to tree type"
    )
    loose = repo.path / ".git" / "objects" / sha[:2] / sha[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"garbage")
    with repo.open() as handle, pytest.raises(GitError, match=f"loose object {sha} .* is corrupt"):
        GitTree(handle, "HEAD")


def test_a_commit_missing_from_a_shallow_clone_says_how_to_fetch_it(tmp_path: Path) -> None:
    source = GitRepo.init(tmp_path / "source")
    first = source.commit("first")
    source.commit("second")
    clone = GitRepo(tmp_path / "clone")
    subprocess.run(
        ["git", "clone", "--quiet", "--depth=1", f"file://{source.path}", str(clone.path)],
        check=True,
        capture_output=True,
    )
    with clone.open() as handle, pytest.raises(UnknownRevision) as raised:
        resolve(handle, first)
    message = str(raised.value)
    assert "this is a shallow clone, which has only the newest commits" in message
    command = message.split("`")[1]
    assert command == "git fetch --unshallow origin"
    clone.git(*shlex.split(command)[1:])
    with clone.open() as handle:
        assert resolve(handle, first) == first


def test_open_repo_finds_the_repository_from_a_subdirectory(tmp_path: Path) -> None:
    repo = populated(tmp_path / "repo")
    with open_repo(repo.path / "migrations" / "versions") as handle:
        assert Path(handle.working_tree_dir) == repo.path


def test_open_repo_outside_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotAGitRepository) as raised:
        open_repo(tmp_path)
    assert str(raised.value) == (
        f"not a git repository (or any of its parent directories): {tmp_path}"
    )
    assert isinstance(raised.value, GitError)
    with pytest.raises(NotAGitRepository, match="no such directory"):
        open_repo(tmp_path / "missing")


def test_importing_the_sources_does_not_import_gitpython() -> None:
    code = (
        "import sys, alembic_heads_bot.adapters.git, alembic_heads_bot.adapters.disk; "
        "import alembic_heads_bot.engine.versions; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('git', 'gitdb')))"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_listing_derived_from_a_near_tree_is_the_listing_of_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request's other trees are listed as the base tip's listing plus `diff-tree`:
    every kind of change gives the entries, reads and links `ls-tree` gives."""
    monkeypatch.setattr(git_adapter, "_NEAR", 0)  # real ones derive from 2,000 files up
    repo = populated(tmp_path / "repo")
    repo.write({"d/x.py": "x\n", "f": "file\n", "exe.sh": "run\n", "gone.py": "bye\n"})
    base = repo.commit("base")
    repo.write({"migrations/versions/a.py": "revision = 'a2'\n", "gone.py": None})
    repo.write({"d/x.py": None, "f": None, "new/deep/n.py": "n\n"})
    (repo.path / "d").rmdir()
    repo.write({"d": "now a file\n"})  # a directory that becomes a file
    repo.write({"f/inside.py": "f is a directory now\n", LATIN1_NAME: "y = 2\n"})
    (repo.path / "a.py").unlink()
    repo.symlink("a.py", "data/blob.bin")  # a file that becomes a link
    repo.git("update-index", "--chmod=+x", "exe.sh")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{base},sub")  # a submodule
    head = repo.commit("every kind of change")
    with repo.open() as handle:
        near = GitTree(handle, base)
        derived, listed = GitTree(handle, head, near=near), GitTree(handle, head)
        assert sorted(derived.paths()) == sorted(listed.paths())
        assert derived._listing() == listed._listing()
        for name in listed.paths():
            assert (derived.link(name), derived.oid(name)) == (listed.link(name), listed.oid(name))
            if listed.link(name) is None:
                assert derived.read(name) == listed.read(name)
        assert "sub" not in derived.paths() and "f/inside.py" in derived.paths()


# --- merge base and trial merges -------------------------------------------------------------


def diverged(path: Path) -> GitRepo:
    """main and feature both changed line 2 of v/a.py since they forked; feature added v/b.py."""
    repo = GitRepo.init(path)
    repo.write({"v/a.py": "one\ntwo\nthree\n", "v/c.py": "c\n"})
    repo.commit("fork point")
    repo.branch("feature")
    repo.write({"v/a.py": "one\nTWO (main)\nthree\n", "v/c.py": "c on main\n"})
    repo.commit("main")
    repo.checkout("feature")
    repo.write({"v/a.py": "one\nTWO (feature)\nthree\n", "v/b.py": "b\n"})
    repo.commit("feature")
    repo.checkout("main")
    return repo


def test_the_merge_base_is_the_fork_point_or_none_for_unrelated_histories(
    tmp_path: Path,
) -> None:
    repo = diverged(tmp_path / "repo")
    repo.git("checkout", "--quiet", "--orphan", "unrelated")
    repo.commit("a history of its own")
    repo.checkout("main")
    with repo.open() as handle:
        assert merge_base(handle, "main", "feature") == repo.rev("main~1")
        assert merge_base(handle, "feature", "main") == repo.rev("main~1")
        assert merge_base(handle, "main", "unrelated") is None
        with pytest.raises(UnknownRevision):
            merge_base(handle, "main", "nope")


def test_a_conflicted_trial_merge_names_the_paths_and_keeps_the_markers(tmp_path: Path) -> None:
    repo = diverged(tmp_path / "repo")
    with repo.open() as handle:
        result = merge_tree(handle, "main", "feature")
        tree = GitTree(handle, result.tree)
        assert result.conflicts == ("v/a.py",)
        assert "CONFLICT (content): Merge conflict in v/a.py" in result.messages
        assert tree.commit is None
        assert list(tree.paths()) == ["v/a.py", "v/b.py", "v/c.py"]
        merged = tree.read("v/a.py").decode()
        assert "<<<<<<< " in merged
        assert "TWO (main)" in merged
        assert "TWO (feature)" in merged
        assert tree.read("v/b.py") == b"b\n"
        assert tree.read("v/c.py") == b"c on main\n"
        with pytest.raises(FileNotFoundError, match="not in tree"):
            tree.read("v/missing.py")


def test_a_clean_trial_merge_has_the_tree_git_merge_would_commit(tmp_path: Path) -> None:
    repo = diverged(tmp_path / "repo")
    repo.checkout("feature")
    repo.write({"v/a.py": "one\nTWO (main)\nthree\n"})
    repo.commit("take main's line")
    repo.checkout("main")
    with repo.open() as handle:
        result = merge_tree(handle, "main", "feature")
    assert result.conflicts == ()
    repo.merge("feature")
    assert result.tree == repo.object_id("HEAD^{tree}")


def test_a_trial_merge_writes_no_ref_index_or_working_tree_file(tmp_path: Path) -> None:
    repo = diverged(tmp_path / "repo")
    repo.write({"v/c.py": "edited, not staged\n", "untracked.py": "new\n"})
    index = repo.path / ".git" / "index"

    def state() -> tuple[object, ...]:
        refs = repo.git("for-each-ref", "--format=%(refname) %(objectname)")
        head = (repo.path / ".git" / "HEAD").read_text()
        files = sorted(
            p.relative_to(repo.path) for p in repo.path.rglob("*") if ".git" not in p.parts
        )
        return refs, head, repo.status(), index.read_bytes(), index.stat().st_mtime_ns, files

    before = state()
    with repo.open() as handle:
        merge_tree(handle, "main", "feature")
        merge_base(handle, "main", "feature")
    assert state() == before
    assert not (repo.path / ".git" / "MERGE_HEAD").exists()


def test_a_trial_merge_of_unrelated_histories_is_a_clear_error(tmp_path: Path) -> None:
    repo = diverged(tmp_path / "repo")
    repo.git("checkout", "--quiet", "--orphan", "unrelated")
    repo.commit("a history of its own")
    with repo.open() as handle, pytest.raises(GitError) as raised:
        merge_tree(handle, "main", "unrelated")
    assert (
        str(raised.value)
        == "cannot merge 'unrelated' into 'main': refusing to merge unrelated histories"
    )


def test_a_tree_id_is_read_like_a_commit_and_a_blob_id_is_refused(tmp_path: Path) -> None:
    repo = populated(tmp_path / "repo")
    with repo.open() as handle:
        by_commit = GitTree(handle, "HEAD")
        by_tree = GitTree(handle, repo.object_id("HEAD^{tree}"))
        assert (by_tree.commit, by_tree.object_id) == (None, repo.object_id("HEAD^{tree}"))
        assert list(by_tree.paths()) == list(by_commit.paths())
        assert by_tree.read("a.py") == b"top\n"
        assert by_tree.link("dangling.py") == "./nowhere.py"
        blob = repo.object_id("HEAD:a.py")
        with pytest.raises(
            GitError, match="expected commit type, but the object dereferences to blob"
        ):
            GitTree(handle, blob)


# --- bounded reads ---------------------------------------------------------------------------

OVERSIZED = MAX_FILE_BYTES * 8  # 32 MB: reading it would show in the memory peak


def test_an_oversized_blob_is_refused_by_its_size_before_any_byte_is_read(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    big = b"revision = 'c'\n" + b"#" * OVERSIZED
    repo.write({"alembic.ini": INI, **chain("a", "b"), path("c"): big})
    repo.commit("a 32 MB revision file")
    with repo.open() as handle:
        tree = GitTree(handle, "HEAD")
        tree.read(path("b"))  # the cat-file process is up: its start is not measured
        tracemalloc.start()
        with pytest.raises(FileTooLarge) as refused:
            tree.read(path("c"))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 1_000_000  # reading the blob would cost its 32 MB
        assert refused.value.errno == errno.EFBIG
        assert (refused.value.size, refused.value.limit) == (len(big), MAX_FILE_BYTES)
        [problem] = scan_tree(tree).all_problems()
    # said exactly as the parser says it of the same bytes in hand
    assert problem == decode_source(big, path("c"))
    assert problem.code == "file-too-large"
    assert f"The file is {len(big):,} bytes" in problem.message
