"""Which files are revisions, and in what order: checked against Alembic's own loader.

Every layout here is a real directory; Alembic's `ScriptDirectory._load_revisions` is run on it
as the oracle (it imports the files, so each file written is a valid trivial revision).
"""

from __future__ import annotations

import os
import py_compile
import re
import tempfile
import warnings
from importlib.util import cache_from_source
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from alembic_heads_bot.adapters.disk import DiskTree
from alembic_heads_bot.adapters.git import GitTree
from alembic_heads_bot.engine.model import Environment, Problem
from alembic_heads_bot.engine.versions import list_revision_files
from gitrepo import GitRepo
from hypothesis import given, settings
from hypothesis import strategies as st

# --- layouts and the oracle -----------------------------------------------------------------------


def revision_source(path: str) -> str:
    name = re.sub(r"\W", "_", path)
    return f'revision = "r_{name}"\ndown_revision = None\n'


def make(root: Path, files: list[str], links: dict[str, str] | None = None) -> Path:
    """Write valid revision files at `files` and symbolic links {path: target text}."""
    for path in files:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(revision_source(path))
    for path, target in (links or {}).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).symlink_to(target)
    return root


def environment(*locations: str, recursive: bool = False, sourceless: bool = False) -> Environment:
    return Environment(
        name="alembic.ini",
        config_path="alembic.ini",
        section="alembic",
        script_location="migrations",
        version_locations=locations,
        recursive_version_locations=recursive,
        sourceless=sourceless,
    )


def alembic_load(root: Path, env: Environment) -> tuple[list[str], list[str]]:
    """Alembic's load order (tree-relative) and its duplicate warnings, paths made relative."""
    locations = env.version_locations or (f"{env.script_location}/versions",)
    script_dir = ScriptDirectory(
        str(root),
        version_locations=[str(root / location) for location in locations],
        recursive_version_locations=env.recursive_version_locations,
        sourceless=env.sourceless,
    )
    real_root = f"{root.resolve()}/"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = [script.path.removeprefix(real_root) for script in script_dir._load_revisions()]
    duplicates = [
        str(warning.message).replace(real_root, "")
        for warning in caught
        if "loaded twice" in str(warning.message)
    ]
    return loaded, duplicates


def matches_alembic(root: Path, env: Environment) -> tuple[tuple[str, ...], tuple[Problem, ...]]:
    """Our listing of `root`, after checking it against Alembic's (ours runs first: Alembic's
    imports write __pycache__ files)."""
    files, problems = list_revision_files(DiskTree(root), env)
    loaded, duplicates = alembic_load(root, env)
    assert list(files) == loaded
    assert [p.message for p in problems if p.code == "duplicate-file"] == duplicates
    return files, problems


def codes(problems: tuple[Problem, ...]) -> list[tuple[str, str | None]]:
    return [(problem.code, problem.path) for problem in problems]


# --- order ----------------------------------------------------------------------------------------


def test_each_directory_lists_its_files_by_name_before_its_subdirectories(tmp_path: Path) -> None:
    make(
        tmp_path,
        [
            "v/b.py",
            "v/a.py",
            "v/B.py",
            "v/1.py",
            "v/sub2/c.py",
            "v/sub1/z.py",
            "v/sub1/deep/d.py",
            "v/Sub/e.py",
        ],
    )
    files, problems = matches_alembic(tmp_path, environment("v", recursive=True))
    assert files == (
        "v/1.py",
        "v/B.py",
        "v/a.py",
        "v/b.py",
        "v/Sub/e.py",
        "v/sub1/z.py",
        "v/sub1/deep/d.py",
        "v/sub2/c.py",
    )
    assert problems == ()


def test_subdirectories_are_ignored_without_recursive_version_locations(tmp_path: Path) -> None:
    make(tmp_path, ["v/a.py", "v/sub/b.py"])
    files, _ = matches_alembic(tmp_path, environment("v"))
    assert files == ("v/a.py",)


