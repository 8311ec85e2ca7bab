"""git, the one way the bot runs it: trees and blobs from the object database, trial merges,
and the Action's workspace (fetching, deepening, listing).

Every git command goes through `run_git`: fixed argv, no shell, never a prompt, one timeout, and
one error policy (`GitError` with git's own last line). The token reaches git only through
`Workspace` with `auth=True`, as an HTTP header scoped to the GitHub server and passed in
`GIT_CONFIG_*` variables: never in a URL, an argv, a config file or the log.

Nothing here checks anything out or touches the index or the working tree: a commit is listed
with one `git ls-tree` and its blobs are read through GitPython's persistent `git cat-file`
process. A pull request's trial merge is `git merge-tree --write-tree` (git 2.38 or newer),
which writes only objects: no ref, no index, no working tree file. GitPython is imported only
when a repository is opened, so that commands working on a plain directory never pay for it.
"""

from __future__ import annotations

import base64
import errno
import os
import re
import subprocess
from collections.abc import Callable, Iterable, KeysView, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple

from alembic_heads_bot.engine.errors import SourceError
from alembic_heads_bot.engine.parse import MAX_FILE_BYTES
from alembic_heads_bot.engine.report.escape import shell_command
from alembic_heads_bot.engine.tree import FileTooLarge

if TYPE_CHECKING:
    import git

_SYMLINK_MODE = "120000"
_HEX = re.compile(r"[0-9a-fA-F]{7,64}")
# `merge-tree --write-tree` (the mode that needs no working tree) appeared in git 2.38.
_MERGE_TREE_GIT = (2, 38)


class GitError(SourceError):
    """git could not give what was asked for."""


class NotAGitRepository(GitError):
    """The path is not inside a git repository."""


class UnknownRevision(GitError):
    """A revision expression names no commit."""


GIT_TIMEOUT = 120  # seconds for a local git command
FETCH_TIMEOUT = 900  # seconds for a fetch, which may bring a long history
# A shallow clone is deepened step by step until the tips meet; --unshallow is the last
# resort (the whole history of both branches).
DEEPEN_STEPS = (("--depth=50",), ("--deepen=250",), ("--deepen=2000",), ("--unshallow",))


@dataclass(frozen=True)
class GitOutput:
    status: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return os.fsdecode(self.stdout)


def run_git(
    cwd: str | os.PathLike[str],
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: int = GIT_TIMEOUT,
    stdin: bytes | None = None,
) -> GitOutput:
    """Run `git ARGS` in `cwd` (fixed argv, no shell, never prompting), `stdin` as its input;
    raises GitError only when git cannot be run or does not finish: a failing command is its
    status."""
    environ = dict(os.environ if env is None else env)
    environ["GIT_TERMINAL_PROMPT"] = "0"
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=environ, capture_output=True, timeout=timeout,
            check=False, input=stdin,
        )  # fmt: skip
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} did not finish within {timeout} s") from None
    return GitOutput(done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))


