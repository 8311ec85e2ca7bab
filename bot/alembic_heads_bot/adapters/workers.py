"""Parsing many revision files on every core: a `ParseCache.parse_many` that forks.

A cold scan of 10,000 revision files spends most of its time reading and parsing them, file by
file, in pure Python, on one core. Where the process may use more, a large batch is split into
shares: forked children read and parse theirs while the parent does the first, and each child
sends its records back through a pipe, encoded as the on-disk cache encodes them (`marshal`:
data only). Every file goes through `scan.parse_job`, as on one core, so the records are the
same. A child that fails in any way (no fork, killed, a short answer) has its share parsed by
the parent: slower, never different.

A child reads what needs no state shared with the parent: files on disk (plain system calls),
and a git tree's blobs through a `git cat-file --batch` of its own (`read_many`). A file that
would need the parent's git connection (`GitTree.read`: a symbolic link, a blob left out of the
batch) is sent back unparsed, and the parent parses it.

Forks happen only on Linux (macOS's system libraries are not safe to use in a forked child,
which is why Python's multiprocessing spawns there; Windows has no fork), and only while this
is the process's one thread: a fork copies the calling thread alone, and a lock another thread
held stays locked in the child. `ALEMBIC_HEADS_BOT_WORKERS` caps the processes (1: no fork).
"""

from __future__ import annotations

import marshal
import os
import sys
import threading
from collections.abc import Sequence
from typing import NamedTuple

from alembic_heads_bot.adapters.disk import DiskTree
from alembic_heads_bot.engine.model import ParsedFile
from alembic_heads_bot.engine.scan import (
    EncodedFile,
    ParseCache,
    ParseJob,
    decode_parsed,
    encode_parsed,
    parse_files,
    parse_job,
    read_ahead,
)
from alembic_heads_bot.engine.tree import Tree

MAX_WORKERS = 4  # processes in all, the parent's included: the parent decodes every answer
MIN_SHARE = 500  # files: below this a fork and its answer cost more than the share's parse
WORKERS_VARIABLE = "ALEMBIC_HEADS_BOT_WORKERS"


_Encoded = tuple[EncodedFile, str]  # a record as `scan.encode_parsed` gives it, its content id


class _Child(NamedTuple):
    pid: int
    answer: int  # the read end of its pipe


def multicore_cache() -> ParseCache:
    """An empty parse cache whose misses are parsed on every core."""
    return ParseCache(parse_many=parse_many)


def parse_many(tree: Tree, jobs: Sequence[ParseJob]) -> list[ParsedFile]:
    """`scan.parse_job` of each job, in order, on up to `workers()` processes."""
    count = min(workers(), len(jobs) // MIN_SHARE)
    if count < 2 or threading.active_count() > 1 or not sys.platform.startswith("linux"):
        return parse_files(tree, jobs)
    size = -(-len(jobs) // count)
    shares = [jobs[start : start + size] for start in range(0, len(jobs), size)]
    children = [_start(tree, share) for share in shares[1:]]
    parsed = parse_files(tree, shares[0])
    for share, child in zip(shares[1:], children, strict=True):
        answer = _collect(child, share)
        if answer is None:
            parsed += parse_files(tree, share)
            continue
        for job, record in zip(share, answer, strict=True):  # None: left to the parent
            parsed.append(parse_job(tree, job) if record is None else record)
    return parsed


def workers() -> int:
    """The processes a batch may use: the cores this process may run on, at most
    `MAX_WORKERS`, or fewer when `ALEMBIC_HEADS_BOT_WORKERS` says so."""
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity is not None else os.cpu_count() or 1
    wanted = os.environ.get(WORKERS_VARIABLE, "").strip()
    cap = int(wanted) if wanted.isdigit() else MAX_WORKERS
    return max(1, min(cores, cap, MAX_WORKERS))


def _start(tree: Tree, share: Sequence[ParseJob]) -> _Child | None:
    """A child parsing `share` and writing the records to a pipe; None when none started."""
    try:
        answer, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(answer)
        os.close(write_end)
        return None
    if pid == 0:  # pragma: no cover - the child: measured by its answer, in the parent
        _child(tree, share, answer, write_end)
    os.close(write_end)
    return _Child(pid, answer)


def _child(tree: Tree, share: Sequence[ParseJob], answer: int, write_end: int) -> None:
    """Read, parse, answer, and leave without running exit handlers or flushing the parent's
    buffered output (`os._exit`): the parent owns those."""
    status = 1
    try:
        os.close(answer)
        data = marshal.dumps(_own_share(tree, share))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        status = 0
    finally:
        os._exit(status)


def _own_share(tree: Tree, share: Sequence[ParseJob]) -> list[_Encoded | None]:
    """Each job's record, encoded with its content id; None for a file only the parent reads."""
    anywhere = isinstance(tree, DiskTree)
    answer: list[_Encoded | None] = []
    for batch in read_ahead(tree, share):
        for job in batch:
            if anywhere or job.data is not None:
                record = parse_job(tree, job)
                answer.append((encode_parsed(record), record.oid))
            else:
                answer.append(None)
    return answer


def _collect(child: _Child | None, share: Sequence[ParseJob]) -> list[ParsedFile | None] | None:
    """The child's records for `share` (None for each file left to the parent); None when it
    gave none that fit."""
    if child is None:
        return None
    with os.fdopen(child.answer, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(child.pid, 0)
    return decode_answer(data, share) if status == 0 else None


def decode_answer(data: bytes, share: Sequence[ParseJob]) -> list[ParsedFile | None] | None:
    """A child's answer as records; None unless it holds one entry per job, each a record of
    that job's file or None."""
    try:
        answer: list[_Encoded | None] = marshal.loads(data)  # our own child's, through our pipe
        if len(answer) != len(share):
            return None
        records = [None if item is None else decode_parsed(*item) for item in answer]
    except (EOFError, ValueError, TypeError):
        return None
    for record, job in zip(records, share, strict=True):
        if record is not None and record.path != job.path:
            return None
    return records
