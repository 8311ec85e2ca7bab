"""Session-wide test settings."""

from __future__ import annotations

import pytest

# The `fake_github` fixture: a GitHub on loopback whose every answer is checked against
# GitHub's published OpenAPI description. `postgres_url` and `postgres_database`: a real
# PostgreSQL server on loopback, started once per session. `shop`: a small project on the
# fake GitHub (tests/support/shop.py). `mermaid_parser`: Mermaid's own parser, in one node
# process per session (tests/support/mermaidparse.py).
pytest_plugins = ["fakegithub.plugin", "pgserver", "shop", "mermaidparse"]


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own parse-cache directory: no test reads another's cache, and
    the suite never writes into the real ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
