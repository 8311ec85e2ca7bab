"""A tree -> every environment's revision graph and problems: the engine's one entry point.

It chains the pure stages (config discovery, file listing, parsing, graph) over a `Tree`, whose
reads are the only I/O. Parse results are cached by content id and path, so scanning a second
tree that shares most files with the first (a base tip, a merge base, a merged tree) re-parses
only the files that differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from alembic_heads_bot.engine.alembic_config import Discovery, discover, load_config_file, select
from alembic_heads_bot.engine.alembic_version import apply_pinned_version
from alembic_heads_bot.engine.bot_config import BotConfig
from alembic_heads_bot.engine.constants import resolve_files
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.graph import Graph, build_graph
from alembic_heads_bot.engine.header import read_revision_header
from alembic_heads_bot.engine.model import (
    Environment,
    ParsedFile,
    Problem,
    ProblemCode,
    Revision,
    Severity,
)
from alembic_heads_bot.engine.parse import parse_revision_file
from alembic_heads_bot.engine.tree import FileTooLarge, ReadsMany, Tree
from alembic_heads_bot.engine.versions import list_revision_files


@dataclass(frozen=True)
class EnvironmentScan:
    """One environment of one tree: its revision files in load order, their readings, the graph,
    and every problem found on the way (config, listing, parsing, graph), in that order."""

    environment: Environment
    files: tuple[ParsedFile, ...]
    graph: Graph
    problems: tuple[Problem, ...]

    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


@dataclass(frozen=True)
class TreeScan:
    environments: tuple[EnvironmentScan, ...]
    problems: tuple[Problem, ...] = ()

    def all_problems(self) -> tuple[Problem, ...]:
        return self.problems + tuple(p for env in self.environments for p in env.problems)


# A parsed file as nested tuples of plain values, which `adapters.cache_file` stores with
# marshal: (path, revision or None, problems), each field in its record's order.
EncodedRevision = tuple[
    str, tuple[str, ...], tuple[str, ...], tuple[str, ...], str, dict[str, int], str, bool
]
EncodedProblem = tuple[ProblemCode, str, str | None, int | None, Severity]
EncodedFile = tuple[str, EncodedRevision | None, tuple[EncodedProblem, ...]]


class ParseJob(NamedTuple):
    """A file to parse: its key (`oid`, `path`), whether to compile it, and its bytes when they
    were read ahead (None: `Tree.read` reads them)."""

    path: str
    oid: str
    compile_check: bool
    data: bytes | None = None


# Reads and parses many files, giving for each job, in order, what `parse_job` gives: one by
# one (`parse_files`), or spread over the machine's cores (`adapters.workers`).
ParseMany = Callable[[Tree, Sequence[ParseJob]], list[ParsedFile]]


def parse_job(tree: Tree, job: ParseJob) -> ParsedFile:
    """One file read (unless its bytes came with the job) and parsed; every way of parsing many
    files gives what this gives."""
    try:
        data = tree.read(job.path) if job.data is None else job.data
    except OSError as exc:
        return _unreadable(job.path, exc)
    return _read(data, job.path, job.oid, job.compile_check)


def parse_files(tree: Tree, jobs: Sequence[ParseJob]) -> list[ParsedFile]:
    """`parse_job` of each job, in order, with the bytes read ahead a batch at a time when the
    tree reads many files for less than one at a time."""
    return [parse_job(tree, job) for batch in read_ahead(tree, jobs) for job in batch]


def read_ahead(tree: Tree, jobs: Sequence[ParseJob]) -> Iterator[list[ParseJob]]:
    """The jobs in batches, each job with its file's bytes when the tree reads many at once
    (`ReadsMany`) and gave them; the bytes of one batch at a time are held."""
    if not isinstance(tree, ReadsMany):
        yield list(jobs)
        return
    for start in range(0, len(jobs), _READ_AHEAD):
        batch = jobs[start : start + _READ_AHEAD]
        read = tree.read_many([job.path for job in batch]) if len(batch) > 1 else {}
        yield [job._replace(data=read.get(job.path)) for job in batch]


@dataclass
class ParseCache:
    """Parsed files by (content id, path): the path matters for the hex-filename fallback and
    for locating problems, and a file keeps its path across the trees of one pull request."""

    entries: dict[tuple[str, str], ParsedFile] = field(default_factory=dict)
    # What `adapters.cache_file` loaded, decoded only when a tree asks for the file.
    stored: dict[tuple[str, str], EncodedFile] = field(default_factory=dict)
    # Entries read with `compile_check` (a stricter reading, so good for either kind of request).
    compiled: set[tuple[str, str]] = field(default_factory=set)
    # How the files not cached are parsed: one by one here, unless the caller gives a way
    # that uses more cores.
    parse_many: ParseMany = parse_files
    hits: int = 0
    misses: int = 0

    def parse_all(
        self,
        tree: Tree,
        paths: Sequence[str],
        changed_from: Tree | None = None,
        compile_all: bool = False,
    ) -> list[ParsedFile]:
        """Each path's parsed file, from the cache when it holds one; a file whose bytes differ
        from `changed_from`'s (the base of a change), or every file with `compile_all`, is also
        compiled. Files not cached are read and parsed together (`parse_many`)."""
        found: dict[str, ParsedFile] = {}
        jobs: list[ParseJob] = []
        for path in paths:
            try:
                oid = tree.oid(path)
            except OSError as exc:
                found[path] = _unreadable(path, exc)
                continue
            compile_check = compile_all or _changed(oid, changed_from, path)
            cached = self._cached((oid, path), compile_check)
            if cached is None:
                jobs.append(ParseJob(path, oid, compile_check))
            else:
                self.hits += 1
                found[path] = cached
        for job, parsed in zip(jobs, self.parse_many(tree, jobs), strict=True):
            found[job.path] = self._store(job, parsed)
        return [found[path] for path in paths]

    def _cached(self, key: tuple[str, str], compile_check: bool) -> ParsedFile | None:
        cached = self.entries.get(key)
        if cached is None and key in self.stored:
            cached = self.entries[key] = decode_parsed(self.stored[key], key[0])
        if cached is not None and (not compile_check or key in self.compiled):
            return cached
        return None

    def _store(self, job: ParseJob, parsed: ParsedFile) -> ParsedFile:
        self.misses += 1
        if parsed.oid != job.oid:  # an unreadable file's record carries no content id
            return parsed
        key = (job.oid, job.path)
        self.entries[key] = parsed
        if job.compile_check:
            self.compiled.add(key)
        return parsed


def _read(data: bytes, path: str, oid: str, compile_check: bool) -> ParsedFile:
    """The file read from its header when that gives the full parse's record (`engine.header`),
    else parsed whole; files a change adds or edits are always parsed whole and compiled, so
    that a syntax error anywhere in them is found."""
    read = None if compile_check else read_revision_header(data, path)
    if read is None:
        read = parse_revision_file(data, path, compile_check=compile_check)
    return ParsedFile(read.path, read.revision, read.problems, oid)


def encode_parsed(parsed: ParsedFile) -> EncodedFile:
    """A parsed file as nested tuples of plain values (what `adapters.cache_file` stores)."""
    rev = parsed.revision
    revision: EncodedRevision | None = None
    if rev is not None:
        revision = (
            rev.revision, rev.down_revision, rev.branch_labels, rev.depends_on,
            rev.path, rev.lines, rev.doc, rev.complete,
        )  # fmt: skip
    problems = tuple((p.code, p.message, p.path, p.line, p.severity) for p in parsed.problems)
    return (parsed.path, revision, problems)


def decode_parsed(stored: EncodedFile, oid: str) -> ParsedFile:
    path, revision, problems = stored
    return ParsedFile(
        path,
        None if revision is None else Revision(*revision),
        tuple(Problem(*p) for p in problems),
        oid,
    )


class EnvironmentNotFound(CannotJudge):
    """`--env NAME` matched no environment, or more than one."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        names = ", ".join(known) or "none found"
        super().__init__(f"no single Alembic environment matches '{name}' (environments: {names})")