def test_version_locations_are_read_in_configuration_order(tmp_path: Path) -> None:
    make(tmp_path, ["a/z.py", "b/a.py"])
    files, _ = matches_alembic(tmp_path, environment("b", "a"))
    assert files == ("b/a.py", "a/z.py")


def test_hidden_directories_are_walked_and_pycache_directories_are_not(tmp_path: Path) -> None:
    make(tmp_path, ["v/.hidden/a.py", "v/__pycache__/b.py", "v/x__pycache__/c.py", "v/d.py"])
    files, _ = matches_alembic(tmp_path, environment("v", recursive=True))
    assert files == ("v/d.py", "v/.hidden/a.py")


def test_pycache_subdirectories_are_still_walked_as_alembic_does(tmp_path: Path) -> None:
    make(tmp_path, ["v/__pycache__/inner/a.py", "v/__pycache__/b.py"])
    files, _ = matches_alembic(tmp_path, environment("v", recursive=True))
    assert files == ("v/__pycache__/inner/a.py",)


def test_default_location_is_script_location_versions(tmp_path: Path) -> None:
    make(tmp_path, ["migrations/versions/a.py", "migrations/env.py"])
    files, _ = matches_alembic(tmp_path, environment())
    assert files == ("migrations/versions/a.py",)


def test_missing_locations_and_a_location_that_is_a_file_are_skipped_silently(
    tmp_path: Path,
) -> None:
    make(tmp_path, ["v/a.py", "file.py"])
    files, problems = matches_alembic(tmp_path, environment("missing", "file.py", "v"))
    assert files == ("v/a.py",)
    assert problems == ()


# --- the name filter ------------------------------------------------------------------------------


def test_only_py_names_count_minus_emacs_locks_and_init_modules(tmp_path: Path) -> None:
    names = [
        "_private.py",
        ".hidden.py",
        "X.PY",
        "x.py.bak",
        "__init__.py",
        "__init__x.py",
        ".#lock.py",
        "notes.txt",
        "README",
        "x.pyc",
        "ok.py",
    ]
    make(tmp_path, [f"v/{name}" for name in names])
    files, _ = matches_alembic(tmp_path, environment("v"))
    assert files == ("v/.hidden.py", "v/_private.py", "v/ok.py")


def test_a_symbolic_link_is_filtered_and_reported_by_its_resolved_name(tmp_path: Path) -> None:
    make(
        tmp_path,
        ["shared/real.py", "shared/notes.txt"],
        {"v/link.txt": "../shared/real.py", "v/fake.py": "../shared/notes.txt"},
    )
    files, problems = matches_alembic(tmp_path, environment("v"))
    assert files == ("shared/real.py",)
    assert problems == ()


def test_a_symbolically_linked_subdirectory_is_not_followed(tmp_path: Path) -> None:
    make(tmp_path, ["elsewhere/a.py", "v/b.py"], {"v/linked": "../elsewhere"})
    files, _ = matches_alembic(tmp_path, environment("v", recursive=True))
    assert files == ("v/b.py",)


def test_a_location_reached_through_a_linked_directory_lists_the_real_files(
    tmp_path: Path,
) -> None:
    make(tmp_path, ["real/versions/a.py"], {"migrations": "real"})
    env = environment("migrations/versions", "real/../real/versions")
    files, _ = matches_alembic(tmp_path, env)
    assert files == ("real/versions/a.py",)


# --- duplicates and links Alembic cannot load -----------------------------------------------------


def test_a_file_reached_twice_is_loaded_once_with_alembics_warning(tmp_path: Path) -> None:
    make(tmp_path, ["v/a.py", "v/sub/b.py"], {"v/alias.py": "a.py"})
    files, problems = matches_alembic(tmp_path, environment("v", "v/sub", recursive=True))
    assert files == ("v/a.py", "v/sub/b.py")
    assert [p.message for p in problems] == [
        "File v/a.py loaded twice! ignoring. Please ensure version_locations is unique.",
        "File v/sub/b.py loaded twice! ignoring. Please ensure version_locations is unique.",
    ]
    assert {(p.code, p.severity, p.path) for p in problems} == {
        ("duplicate-file", "warning", "v/a.py"),
        ("duplicate-file", "warning", "v/sub/b.py"),
    }


