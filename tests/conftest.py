"""Session-wide test settings."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own parse-cache directory: no test reads another's cache, and
    the suite never writes into the real ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
