"""Real git repositories for tests, driven through the git CLI.

    from gitrepo import GitRepo         # pytest puts tests/ on sys.path

    repo = GitRepo.init(tmp_path / "repo")
    repo.write({"migrations/versions/a.py": "revision = 'a'\\ndown_revision = None\\n"})
    base = repo.commit("add a")
    repo.branch("feature")              # at HEAD; `at=` takes any revision
    repo.checkout("feature")
    repo.symlink("migrations/versions/link.py", "a.py")
    repo.write({"migrations/versions/a.py": None})   # None deletes
    head = repo.commit("feature work")
    gitpython_repo = repo.open()        # a git.Repo; close it when done

The repository ignores the user's and the system's git configuration, and commits have fixed
authors and dates, so runs are reproducible: the same steps give the same shas.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import git

_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
}
_EPOCH = 1_700_000_000  # commit n is dated _EPOCH + n seconds


class GitRepo:
    """A git repository with a working tree at `path`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._commits = 0

    @classmethod
    def init(cls, path: str | os.PathLike[str], *, branch: str = "main") -> GitRepo:
        """Create the directory (if needed) and an empty repository on `branch`."""
        repo = cls(path)
        repo.path.mkdir(parents=True, exist_ok=True)
        repo.git("init", "--quiet", f"--initial-branch={branch}")
        return repo

    def git(self, *args: str) -> str:
        """Run git in the repository; its stdout. Raises CalledProcessError (with stderr)."""
        env = {
            **os.environ,
            **_IDENTITY,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_DATE": f"@{_EPOCH + self._commits} +0000",
            "GIT_COMMITTER_DATE": f"@{_EPOCH + self._commits} +0000",
        }
        done = subprocess.run(
            ["git", "-c", "commit.gpgsign=false", *args],
            cwd=self.path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def write(self, files: Mapping[str, str | bytes | None]) -> None:
        """Write files (str as UTF-8, bytes as is; parent directories made); None deletes."""
        for name, content in files.items():
            target = self.path / name
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()
            data = content.encode() if isinstance(content, str) else content
            target.write_bytes(data)

    def symlink(self, path: str, target: str) -> None:
        """Make `path` a symbolic link whose text is `target` (relative to path's directory)."""
        link = self.path / path
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)

    def commit(self, message: str = "commit") -> str:
        """Stage everything in the working tree and commit it (empty commits allowed); its sha."""
        self.git("add", "--all")
        self._commits += 1
        self.git("commit", "--quiet", "--allow-empty", "--message", message)
        return self.rev("HEAD")

    def branch(self, name: str, at: str | None = None) -> None:
        """Create branch `name` at `at` (default HEAD) without checking it out."""
        self.git("branch", name, *([at] if at else []))

    def checkout(self, name: str) -> None:
        self.git("checkout", "--quiet", name)

    def merge(self, name: str, message: str | None = None) -> str:
        """Merge `name` into the current branch with a merge commit; its sha."""
        self._commits += 1
        self.git("merge", "--quiet", "--no-ff", "--message", message or f"merge {name}", name)
        return self.rev("HEAD")

    def rev(self, rev: str = "HEAD") -> str:
        """The full sha of a revision expression."""
        return self.git("rev-parse", "--verify", f"{rev}^{{commit}}").strip()

    def object_id(self, spec: str) -> str:
        """The sha of any object expression, e.g. "HEAD:path/to/file" for a blob."""
        return self.git("rev-parse", "--verify", spec).strip()

    def status(self) -> str:
        """`git status --porcelain`, without refreshing the index (the check must not write)."""
        return self.git("--no-optional-locks", "status", "--porcelain", "--untracked-files=all")

    def open(self) -> git.Repo:
        """A GitPython handle on the repository; the caller closes it."""
        import git

        return git.Repo(self.path)


def push_from_another_clone(
    origin: Path, where: Path, files: Mapping[str, str | bytes | None], branch: str = "main"
) -> None:
    """Someone else moves `branch` on: clone `origin` at `where`, commit `files`, push."""
    other = GitRepo(where)
    subprocess.run(["git", "clone", "-q", str(origin), str(where)], check=True)
    other.git("checkout", "-q", branch)
    other.write(files)
    other.commit("someone else's change")
    other.git("push", "-q", "origin", branch)