def test_a_dangling_link_with_a_revision_name_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    make(tmp_path, ["v/a.py"], {"v/b.py": "gone.py", "v/c.py": "gone.txt"})
    files, problems = list_revision_files(DiskTree(tmp_path), environment("v"))
    assert files == ("v/a.py",)
    assert codes(problems) == [("unreadable-file", "v/b.py")]
    assert "v/b.py is a symbolic link to v/gone.py, which does not exist" in problems[0].message
    with pytest.raises(ImportError, match="Can't find Python file"):
        alembic_load(tmp_path, environment("v"))


def test_a_link_loop_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    make(tmp_path, ["v/a.py"], {"v/x.txt": "y.txt", "v/y.txt": "x.txt"})
    files, problems = list_revision_files(DiskTree(tmp_path), environment("v"))
    assert files == ("v/a.py",)
    assert codes(problems) == [("unreadable-file", "v/x.txt"), ("unreadable-file", "v/y.txt")]
    assert "loops" in problems[0].message
    with pytest.raises(RuntimeError, match="Symlink loop"):
        alembic_load(tmp_path, environment("v"))


def test_a_link_out_of_the_tree_that_alembic_would_load_is_reported(tmp_path: Path) -> None:
    make(tmp_path, ["outside/x.py", "outside/notes.txt"])
    root = make(
        tmp_path / "repo",
        ["v/a.py"],
        {"v/b.py": "../../outside/x.py", "v/c.py": "../../outside/notes.txt"},
    )
    files, problems = list_revision_files(DiskTree(root), environment("v"))
    assert files == ("v/a.py",)
    assert codes(problems) == [("unreadable-file", "v/b.py")]
    assert "outside the tree" in problems[0].message
    loaded, _ = alembic_load(root, environment("v"))
    assert loaded == ["v/a.py", str(tmp_path.resolve() / "outside/x.py")]


# --- sourceless -----------------------------------------------------------------------------------


