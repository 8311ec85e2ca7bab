"""The parse cache on disk, so that a second local run re-parses only the files that changed.

Entries are plain tuples written with `marshal` (data only: loading one runs nothing). The file
name carries a digest of the parsers' own source, so a new parser never reads old results. A
missing, unreadable or corrupt cache is simply a cold start.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path

from alembic_heads_bot.engine import header, model, parse
from alembic_heads_bot.engine.scan import ParseCache, encode_parsed

MAX_ENTRIES = 200_000


def cache_path() -> Path | None:
    """Where the cache lives, or None when it is turned off (ALEMBIC_HEADS_BOT_CACHE=0)."""
    if os.environ.get("ALEMBIC_HEADS_BOT_CACHE", "1") in ("0", "off", "false"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    digest = hashlib.sha1()
    for module in (parse, header, model):
        digest.update(Path(module.__file__ or "").read_bytes())
    return Path(base) / "alembic-heads-bot" / f"parsed-{digest.hexdigest()[:16]}.marshal"


def load(path: Path | None) -> ParseCache:
    cache = ParseCache()
    if path is None:
        return cache
    try:
        stored = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return cache
    if isinstance(stored, dict):
        cache.stored = stored
    return cache


def save(cache: ParseCache, path: Path | None) -> None:
    """Write back when this run parsed anything new; older entries go first past the limit."""
    if path is None or not cache.misses:
        return
    entries = {
        **cache.stored,
        **{key: encode_parsed(value) for key, value in cache.entries.items()},
    }
    kept = dict(list(entries.items())[-MAX_ENTRIES:])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(marshal.dumps(kept))
        partial.replace(path)
    except OSError:
        pass  # a read-only home is no reason to fail a check