def scan_tree(
    tree: Tree,
    *,
    config: str | None = None,
    section: str | None = None,
    env: str | None = None,
    bot_config: BotConfig | None = None,
    cache: ParseCache | None = None,
    changed_from: Tree | None = None,
    compile_all: bool = False,
) -> TreeScan:
    """Scan every Alembic environment of `tree` (or the one config file / environment named).

    With `changed_from` (the base of a change), the revision files whose bytes differ from that
    tree's are also compiled (`parse.read_module`): compiling every file would cost about half
    a scan again, and an unchanged file is the base's business. With `compile_all` (a tree
    judged alone: no base vouches for any file) every revision file is compiled.
    """
    discovery = load_config_file(tree, config, section) if config else discover(tree, bot_config)
    environments = _selected(discovery, env)
    cache = cache if cache is not None else ParseCache()
    return TreeScan(
        tuple(scan_environment(tree, e, cache, changed_from, compile_all) for e in environments),
        discovery.problems,
    )


def scan_environment(
    tree: Tree,
    env: Environment,
    cache: ParseCache,
    changed_from: Tree | None = None,
    compile_all: bool = False,
) -> EnvironmentScan:
    paths, listing_problems = list_revision_files(tree, env)
    files = tuple(cache.parse_all(tree, paths, changed_from, compile_all))
    # A stage of its own: a file's values may name constants of other files of the tree.
    files = resolve_files(tree, env, files)
    files = apply_pinned_version(tree, env, files)
    graph = build_graph([f.revision for f in files if f.revision is not None])
    problems = (
        *env.problems,
        *listing_problems,
        *(p for f in files for p in f.problems),
        *graph.problems,
    )
    return EnvironmentScan(env, files, graph, problems)


# Files read ahead at once: enough that a git process per batch costs little, few enough
# that their bytes take little memory.
_READ_AHEAD = 2000


def _selected(discovery: Discovery, name: str | None) -> tuple[Environment, ...]:
    # No environment at all is not a wrong name: the caller says what is missing
    # (`pipeline.require_environments`).
    if name is None or not discovery.environments:
        return discovery.environments
    chosen = select(discovery, name)
    if chosen is None:
        raise EnvironmentNotFound(name, (e.name for e in discovery.environments))
    return (chosen,)


def _changed(oid: str, base: Tree | None, path: str) -> bool:
    if base is None:
        return False
    try:
        return base.oid(path) != oid
    except (OSError, LookupError):  # not in the base: added
        return True


def _unreadable(path: str, exc: OSError) -> ParsedFile:
    if isinstance(exc, FileTooLarge):  # said as parse.decode_source says it of bytes it got
        message = (
            f"The file is {exc.size:,} bytes, more than the {exc.limit:,} bytes this bot "
            "parses; it was not read, so any revision it declares is missing from the graph."
        )
        return ParsedFile(path, None, (Problem.of("file-too-large", message, path),))
    reason = exc.strerror or str(exc)
    return ParsedFile(
        path, None, (Problem.of("unreadable-file", f"cannot read {path}: {reason}", path),)
    )