def compile_to(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    py_compile.compile(str(source), cfile=str(target), doraise=True)


def test_sourceless_bytecode_without_source_is_refused_by_name(tmp_path: Path) -> None:
    make(tmp_path, ["v/a.py", "v/b.py", "v/c.py", "v/d.py"])
    for stem in "abcd":
        source = tmp_path / f"v/{stem}.py"
        compile_to(source, Path(cache_from_source(str(source))))
    compile_to(tmp_path / "v/c.py", tmp_path / "v/c.pyc")
    compile_to(tmp_path / "v/d.py", tmp_path / "v/d.pyc")
    (tmp_path / "v/b.py").unlink()  # stale __pycache__/b.*.pyc
    (tmp_path / "v/c.py").unlink()  # legacy c.pyc beside the sources
    env = environment("v", sourceless=True)

    files, problems = list_revision_files(DiskTree(tmp_path), env)
    loaded, _ = alembic_load(tmp_path, env)

    assert files == ("v/a.py", "v/d.py")
    stale = Path(cache_from_source(str(tmp_path / "v/b.py"))).relative_to(tmp_path).as_posix()
    assert codes(problems) == [("bytecode-only", "v/c.pyc"), ("bytecode-only", stale)]
    assert "v/c.pyc is compiled bytecode with no c.py source" in problems[0].message
    # Alembic loads exactly those files, bytecode included, in the same order.
    assert loaded == ["v/a.py", "v/c.pyc", "v/d.py", stale]


def test_sourceless_with_every_source_present_reads_only_sources(tmp_path: Path) -> None:
    make(tmp_path, ["v/a.py", "v/sub/b.py"])
    for path in ("v/a.py", "v/sub/b.py"):
        compile_to(tmp_path / path, Path(cache_from_source(str(tmp_path / path))))
    compile_to(tmp_path / "v/a.py", tmp_path / "v/a.pyc")
    files, problems = matches_alembic(tmp_path, environment("v", recursive=True, sourceless=True))
    assert files == ("v/a.py", "v/sub/b.py")
    assert problems == ()


def test_without_sourceless_bytecode_is_ignored(tmp_path: Path) -> None:
    make(tmp_path, ["v/a.py"])
    compile_to(tmp_path / "v/a.py", tmp_path / "v/__pycache__/gone.cpython-311.pyc")
    compile_to(tmp_path / "v/a.py", tmp_path / "v/old.pyc")
    files, problems = matches_alembic(tmp_path, environment("v"))
    assert files == ("v/a.py",)
    assert problems == ()


# --- a commit reads like its checkout -------------------------------------------------------------


def test_a_commit_lists_the_same_revision_files_as_its_checkout(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    make(
        repo.path,
        ["v/b.py", "v/a.py", "v/sub/c.py", "v/__init__.py", "shared/s.py"],
        {"v/link.txt": "../shared/s.py", "v/dangling.py": "nowhere.py", "v/d": "sub"},
    )
    sha = repo.commit()
    env = environment("v", "shared", recursive=True)
    disk = list_revision_files(DiskTree(repo.path), env)
    with repo.open() as handle:
        commit = list_revision_files(GitTree(handle, sha), env)
    assert commit == disk
    # v/link.txt sorts with v's files, before v/sub; shared/ then meets s.py again.
    assert disk[0] == ("v/a.py", "v/b.py", "shared/s.py", "v/sub/c.py")
    assert codes(disk[1]) == [
        ("unreadable-file", "v/dangling.py"),
        ("duplicate-file", "shared/s.py"),
    ]


# --- random layouts -------------------------------------------------------------------------------

DIRS = ["v", "v/sub", "v/sub/deep", "v/.hidden", "v/__pycache__", "v/A", "v/b", "w", "w/x"]
FILE_NAMES = ["a.py", "B.py", "_p.py", ".h.py", "X.PY", "x.py.bak", "__init__.py", "n.txt", "z.py"]
LINK_NAMES = ["link.py", "link.txt", "ln"]
LOCATIONS = ["v", "w", "v/sub", "missing", "vlink", "v/sub/..", "w/x"]


@st.composite
def layouts(
    draw: st.DrawFn, with_links: bool = True
) -> tuple[list[str], dict[str, str], Environment]:
    files = draw(
        st.lists(
            st.builds("{}/{}".format, st.sampled_from(DIRS), st.sampled_from(FILE_NAMES)),
            unique=True,
            max_size=12,
        )
    )
    if not with_links:  # the listing's own path for trees without links (most trees)
        locations = draw(st.lists(st.sampled_from([*LOCATIONS, "."]), min_size=1, max_size=3))
        return files, {}, environment(*locations, recursive=draw(st.booleans()))
    targets = [*files, *DIRS, "v/gone.txt"]
    links = draw(
        st.dictionaries(
            st.builds("{}/{}".format, st.sampled_from(DIRS), st.sampled_from(LINK_NAMES)),
            st.sampled_from(targets),
            max_size=4,
        )
    )
    relative = {link: os.path.relpath(target, Path(link).parent) for link, target in links.items()}
    locations = draw(st.lists(st.sampled_from(LOCATIONS), min_size=1, max_size=3))
    env = environment(*locations, recursive=draw(st.booleans()))
    return files, {"vlink": "v", **relative}, env


@settings(max_examples=100, deadline=None)
@given(layouts())
def test_random_layouts_load_in_alembics_order(layout: tuple[list[str], dict, Environment]) -> None:
    files, links, env = layout
    with tempfile.TemporaryDirectory() as tmp:
        root = make(Path(tmp), files, links)
        matches_alembic(root, env)


@settings(max_examples=60, deadline=None)
@given(layouts(with_links=False))
def test_random_layouts_without_links_load_in_alembics_order(
    layout: tuple[list[str], dict, Environment],
) -> None:
    files, links, env = layout
    with tempfile.TemporaryDirectory() as tmp:
        root = make(Path(tmp), files, links)
        matches_alembic(root, env)
