"""What the fake GitHub remembers: plain records, mutated only under the fake's lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .bare import BareRepo

# The legacy permission each repository role maps to (GitHub folds maintain into write and
# triage into read in the `permission` field; `role_name` keeps the role).
ROLE_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}
# Token permission scopes, as the REST API names them (Actions' YAML uses dashes).
SCOPES = ("metadata", "contents", "issues", "pull_requests", "checks", "statuses")
ACTIONS_LOGIN = "github-actions[bot]"
ACTIONS_USER_ID = 41898282


def now() -> str:
    """The current time as GitHub writes it (UTC, whole seconds)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # User | Bot | Organization
    name: str | None = None
    email: str | None = None
    created_at: str = field(default_factory=now)

    @property
    def noreply_email(self) -> str:
        return f"{self.id}+{self.login}@users.noreply.github.com"


@dataclass
class Token:
    """An access token: whose it is, what it may do, and whether it is an app's."""

    value: str
    login: str
    permissions: dict[str, str]  # scope -> "read" | "write"
    is_app: bool  # an installation token (GITHUB_TOKEN, GitHub App) rather than a user's

    def allows(self, scope: str, level: str) -> bool:
        granted = self.permissions.get(scope, "none")
        return granted == "write" or (granted == "read" and level == "read")


@dataclass
class Reaction:
    id: int
    login: str
    content: str
    created_at: str = field(default_factory=now)


@dataclass
class Comment:
    id: int
    repo: str
    issue_number: int
    author: str
    body: str
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Issue:
    """An issue; a pull request is one too (same number space, same comments)."""

    number: int
    id: int
    author: str
    title: str
    body: str
    state: str = "open"
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)
    closed_at: str | None = None


@dataclass
class PullRequest(Issue):
    head_repo: str = ""  # full name; differs from the base repository for a fork
    head_ref: str = ""
    base_ref: str = ""
    head_sha: str = ""  # kept in step with the head branch and refs/pull/N/head
    draft: bool = False
    maintainer_can_modify: bool = False
    mergeable: bool | None = True
    merged: bool = False


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    app_login: str
    status: str = "queued"
    conclusion: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    details_url: str | None = None
    external_id: str | None = None
    output: dict[str, str | None] = field(
        default_factory=lambda: {"title": None, "summary": None, "text": None}
    )
    annotations: list[dict[str, Any]] = field(default_factory=list)
    suite_id: int = 0


@dataclass
class Status:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: str = field(default_factory=now)


@dataclass
class Repo:
    full_name: str
    id: int
    bare: BareRepo
    default_branch: str
    private: bool
    fork_of: str | None
    created_at: str = field(default_factory=now)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role
    issues: dict[int, Issue] = field(default_factory=dict)  # pull requests included
    comments: dict[int, Comment] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    verified_commits: set[str] = field(default_factory=set)

    @property
    def owner(self) -> str:
        return self.full_name.split("/")[0]

    @property
    def name(self) -> str:
        return self.full_name.split("/")[1]

    @property
    def pulls(self) -> dict[int, PullRequest]:
        return {n: i for n, i in self.issues.items() if isinstance(i, PullRequest)}

    def issue_comments(self, number: int) -> list[Comment]:
        """The comments on one issue or pull request, oldest (lowest id) first."""
        found = (c for c in self.comments.values() if c.issue_number == number)
        return sorted(found, key=lambda c: c.id)

    def role(self, login: str) -> str | None:
        """The user's repository role, the owner being admin; None for no role."""
        return "admin" if login == self.owner else self.collaborators.get(login)