def last_line(stderr: str) -> str:
    """git's final word, usually the `fatal:` line that says what went wrong, unprefixed."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else "git failed without a message"
    for prefix in ("fatal: ", "error: "):
        last = last.removeprefix(prefix)
    return last


def auth_environment(environ: Mapping[str, str], token: str, server_url: str) -> dict[str, str]:
    """`environ` plus the token as an Authorization header for `server_url` only, added
    through GIT_CONFIG_* so that it shows in no argv and is written to no config file."""
    env = dict(environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    if not token:
        return env
    count = environ.get("GIT_CONFIG_COUNT", "0")
    index = int(count) if count.isdigit() else 0
    env[f"GIT_CONFIG_KEY_{index}"] = f"http.{server_url.rstrip('/')}/.extraheader"
    env[f"GIT_CONFIG_VALUE_{index}"] = f"AUTHORIZATION: basic {basic_credentials(token)}"
    env["GIT_CONFIG_COUNT"] = str(index + 1)
    return env


def basic_credentials(token: str) -> str:
    """The token as git sends it in the header (the log masks this form too)."""
    return base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")


class TreeEntry(NamedTuple):
    mode: str
    kind: str  # "blob", "tree" or "commit" (a submodule)
    oid: str
    size: int | None = None  # a blob's size, when listed with `-l`


def parse_ls_tree(out: bytes) -> dict[str, TreeEntry]:
    """`git ls-tree -z [-l]` output: `<mode> SP <type> SP <oid> [SP+ <size>] TAB <path> NUL`
    records, by path."""
    entries: dict[str, TreeEntry] = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid, *size = meta.decode("ascii").split()
        listed = int(size[0]) if size and size[0].isdigit() else None
        # The filesystem's decoding, so that names match those DiskTree lists.
        entries[os.fsdecode(raw_path)] = TreeEntry(mode, kind, oid, listed)
    return entries


@dataclass(frozen=True)
class Workspace:
    """The Action's checkout: git in it with the job's environment, and the token as a header
    for the GitHub server on the commands that reach the remote (`auth=True`)."""

    path: Path
    environ: Mapping[str, str] = field(repr=False)
    token: str = field(default="", repr=False)
    server_url: str = "https://github.com"

    def run(
        self, *args: str, check: bool = True, auth: bool = False, timeout: int = GIT_TIMEOUT
    ) -> GitOutput:
        env = auth_environment(self.environ, self.token if auth else "", self.server_url)
        done = run_git(self.path, *args, env=env, timeout=timeout)
        if check and done.status != 0:
            raise GitError(f"git {args[0]} failed: {last_line(done.stderr)}")
        return done

    def text(self, *args: str) -> str:
        return self.run(*args).text

    def fetch(self, refspecs: Sequence[str], what: str, depth: Sequence[str] = ()) -> None:
        """Fetch `refspecs` from origin; `what` names them in the error."""
        done = self._fetch(refspecs, depth)
        if done.status != 0:
            raise GitError(f"git fetch of {what} from origin failed: {last_line(done.stderr)}")

    def try_fetch(self, refspecs: Sequence[str], depth: Sequence[str] = ()) -> bool:
        """Fetch `refspecs` from origin; whether it worked."""
        return self._fetch(refspecs, depth).status == 0

    def _fetch(self, refspecs: Sequence[str], depth: Sequence[str]) -> GitOutput:
        return self.run(
            "fetch", "--quiet", "--no-tags", "--no-recurse-submodules", *depth, "origin",
            *refspecs, check=False, auth=True, timeout=FETCH_TIMEOUT,
        )  # fmt: skip

    def fetch_deepening(self, refspecs: Sequence[str], what: str, met: Callable[[], bool]) -> None:
        """Fetch, deepening a shallow clone step by step until `met()` (the tips share
        history) or the clone is complete."""
        if not self.is_shallow():
            self.fetch(refspecs, what)
            return
        for step in DEEPEN_STEPS:
            self.fetch(refspecs, what, step)
            if not self.is_shallow() or met():
                return

    def is_shallow(self) -> bool:
        return self.text("rev-parse", "--is-shallow-repository").strip() == "true"

    def merge_base(self, a: str, b: str) -> str | None:
        done = self.run("merge-base", a, b, check=False)
        return done.text.strip() or None if done.status == 0 else None

    def rev_parse(self, rev: str) -> str:
        return self.text("rev-parse", "--verify", "--quiet", rev).strip()

    def check_branch_name(self, branch: str) -> None:
        valid = self.run("check-ref-format", f"refs/heads/{branch}", check=False)
        if valid.status != 0 or branch.startswith("-"):
            raise GitError(f"the base branch name {branch!r} is not a valid git branch name")

    def mark_safe(self, *directories: Path) -> None:
        """The workspace belongs to the runner's user and the container runs as root: without
        a `safe.directory` entry in the global config git refuses to work there."""
        listed = self.run("config", "--global", "--get-all", "safe.directory", check=False)
        present = set(listed.text.splitlines())
        for directory in dict.fromkeys(str(d.resolve()) for d in directories):
            if directory not in present and "*" not in present:
                self.run("config", "--global", "--add", "safe.directory", directory)

    def ls_tree(self, tree_ish: str, *paths: str) -> dict[str, TreeEntry]:
        """The entries of `tree_ish`, recursively, or only those at `paths`."""
        return parse_ls_tree(self.run("ls-tree", "-r", "-z", tree_ish, "--", *paths).stdout)

    def changed_paths(self, old: str, new: str) -> list[str]:
        # --no-renames: a file moved out of a version location counts on both sides
        out = self.run("diff", "--name-only", "--no-renames", "-z", old, new).text
        return [path for path in out.split("\0") if path]

    def changed_entries(self, old: str, new: str) -> list[tuple[str, str, str | None]]:
        """(path, new mode, new blob id or None when deleted) for each path that differs."""
        fields = self.run("diff-tree", "-r", "-z", "--no-renames", old, new).text.split("\0")
        found = []
        for meta, path in zip(fields[0::2], fields[1::2], strict=False):
            if meta.startswith(":"):
                _, new_mode, _, new_oid, status = meta[1:].split(" ")
                found.append((path, new_mode, None if status == "D" else new_oid))
        return found

    def blob(self, oid: str) -> bytes:
        return self.run("cat-file", "blob", oid).stdout


def _git_module() -> ModuleType:
    """GitPython, imported on first use rather than with this module (see the docstring)."""
    try:
        import git
    except ImportError as error:  # GitPython refuses to import when it cannot run git
        raise GitError(f"cannot use git: {error}") from None
    return git


def open_repo(path: str | os.PathLike[str]) -> git.Repo:
    """The repository holding `path`, searching parent directories as git does."""
    git = _git_module()
    try:
        return git.Repo(path, search_parent_directories=True)
    except git.NoSuchPathError:
        raise NotAGitRepository(f"no such directory: {os.fspath(path)}") from None
    except git.InvalidGitRepositoryError:
        raise NotAGitRepository(
            f"not a git repository (or any of its parent directories): {os.fspath(path)}"
        ) from None


def resolve(repo: git.Repo, rev: str) -> str:
    """The full sha of the commit that the revision expression `rev` names."""
    # A leading "-" would be read as an option by git.
    if not rev or rev.startswith("-"):
        raise UnknownRevision(f"invalid revision {rev!r}")
    git_dir = os.fspath(repo.git_dir)
    if (git_dir, rev) in _COMMITS:
        return rev
    status, out, err = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if status == 0:
        sha = out.decode("ascii").strip()
        _COMMITS.add((git_dir, sha))
        return sha
    where = repo.working_tree_dir or repo.git_dir
    if err:  # --quiet silences "unknown revision": what git still says is worth passing on
        raise GitError(f"cannot resolve revision {rev!r} in {where}: {last_line(err)}")
    message = f"unknown revision {rev!r}: no commit by that name in {where}"
    if is_shallow(repo):
        message += (
            f"; this is a shallow clone, which has only the newest commits: fetch {rev} and "
            f"the history with `{shell_command(unshallow_command(repo, rev))}`, then run "
            "the same command again"
        )
    raise UnknownRevision(message)


# (git dir, sha) of commits `resolve` found: a commit's sha names it for good, and a check
# resolves the same few commits again and again (a git process each).
_COMMITS: set[tuple[str, str]] = set()


def is_shallow(repo: git.Repo) -> bool:
    """Whether the clone holds only part of the history (`git clone --depth`)."""
    _, out, _ = _git(repo, "rev-parse", "--is-shallow-repository")
    return out.strip() == b"true"


def unshallow_command(repo: git.Repo, rev: str) -> list[str]:
    """The fetch that makes a shallow clone complete and gives it `rev`: a branch of a remote
    ("origin/main") lands where `rev` names it, a plain branch name as a local branch. Unlike
    `git fetch --depth=1 origin origin/main` (a name the remote does not have), this works."""
    names = remotes(repo)
    remote, _, branch = rev.partition("/")
    if branch and remote in names and _is_branch_name(repo, branch):
        return ["git", "fetch", "--unshallow", remote, f"+refs/heads/{branch}:{_remote_ref(rev)}"]
    home = home_remote(repo) or "origin"
    if _has_ref(repo, rev) or _HEX.fullmatch(rev) or not _is_branch_name(repo, rev):
        return ["git", "fetch", "--unshallow", home]  # a commit id comes with the history
    return ["git", "fetch", "--unshallow", home, f"+refs/heads/{rev}:refs/heads/{rev}"]


def _remote_ref(short: str) -> str:
    return f"refs/remotes/{short}"


def _is_branch_name(repo: git.Repo, name: str) -> bool:
    status, _, _ = _git(repo, "check-ref-format", "--branch", name)
    return status == 0 and not name.startswith("-")


def _has_ref(repo: git.Repo, rev: str) -> bool:
    status, _, _ = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return status == 0


def upstream_branch(repo: git.Repo) -> str | None:
    """The short name of the current branch's upstream (e.g. "origin/main"), if it has one."""
    status, out, _ = _git(repo, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    return out.decode().strip() or None if status == 0 else None


def current_branch(repo: git.Repo) -> str | None:
    """The checked-out branch's short name; None on a detached HEAD."""
    status, out, _ = _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD")
    return out.decode().strip() or None if status == 0 else None


def remotes(repo: git.Repo) -> list[str]:
    status, out, _ = _git(repo, "remote")
    return out.decode().split() if status == 0 else []


def _config(repo: git.Repo, key: str) -> str | None:
    status, out, _ = _git(repo, "config", "--get", key)
    return out.decode().strip() or None if status == 0 else None


def home_remote(repo: git.Repo) -> str | None:
    """The remote the current branch tracks, else `origin`, else the only remote."""
    names = remotes(repo)
    branch = current_branch(repo)
    tracked = _config(repo, f"branch.{branch}.remote") if branch else None
    if tracked in names:
        return tracked
    if "origin" in names:
        return "origin"
    return names[0] if len(names) == 1 else None


def default_base(repo: git.Repo) -> str | None:
    """What a pull request from this branch would merge into: the remote's default branch
    (`refs/remotes/<remote>/HEAD`, else its `main` or `master`). Not the branch's upstream:
    after `git push -u origin feature` that is `origin/feature`, the branch itself. A local
    upstream (a branch made with `--track main`, no remote) is the one exception."""
    remote = home_remote(repo)
    if remote is not None:
        head = f"refs/remotes/{remote}/HEAD"
        status, out, _ = _git(repo, "symbolic-ref", "--quiet", "--short", head)
        if status == 0 and out.strip():
            return out.decode().strip()
        for name in ("main", "master"):
            if _has_ref(repo, _remote_ref(f"{remote}/{name}")):
                return f"{remote}/{name}"
    branch = current_branch(repo)
    if branch and _config(repo, f"branch.{branch}.remote") == ".":
        return upstream_branch(repo)
    return None


def _git(repo: git.Repo, *args: str, stdin: bytes | None = None) -> tuple[int, bytes, str]:
    """Run a git command in the repository: exit status, stdout bytes, stderr text."""
    done = run_git(repo.working_tree_dir or repo.git_dir, *args, stdin=stdin)
    return done.status, done.stdout, done.stderr


# What one `GitTree.read_many` holds in memory at most (the rest is left to `read`).
READ_MANY_BYTES = 16 * 1024 * 1024


class GitTree:
    """The tree of one commit, or a bare tree such as a trial merge's, read through the Tree
    protocol (see `engine.tree`). `commit` is None for a bare tree; `object_id` is what is
    listed. A blob larger than `max_bytes` is never read: its size is in git's object header,
    which is asked first (FileTooLarge)."""

    def __init__(
        self,
        repo: git.Repo,
        rev: str,
        max_bytes: int = MAX_FILE_BYTES,
        *,
        near: GitTree | None = None,
    ) -> None:
        self.repo = repo
        self.max_bytes = max_bytes
        self.commit: str | None
        self.object_id: str
        self.commit, self.object_id = _resolve_tree_ish(repo, rev)
        self._entries: dict[str, TreeEntry] | None = None
        # A tree sharing most files with this one (the base of a pull request): a large listing
        # is its listing with the differences applied, not a second `ls-tree -r`.
        self._near = near
        self._links: dict[str, str] = {}
        self._link_paths: frozenset[str] | None = None

    def __repr__(self) -> str:
        return f"GitTree({self.repo.git_dir!r}, {self.object_id!r})"

    @property
    def _what(self) -> str:
        return "commit" if self.commit is not None else "tree"

    def paths(self) -> KeysView[str]:
        return self._listing().keys()

    def link(self, path: str) -> str | None:
        entry = self._entry(path)  # asked of every file of the tree: kept short
        if entry.mode != _SYMLINK_MODE:
            return None
        if path not in self._links:
            self._links[path] = os.fsdecode(self._blob(path, entry))
        return self._links[path]

    def links(self) -> frozenset[str]:
        """Every symbolic link's path (`engine.tree.ListsLinks`): one pass over the listing
        instead of a `link` call per path."""
        if self._link_paths is None:
            entries = self._listing().items()
            self._link_paths = frozenset(p for p, e in entries if e.mode == _SYMLINK_MODE)
        return self._link_paths

    def oid(self, path: str) -> str:
        return self._entry(path).oid

    def read(self, path: str) -> bytes:
        entry = self._entry(path)
        if entry.mode == _SYMLINK_MODE:
            raise OSError(errno.ELOOP, "is a symbolic link", path)
        return self._blob(path, entry)

    def read_many(self, paths: Iterable[str], budget: int = READ_MANY_BYTES) -> dict[str, bytes]:
        """The bytes of many files from one git process (`read` asks git once per file, which
        costs more than parsing it): as many of `paths` as fit in `budget` bytes, all but the
        ones `read` refuses or cannot find, which are left to it to explain."""
        wanted: dict[str, list[str]] = {}  # blob id -> its paths
        total = 0
        for path in paths:
            entry = self._listing().get(path)
            if entry is None or entry.mode == _SYMLINK_MODE or entry.size is None:
                continue
            if entry.size > self.max_bytes:
                continue
            if entry.oid not in wanted:
                total += entry.size
                if total > budget:
                    break
            wanted.setdefault(entry.oid, []).append(path)
        if not wanted:
            return {}
        request = "".join(f"{oid}\n" for oid in wanted).encode("ascii")
        status, out, _ = _git(self.repo, "cat-file", "--batch", stdin=request)
        return _batch_blobs(out, wanted) if status == 0 else {}

    def _entry(self, path: str) -> TreeEntry:
        entries = self._entries if self._entries is not None else self._listing()
        entry = entries.get(path)
        if entry is None:
            where = f"not in {self._what} {self.object_id[:12]}"
            raise FileNotFoundError(errno.ENOENT, where, path)
        return entry

    def _blob(self, path: str, entry: TreeEntry) -> bytes:
        # The listing (`ls-tree -l`) gave every blob's size: a huge one is never read at all.
        if entry.size is not None and entry.size > self.max_bytes:
            raise FileTooLarge(path, entry.size, self.max_bytes)
        try:
            return self.repo.odb.stream(bytes.fromhex(entry.oid)).read()
        except ValueError as error:  # cat-file answered "missing" (e.g. a partial clone)
            raise OSError(errno.EIO, f"cannot read blob {entry.oid}: {error}", path) from None

    def _listing(self) -> dict[str, TreeEntry]:
        if self._entries is None:
            near = self._near
            if near is not None and near.repo is self.repo and len(near._listing()) >= _NEAR:
                self._entries = self._from_near(near)
            else:
                self._entries = self._ls_tree()
        return self._entries

    def _from_near(self, near: GitTree) -> dict[str, TreeEntry]:
        """`near`'s listing with `git diff-tree -r` applied, the sizes of the blobs it names
        from `git cat-file --batch-check`: the entries `_ls_tree` gives, for two git processes
        and the differences' Python instead of a listing's."""
        changes = self._changes(near.object_id)
        sizes = self._sizes({oid for _, mode, oid in changes if oid and _is_blob_mode(mode)})
        entries = dict(near._listing())
        for path, mode, oid in changes:
            if oid is not None and _is_blob_mode(mode):
                entries[path] = TreeEntry(mode, "blob", oid, sizes[oid])
            else:  # deleted, or now a submodule (`_ls_tree` keeps blobs only)
                entries.pop(path, None)
        return entries

    def _changes(self, other: str) -> list[tuple[str, str, str | None]]:
        status, out, err = _git(
            self.repo, "diff-tree", "-r", "-z", "--no-renames", other, self.object_id
        )
        if status != 0:
            raise GitError(f"cannot list {self._what} {self.object_id}: {last_line(err)}")
        fields = out.split(b"\0")
        found = []
        for meta, path in zip(fields[0::2], fields[1::2], strict=False):
            _, new_mode, _, new_oid, change = meta.decode("ascii")[1:].split(" ")
            found.append((os.fsdecode(path), new_mode, None if change == "D" else new_oid))
        return found

    def _sizes(self, oids: set[str]) -> dict[str, int]:
        if not oids:
            return {}
        request = "".join(f"{oid}\n" for oid in oids).encode("ascii")
        status, out, err = _git(self.repo, "cat-file", "--batch-check", stdin=request)
        sizes = {}
        for line in out.decode("ascii").splitlines():
            oid, kind, size = [*line.split(), "", ""][:3]
            if kind == "blob" and size.isdigit():
                sizes[oid] = int(size)
        if status != 0 or not oids <= sizes.keys():
            raise GitError(f"cannot list {self._what} {self.object_id}: {last_line(err)}")
        return sizes

    def _ls_tree(self) -> dict[str, TreeEntry]:
        listing = ("ls-tree", "-r", "-l", "-z", "--full-tree", self.object_id)
        status, out, err = _git(self.repo, *listing)
        if status != 0:
            raise GitError(f"cannot list {self._what} {self.object_id}: {last_line(err)}")
        # Submodules (commits) and trees are left out: only files are revisions or configs.
        return {path: e for path, e in parse_ls_tree(out).items() if e.kind == "blob"}


# Listings this large are derived from a near tree's (`GitTree(near=...)`); smaller ones cost
# less to list again than two git processes.
_NEAR = 2000


def _is_blob_mode(mode: str) -> bool:
    """A file or a symbolic link, as `ls-tree` calls it "blob" (not a tree, not a submodule)."""
    return mode.startswith(("100", "120"))


def _batch_blobs(out: bytes, wanted: dict[str, list[str]]) -> dict[str, bytes]:
    """`git cat-file --batch` output (`<oid> blob <size>` LF <bytes> LF, or `<oid> missing`
    LF), by path; a blob git does not give as asked is left out."""
    found: dict[str, bytes] = {}
    position = 0
    for oid, paths in wanted.items():
        end = out.find(b"\n", position)
        if end < 0:
            break
        header = out[position:end].split()
        position = end + 1
        if header[1:] == [b"missing"]:
            continue  # `read` says so
        if len(header) != 3 or header[:2] != [oid.encode("ascii"), b"blob"]:
            break  # not what was asked: the rest is left to `read`
        size = int(header[2])
        data = out[position : position + size]
        position += size + 1
        for path in paths:
            found[path] = data
    return found


def _resolve_tree_ish(repo: git.Repo, rev: str) -> tuple[str | None, str]:
    """(commit, object to list) for a commit-ish, or (None, tree) for a tree id."""
    try:
        commit = resolve(repo, rev)
    except UnknownRevision:  # names nothing at all
        raise
    except GitError:  # git says what it names is no commit: a tree is the other thing to list
        status, out, _ = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{tree}}")
        if status != 0:
            raise
        return None, out.decode("ascii").strip()
    return commit, commit


