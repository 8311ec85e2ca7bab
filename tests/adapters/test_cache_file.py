"""The parse cache on disk: reused across runs, invalidated by content, harmless when broken."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic_heads_bot.adapters import cache_file as cachefile
from alembic_heads_bot.adapters.disk import DiskTree
from alembic_heads_bot.engine.scan import scan_tree

REV = 'revision = "{rev}"\ndown_revision = {down!r}\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = m\n")
    (tmp_path / "m" / "versions").mkdir(parents=True)
    for rev, down in [("a1", None), ("b2", "a1")]:
        (tmp_path / "m" / "versions" / f"{rev}.py").write_text(REV.format(rev=rev, down=down))
    return tmp_path


def run(project: Path):
    path = cachefile.cache_path()
    cache = cachefile.load(path)
    scan = scan_tree(DiskTree(project), cache=cache)
    cachefile.save(cache, path)
    return scan, cache


def test_second_run_parses_nothing_and_gives_the_same_graph(project):
    first, cold = run(project)
    second, warm = run(project)
    assert (cold.misses, warm.misses, warm.hits) == (2, 0, 2)
    assert second.environments[0].graph.heads == first.environments[0].graph.heads == ("b2",)
    assert second.environments[0].files == first.environments[0].files


def test_a_changed_file_is_parsed_again(project):
    run(project)
    (project / "m" / "versions" / "c3.py").write_text(REV.format(rev="c3", down="b2"))
    (project / "m" / "versions" / "b2.py").write_text(REV.format(rev="b2", down="a1") + "# edit\n")
    scan, cache = run(project)
    assert (cache.hits, cache.misses) == (1, 2)
    assert scan.environments[0].graph.heads == ("c3",)


def test_a_corrupt_cache_file_is_a_cold_start(project):
    run(project)
    path = cachefile.cache_path()
    path.write_bytes(b"\x00garbage")
    scan, cache = run(project)
    assert cache.misses == 2
    assert scan.environments[0].graph.heads == ("b2",)


def test_the_cache_can_be_turned_off(project, monkeypatch):
    monkeypatch.setenv("ALEMBIC_HEADS_BOT_CACHE", "0")
    assert cachefile.cache_path() is None
    run(project)
    _, cache = run(project)
    assert cache.misses == 2


def test_a_read_only_cache_location_does_not_fail_the_run(project, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    scan, _ = run(project)
    assert scan.environments[0].graph.heads == ("b2",)
