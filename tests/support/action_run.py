"""Shared test builders."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitrepo import GitRepo
from projects import INI, chain, path, revision

TOKEN = "ghs_SuperSecretToken0123456789"


def stale_two_heads(tmp_path: Path) -> tuple[Remote, dict[str, object]]:
    """The PR adds c on b; after it was opened, main got d on b. The payload names old main."""
    project = remote(tmp_path)
    opened_on = project.src.rev("main")
    head = open_pull_request(project, 7, {path("c"): revision("c", "b")})
    project.workspace()  # checked out before main moved on
    move_main(project, {path("d"): revision("d", "b")})
    return project, pull_request_event(7, opened_on, head)


@dataclass
class Remote:
    """A project on GitHub: its history (`src`), the bare repository the workspace fetches
    from, and the runner's directories."""

    src: GitRepo
    bare: Path
    tmp: Path

    def push(self, *refspecs: str) -> None:
        self.src.git("push", "--quiet", "--force", str(self.bare), *refspecs)

    def workspace(self, branch: str = "main") -> Path:
        """A depth-1 clone of `branch`, like actions/checkout's default."""
        workspace = self.tmp / "workspace"
        subprocess.run(
            ["git", "clone", "--quiet", "--depth=1", f"--branch={branch}",
             self.bare.as_uri(), str(workspace)],
            check=True, env=git_env(self.tmp), capture_output=True,
        )  # fmt: skip
        return workspace

    def environ(
        self, event: str, payload: dict[str, object] | str, **inputs: str
    ) -> dict[str, str]:
        """The environment of the action's container for `event`."""
        runner = self.tmp / "runner"
        runner.mkdir(exist_ok=True)
        event_file = runner / "event.json"
        event_file.write_text(payload if isinstance(payload, str) else json.dumps(payload))
        for name in ("output", "summary.md"):
            (runner / name).touch()
        environ = {
            **git_env(self.tmp),
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(event_file),
            "GITHUB_WORKSPACE": str(self.tmp / "workspace"),
            "GITHUB_OUTPUT": str(runner / "output"),
            "GITHUB_STEP_SUMMARY": str(runner / "summary.md"),
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "octo/shop",
            "INPUT_GITHUB-TOKEN": TOKEN,
        }
        environ.update({f"INPUT_{name.upper().replace('_', '-')}": v for name, v in inputs.items()})
        return environ


def remote(tmp_path: Path) -> Remote:
    """main: a <- b, pushed to a bare "GitHub" repository."""
    src = GitRepo.init(tmp_path / "src")
    src.write({"alembic.ini": INI, **chain("a", "b")})
    src.commit("base")
    bare = tmp_path / "github.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    project = Remote(src, bare, tmp_path)
    project.push("main")
    return project


def open_pull_request(project: Remote, number: int, files: dict[str, str | None]) -> str:
    """Branch `feature` from main with `files`, pushed as refs/pull/NUMBER/head; its sha."""
    project.src.branch("feature")
    project.src.checkout("feature")
    project.src.write(files)
    head = project.src.commit("feature")
    project.src.checkout("main")
    project.push(f"feature:refs/pull/{number}/head", "feature")
    return head


def move_main(project: Remote, files: dict[str, str | None], message: str = "main") -> str:
    project.src.write(files)
    sha = project.src.commit(message)
    project.push("main")
    return sha


def pull_request_event(
    number: int, base_sha: str, head_sha: str, action: str = "synchronize", **extra: object
) -> dict[str, object]:
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "base": {"ref": "main", "sha": base_sha},
            "head": {"ref": "feature", "sha": head_sha},
        },
        "repository": {"full_name": "octo/shop"},
        **extra,
    }


def git_env(tmp: Path) -> dict[str, str]:
    """A clean environment: no user or system git config, a private HOME."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "INPUT_", "GITHUB_"))}
    return {**keep, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}