def merge_base(repo: git.Repo, a: str, b: str) -> str | None:
    """The best common ancestor of two commits, or None when their histories are unrelated."""
    first, second = resolve(repo, a), resolve(repo, b)
    status, out, err = _git(repo, "merge-base", first, second)
    if status == 0:
        return out.decode("ascii").strip()
    if status == 1 and not err.strip():  # git's answer for "no common ancestor"
        return None
    raise GitError(f"cannot find the merge base of {a!r} and {b!r}: {last_line(err)}")


@dataclass(frozen=True)
class MergeResult:
    """A trial merge: the merged tree's id, the paths git could not merge cleanly (the tree
    holds them with conflict markers), and git's informational lines."""

    tree: str
    conflicts: tuple[str, ...]
    messages: tuple[str, ...]


def merge_tree(repo: git.Repo, base: str, head: str) -> MergeResult:
    """Merge `head` into `base` in git's object database only, as a pull request would merge.

    `git merge-tree --write-tree` writes the merged tree and its blobs as objects; no ref, index
    or working tree file changes. A conflicted merge still gives a tree, whose conflicted files
    hold conflict markers.
    """
    _require_git(repo, _MERGE_TREE_GIT, "git merge-tree --write-tree")
    ours, theirs = resolve(repo, base), resolve(repo, head)
    args = ("--write-tree", "-z", "--name-only", "--messages", ours, theirs)
    status, out, err = _git(repo, "merge-tree", *args)
    if status not in (0, 1):  # 1 means conflicts; anything else is a failure
        raise GitError(f"cannot merge {head!r} into {base!r}: {last_line(err)}")
    return _parse_merge_tree(out)


def _require_git(repo: git.Repo, version: tuple[int, int], what: str) -> None:
    have = tuple(repo.git.version_info[:2])
    if have < version:
        found = ".".join(str(part) for part in repo.git.version_info)
        needed = ".".join(str(part) for part in version)
        raise GitError(f"{what} needs git {needed} or newer; this git is {found}")


def _parse_merge_tree(out: bytes) -> MergeResult:
    """`<tree> NUL (<path> NUL)* NUL (<n> NUL (<path> NUL){n} <type> NUL <message> NUL)*`."""
    fields = out.split(b"\0")
    tree = fields[0].decode("ascii")
    end = fields.index(b"", 1) if b"" in fields[1:] else len(fields)
    conflicts = tuple(os.fsdecode(path) for path in fields[1:end])
    messages: list[str] = []
    rest = fields[end + 1 :]
    while len(rest) > 1 and rest[0].isdigit():
        count = int(rest[0])
        message = rest[count + 2] if len(rest) > count + 2 else b""
        messages.append(os.fsdecode(message).strip())
        rest = rest[count + 3 :]
    return MergeResult(tree, conflicts, tuple(messages))
