"""Shared test builders."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic_heads_bot.app.action import run_action
from fakegithub import ACTIONS_LOGIN, Event, FakeGitHub, LoggedRequest
from gitrepo import GitRepo
from projects import INI, chain, path, revision
from runner_model import read_outputs

SHOP = "octo/shop"


@dataclass
class ActionRun:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    requests: list[LoggedRequest]

    @property
    def api(self) -> list[tuple[str, str]]:
        """(method, path) of every API request, in order."""
        return [(r.method, r.path) for r in self.requests if r.operation != "git"]

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.api if m != "GET"]

    def errors(self) -> list[str]:
        return re.findall(r"^::error::(.*)$", self.log, re.MULTILINE)


@dataclass
class Shop:
    """A project on the fake GitHub: `src` is the developers' clone that pushes to it."""

    fake: FakeGitHub
    src: GitRepo
    tmp: Path
    runs: int = 0

    def push(self) -> None:
        self.fake.push(SHOP, self.src.path)

    def branch(self, name: str, files: dict[str, str | None], start: str = "main") -> str:
        self.src.git("checkout", "--quiet", "-B", name, start)
        self.src.write(files)
        sha = self.src.commit(f"{name}: {', '.join(files)}")
        self.src.checkout("main")
        self.push()
        return sha

    def commit_main(self, files: dict[str, str | None], subject: str = "main moves on") -> str:
        self.src.checkout("main")
        self.src.write(files)
        sha = self.src.commit(subject)
        self.push()
        return sha

    def land(self, files: dict[str, str | None], subject: str) -> str:
        """Commit `files` on main as a merge button would, push, and return the old tip."""
        before = self.fake.branch_sha(SHOP, "main")
        self.commit_main(files, subject)
        return before

    def run(self, event: Event, token: str | None = None, **inputs: str) -> ActionRun:
        """Run the action for `event` in a fresh depth-1 checkout, as a runner would."""
        self.fake.clear_requests()
        return self.finish(self.launch(event, token, **inputs))

    def launch(self, event: Event, token: str | None = None, **inputs: str) -> Job:
        """Start the action for `event` (several may run at once, as on GitHub)."""
        env, output, summary = self.job(event, token, **inputs)
        process = subprocess.Popen(
            [str(ENTRY), "action"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        return Job(process, output, summary)

    def run_here(self, event: Event, *, token: str | None = None, **options: Any) -> ActionRun:
        """Run the action for `event` in this process, through `run_action`, with the
        collaborators in `options` (publish, handlers, report_failure) and the inputs in
        `inputs` (a dict): how a test injects a failure without patching anything."""
        self.fake.clear_requests()
        env, output, summary = self.job(event, token, **options.pop("inputs", {}))
        stream = io.StringIO()
        code = run_action(env, stream=stream, **options)
        return ActionRun(
            code,
            stream.getvalue(),
            read_outputs(output.read_text()),
            summary.read_text(),
            list(self.fake.requests),
        )

    def job(
        self, event: Event, token: str | None = None, **inputs: str
    ) -> tuple[dict[str, str], Path, Path]:
        """A fresh depth-1 checkout and the runner's environment for `event`; the environment,
        the output file and the summary file."""
        self.runs += 1
        job = self.tmp / f"job{self.runs}"
        (job / "runner").mkdir(parents=True)
        workspace = job / "workspace"
        env = _clean_env(job)
        subprocess.run(
            ["git", "clone", "--quiet", "--depth=1", self.fake.git_url(SHOP), str(workspace)],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
        output, summary = job / "runner" / "output", job / "runner" / "summary.md"
        output.touch()
        summary.touch()
        env.update(event.env(job / "runner"))
        env.update({
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_RUN_ID": "4242",
            "INPUT_GITHUB-TOKEN": token if token is not None else self.fake.make_token(),
        })  # fmt: skip
        env.update({f"INPUT_{name.upper().replace('_', '-')}": v for name, v in inputs.items()})
        return env, output, summary

    def finish(self, job: Job) -> ActionRun:
        stdout, stderr = job.process.communicate(timeout=300)
        assert stderr == "", stderr  # everything goes to the job log, no traceback
        return ActionRun(
            job.process.returncode,
            stdout,
            read_outputs(job.output.read_text()),
            job.summary.read_text(),
            list(self.fake.requests),
        )


@pytest.fixture
def shop(fake_github: FakeGitHub, tmp_path: Path) -> Shop:
    """main: a <- b on the fake GitHub."""
    src = GitRepo.init(tmp_path / "src")
    src.write({"alembic.ini": INI, **chain("a", "b")})
    src.commit("base")
    fake_github.create_repo(SHOP, source=src.path)
    return Shop(fake_github, src, tmp_path)


def two_heads(shop: Shop) -> int:
    """PR #1 adds d on b while main already has c on b: the classic second head."""
    shop.commit_main({path("c"): revision("c", "b")})
    shop.branch("feature", {path("d"): revision("d", "b")}, start="main~1")
    return shop.fake.open_pr(SHOP, head="feature").number


def own_comments(shop: Shop, number: int) -> list[str]:
    return [c.body for c in shop.fake.comments(SHOP, number) if c.author == ACTIONS_LOGIN]


def fork_pull_request(shop: Shop) -> int:
    """A stranger's fork adds d on a (a second head) and opens PR #1."""
    shop.fake.create_repo("stranger/shop", fork_of=SHOP)
    fork = GitRepo(shop.src.path)
    fork.git("checkout", "--quiet", "-B", "idea", "main")
    fork.write({path("d"): revision("d", "a")})
    fork.commit("d on a")
    fork.checkout("main")
    shop.fake.push("stranger/shop", fork.path, ["+refs/heads/idea:refs/heads/idea"])
    return shop.fake.open_pr(SHOP, head="idea", head_repo="stranger/shop", author="stranger").number


ENTRY = Path(sys.executable).with_name("alembic-heads-bot")


@dataclass
class Job:
    process: subprocess.Popen[str]
    output: Path
    summary: Path


def _clean_env(job: Path) -> dict[str, str]:
    home = job / "home"
    home.mkdir()
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "INPUT_", "GITHUB_"))}
    return {**keep, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
