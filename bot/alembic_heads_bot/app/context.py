"""What every part of the Action shares: its settings, the event's context, the result of a
judgement, and the exit codes. Read once, in `app.events.prepare`; nothing here does I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from alembic_heads_bot.adapters.git import Workspace, basic_credentials
from alembic_heads_bot.adapters.runner import WorkflowLog
from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.report.verdict import (
    Finding,
    Linker,
    Sides,
    findings,
    markdown_report,
)

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2

FailOn = Literal["new-heads", "problems", "never"]
CommentMode = Literal["on-problem", "always", "never"]
StatusKind = Literal["check-run", "commit-status", "none"]
FAIL_ON: tuple[FailOn, ...] = ("new-heads", "problems", "never")
COMMENT: tuple[CommentMode, ...] = ("on-problem", "always", "never")
STATUS: tuple[StatusKind, ...] = ("check-run", "commit-status", "none")

BASE_REF = "refs/alembic-heads/base"
HEAD_REF = "refs/alembic-heads/head"


class ActionError(CannotJudge):
    """The action cannot go on; the message is said once, as an `::error::`, and it exits 2."""


@dataclass(frozen=True)
class Settings:
    """The action's inputs, validated (see action.yml for their meaning and defaults)."""

    token: str = field(repr=False)
    fix_token: str = field(repr=False)  # pushes the fix commit when set (see action.yml)
    config: str | None
    fail_on: FailOn
    comment: CommentMode
    status: StatusKind
    status_name: str
    auto_fix: bool
    working_directory: str


@dataclass(frozen=True)
class Target:
    """What an event asks to judge: `head_ref` merged into the current tip of `base_branch`."""

    event: str  # "pull_request", "pull_request_target", "merge_group" or "issue_comment"
    base_branch: str  # a branch name, e.g. "main"
    head_ref: str  # the remote ref of the head: refs/pull/N/head, or the merge group's ref
    number: int | None  # the pull request's number; None for a merge group
    event_head_sha: str | None  # the head sha the payload names (may lag behind head_ref)

    @property
    def sides(self) -> Sides:
        head = "the merge group" if self.event == "merge_group" else "this pull request"
        return Sides(base=f"origin/{self.base_branch}", head=head)


@dataclass(frozen=True)
class ActionContext:
    """Everything `prepare` read: the environment, the inputs, the event and where to work."""

    environ: Mapping[str, str] = field(repr=False)
    settings: Settings
    event_name: str
    payload: Mapping[str, Any] = field(repr=False)
    workspace: Path
    repository: Path  # the git repository judged: the workspace joined with working-directory
    target: Target | None  # None when the event's handler finds its own work
    skip: str | None  # why there is nothing to do for this event (a notice), or None
    log: WorkflowLog = field(repr=False, compare=False)
    server_url: str = "https://github.com"  # GITHUB_SERVER_URL, without a trailing slash
    api_url: str = "https://api.github.com"  # GITHUB_API_URL
    repository_name: str = ""  # owner/name, from GITHUB_REPOSITORY or the payload
    is_fork: bool = False  # a pull request event whose head lives in another repository

    @property
    def git(self) -> Workspace:
        """git in the judged repository, with the workflow token for fetches."""
        return Workspace(self.repository, self.environ, self.settings.token, self.server_url)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never be printed or posted: the tokens, in every form (see scrub)."""
        return secret_forms(self.settings.token, self.settings.fix_token)

    @property
    def repository_url(self) -> str:
        return f"{self.server_url}/{self.repository_name}"

    @property
    def run_url(self) -> str | None:
        run_id = self.environ.get("GITHUB_RUN_ID")
        return (
            f"{self.repository_url}/actions/runs/{run_id}"
            if self.repository_name and run_id
            else None
        )


@dataclass(frozen=True)
class ActionResult:
    """The verdict on the target and what the action makes of it."""

    verdict: Verdict
    sides: Sides
    base_sha: str  # the base tip judged (fetched now, not the payload's)
    head_sha: str  # the head judged (refs/pull/N/head as fetched now)
    report_path: Path  # where publish_local writes the verdict JSON
    report_output: str  # the `report` output: the same file, relative to the workspace
    exit_code: int
    link: Linker | None = field(default=None, compare=False)  # file and line -> its URL
    forecast: str = ""  # the sticky comment's collision forecast section (app.forecast)

    # Rendered once per result and reused by the job summary, the log, the annotations and
    # the check run (the comment renders its own variant, which offers `/merge-heads`).
    @cached_property
    def markdown(self) -> str:
        return markdown_report(self.verdict, self.sides, self.link)

    @cached_property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(findings(self.verdict, self.sides))


# Posts the result through GitHub's API; False when some of it could not be posted.
Publisher = Callable[[ActionContext, ActionResult], bool]
# Does all the work for one event; the step's exit code.
Handler = Callable[[ActionContext], int]


def is_fork(head_repository: object, base_repository: object) -> bool:
    """Whether a pull request's head lives in another repository than its base (GitHub's
    names are case-insensitive; a deleted fork has no name at all)."""
    if not isinstance(head_repository, str) or not isinstance(base_repository, str):
        return True
    return head_repository.lower() != base_repository.lower()


def dig(payload: Mapping[str, Any], *keys: str) -> Any:
    """payload[k1][k2]...; None where a level is missing or not an object."""
    value: Any = payload
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def secret_forms(*tokens: str) -> tuple[str, ...]:
    """Every form in which a token could show up in text: itself, the basic credentials git
    sends, and each line of a token that has several (a refused one: see app.action)."""
    forms: list[str] = []
    for token in filter(None, tokens):
        forms += [token, basic_credentials(token)]
        lines = [line.strip() for line in token.splitlines()]
        forms += [line for line in lines if len(line) >= _SHORTEST_SECRET and line != token]
    return tuple(dict.fromkeys(forms))


_SHORTEST_SECRET = 4  # a shorter line of a broken token would blank out ordinary words


def scrub(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret replaced by ***, the longest first (a token before its lines)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
