"""A directory on disk as a Tree: what is listed, what is pruned, links, identities, bytes."""

from __future__ import annotations

import errno
import os
import tracemalloc
from pathlib import Path

import pytest
from alembic_heads_bot.adapters.disk import DiskTree
from alembic_heads_bot.engine.errors import SourceError
from alembic_heads_bot.engine.parse import MAX_FILE_BYTES, decode_source
from alembic_heads_bot.engine.scan import scan_tree
from alembic_heads_bot.engine.tree import SKIPPED_DIRS, FileTooLarge
from projects import INI, chain
from projects import path as revision_path


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        target.write_bytes(data)


def test_paths_are_every_file_by_sorted_posix_path_relative_to_the_root(tmp_path: Path) -> None:
    write(tmp_path, {"b.txt": "", "a/z.py": "", "a/b/c.py": "", "a.py": "", ".hidden/x": ""})
    (tmp_path / "empty").mkdir()
    # Code-point order of whole paths, as git lists them: "a.py" before "a/...".
    assert list(DiskTree(tmp_path).paths()) == [".hidden/x", "a.py", "a/b/c.py", "a/z.py", "b.txt"]


def test_tool_directories_and_virtualenvs_below_the_root_are_pruned(tmp_path: Path) -> None:
    write(tmp_path, {f"{name}/x.py": "" for name in SKIPPED_DIRS})
    write(
        tmp_path,
        {
            "pkg/node_modules/lib.py": "",
            "env/pyvenv.cfg": "home = /usr\n",
            "env/lib/python3/site.py": "",
            "pyvenv.cfg": "home = /usr\n",  # `python -m venv .`: the project is still here
            "migrations/versions/a.py": "",
        },
    )
    assert list(DiskTree(tmp_path).paths()) == ["migrations/versions/a.py", "pyvenv.cfg"]


def test_symbolic_links_are_listed_with_their_text_and_never_followed(tmp_path: Path) -> None:
    write(tmp_path, {"real/a.py": "revision = 'a'\n"})
    (tmp_path / "file_link.py").symlink_to("./real/a.py")
    (tmp_path / "dir_link").symlink_to("real")
    (tmp_path / "dangling.py").symlink_to("nowhere.py")
    tree = DiskTree(tmp_path)
    assert list(tree.paths()) == ["dangling.py", "dir_link", "file_link.py", "real/a.py"]
    assert tree.link("file_link.py") == "./real/a.py"
    assert tree.link("dir_link") == "real"
    assert tree.link("dangling.py") == "nowhere.py"
    assert tree.link("real/a.py") is None


def test_read_gives_the_bytes_of_listed_files_only(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": b"x = 1\r\n\xff", "node_modules/b.py": "y"})
    (tmp_path / "link.py").symlink_to("a.py")
    (tmp_path / "dir_link").symlink_to(".")
    tree = DiskTree(tmp_path)
    assert tree.read("a.py") == b"x = 1\r\n\xff"
    with pytest.raises(OSError) as raised:
        tree.read("link.py")
    assert raised.value.errno == errno.ELOOP
    for unlisted in ("node_modules/b.py", "dir_link/a.py", "missing.py", "../a.py"):
        with pytest.raises(FileNotFoundError):
            tree.read(unlisted)


def test_oid_is_stable_and_changes_when_the_file_changes(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "one", "b.py": "one"})
    tree = DiskTree(tmp_path)
    first = tree.oid("a.py")
    assert tree.oid("a.py") == first
    write(tmp_path, {"a.py": "two"})
    assert tree.oid("a.py") != first
    # A stat identity, not a content hash: equal bytes in two files still get two ids.
    assert tree.oid("b.py") != tree.oid("a.py")
    stat = (tmp_path / "b.py").stat()
    second = tree.oid("b.py")
    os.utime(tmp_path / "b.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert tree.oid("b.py") != second
    with pytest.raises(FileNotFoundError):
        tree.oid("missing.py")


def test_paths_are_a_snapshot_taken_on_first_use(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": ""})
    tree = DiskTree(tmp_path)
    assert list(tree.paths()) == ["a.py"]
    write(tmp_path, {"b.py": ""})
    assert list(tree.paths()) == ["a.py"]
    assert list(DiskTree(tmp_path).paths()) == ["a.py", "b.py"]
    assert tree.unreadable_dirs == ()


def test_a_root_that_is_not_a_directory_is_a_source_error(tmp_path: Path) -> None:
    write(tmp_path, {"file": ""})
    for name in ("file", "missing"):
        with pytest.raises(SourceError) as raised:
            DiskTree(tmp_path / name)
        assert str(raised.value) == f"not a directory: {tmp_path / name}"


def test_an_oversized_file_is_refused_by_its_size_before_any_byte_is_read(tmp_path: Path) -> None:
    big = b"revision = 'c'\n" + b"#" * (MAX_FILE_BYTES * 8)
    write(tmp_path, {"alembic.ini": INI, **chain("a", "b"), revision_path("c"): big})
    tree = DiskTree(tmp_path)
    tracemalloc.start()
    with pytest.raises(FileTooLarge) as refused:
        tree.read(revision_path("c"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000  # reading the file would cost its 32 MB
    assert (refused.value.errno, refused.value.size) == (errno.EFBIG, len(big))
    [problem] = scan_tree(tree).all_problems()
    assert problem == decode_source(big, revision_path("c"))  # as the parser says it of the bytes
    assert tree.read(revision_path("b")) == chain("a", "b")[revision_path("b")].encode()
