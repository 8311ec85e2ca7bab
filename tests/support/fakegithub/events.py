"""Webhook event payloads built from the fake's state, as GitHub Actions hands them to a job
in GITHUB_EVENT_PATH; each one is checked against GitHub's webhook description."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import render
from .bare import CommitInfo
from .openapi import webhook_spec
from .state import ACTIONS_LOGIN, PullRequest

if TYPE_CHECKING:
    from .fake import FakeGitHub

Json = dict[str, Any]
EVENT_FILE = "event.json"


class InvalidEventError(AssertionError):
    """A payload the fake built breaks GitHub's webhook description (a bug in the fake)."""


@dataclass(frozen=True)
class Event:
    """A webhook event: its name (GITHUB_EVENT_NAME), payload, and the Actions variables a
    workflow run for it would have."""

    name: str
    payload: Json
    variables: Mapping[str, str]

    def write(self, directory: str | os.PathLike[str]) -> Path:
        """Write the payload as `directory`/event.json; its path (for GITHUB_EVENT_PATH)."""
        path = Path(directory) / EVENT_FILE
        path.write_text(json.dumps(self.payload, indent=2))
        return path

    def env(self, directory: str | os.PathLike[str]) -> dict[str, str]:
        """The GITHUB_* environment of a run for this event, the payload written into
        `directory`: GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_API_URL,
        GITHUB_SERVER_URL, GITHUB_REF, GITHUB_SHA (and GITHUB_BASE_REF/HEAD_REF for PRs)."""
        return {
            **self.variables,
            "GITHUB_EVENT_NAME": self.name,
            "GITHUB_EVENT_PATH": str(self.write(directory)),
        }


def _checked(fake: FakeGitHub, name: str, payload: Json, variables: Mapping[str, str]) -> Event:
    if fake.validate:
        problems = webhook_spec().validate(name, payload)
        if problems:
            raise InvalidEventError("\n".join(problems))
    return Event(name, payload, dict(variables))


def _base_variables(fake: FakeGitHub, full_name: str) -> dict[str, str]:
    return {
        "GITHUB_REPOSITORY": fake.repo(full_name).full_name,
        "GITHUB_REPOSITORY_OWNER": fake.repo(full_name).owner,
        "GITHUB_API_URL": fake.api_url,
        "GITHUB_SERVER_URL": fake.server_url,
        "GITHUB_ACTIONS": "true",
    }


def _repository(fake: FakeGitHub, full_name: str) -> Json:
    repo = fake.repo(full_name)
    return {**fake.full_repo_json(repo), "custom_properties": {}}


def _sender(fake: FakeGitHub, login: str) -> Json:
    return render.user(fake.urls, fake.user(login))


def _merge_commit(fake: FakeGitHub, full_name: str, pr: PullRequest) -> str | None:
    """The test merge commit GitHub makes for refs/pull/N/merge (None on conflicts)."""
    repo = fake.repo(full_name)
    base = fake.branch_sha(full_name, pr.base_ref)
    done = repo.bare.git("merge-tree", "--write-tree", base, pr.head_sha, check=False)
    tree = done.decode().split("\n", 1)[0].strip()
    if not tree or repo.bare.object_type(tree) != "tree":
        return None
    info = repo.bare.commit(pr.head_sha)
    message = f"Merge {pr.head_sha} into {base}\n"
    sha = repo.bare.commit_tree(tree, [base, pr.head_sha], message, info.author, info.committer)
    repo.bare.update_ref(f"refs/pull/{pr.number}/merge", sha)
    return sha


def pull_request(
    fake: FakeGitHub,
    full_name: str,
    number: int,
    action: str,
    target: bool,
    sender: str | None,
    before: str | None,
    changes: Mapping[str, Any] | None,
) -> Event:
    repo = fake.repo(full_name)
    pr = fake.pull(full_name, number)
    pull = render.pull_request(fake.urls, pr, fake.pull_context(repo, pr))
    pull["head"]["repo"] = _repository(fake, pr.head_repo)
    pull["base"]["repo"] = _repository(fake, full_name)
    payload: Json = {
        "action": action,
        "number": pr.number,
        "pull_request": pull,
        "repository": _repository(fake, full_name),
        "sender": _sender(fake, sender or pr.author),
    }
    if action == "synchronize":
        payload["before"] = before or pr.head_sha
        payload["after"] = pr.head_sha
    if changes is not None:
        payload["changes"] = dict(changes)
    variables = {
        **_base_variables(fake, full_name),
        "GITHUB_BASE_REF": pr.base_ref,
        "GITHUB_HEAD_REF": pr.head_ref,
    }
    if target:
        variables["GITHUB_REF"] = f"refs/heads/{repo.default_branch}"
        variables["GITHUB_SHA"] = fake.branch_sha(full_name, repo.default_branch)
    else:
        variables["GITHUB_REF"] = f"refs/pull/{pr.number}/merge"
        merge = _merge_commit(fake, full_name, pr)
        if merge is not None:
            variables["GITHUB_SHA"] = merge
    name = "pull_request_target" if target else "pull_request"
    return _checked(fake, name, payload, variables)


def issue_comment(
    fake: FakeGitHub, full_name: str, comment_id: int, action: str, sender: str | None
) -> Event:
    repo = fake.repo(full_name)
    comment = repo.comments[comment_id]
    item = repo.issues[comment.issue_number]
    count = len(repo.issue_comments(item.number))
    issue = render.issue(fake.urls, repo, item, fake.user(item.author), count)
    payload = {
        "action": action,
        "issue": issue,
        "comment": fake.comment_json(repo, comment),
        "repository": _repository(fake, full_name),
        "sender": _sender(fake, sender or comment.author),
    }
    variables = {
        **_base_variables(fake, full_name),
        "GITHUB_REF": f"refs/heads/{repo.default_branch}",
        "GITHUB_SHA": fake.branch_sha(full_name, repo.default_branch),
    }
    return _checked(fake, "issue_comment", payload, variables)


def _commit_summary(fake: FakeGitHub, full_name: str, info: CommitInfo) -> Json:
    def person(who: Any) -> Json:
        known = [u for u in fake.users.values() if who.email in (u.email, u.noreply_email)]
        return {
            "name": who.name,
            "email": who.email,
            **({"username": known[0].login} if known else {}),
        }

    return {
        "id": info.sha,
        "tree_id": info.tree,
        "distinct": True,
        "message": info.message,
        "timestamp": info.committer.date,
        "url": f"{fake.server_url}/{full_name}/commit/{info.sha}",
        "author": person(info.author),
        "committer": person(info.committer),
    }


def _push_repository(fake: FakeGitHub, full_name: str) -> Json:
    """The push event's repository: timestamps are Unix seconds there, and it has extras."""
    body = _repository(fake, full_name)
    for key in ("created_at", "pushed_at"):
        body[key] = int(datetime.fromisoformat(body[key].replace("Z", "+00:00")).timestamp())
    body["stargazers"] = 0
    body["master_branch"] = body["default_branch"]
    return body


def push(
    fake: FakeGitHub,
    full_name: str,
    ref: str,
    before: str,
    after: str | None,
    sender: str | None,
) -> Event:
    repo = fake.repo(full_name)
    after = after or repo.bare.refs(ref)[ref]
    shas = repo.bare.text("rev-list", "--reverse", after, f"^{before}").split()
    commits = [_commit_summary(fake, full_name, repo.bare.commit(sha)) for sha in shas]
    head = _commit_summary(fake, full_name, repo.bare.commit(after))
    login = sender or ACTIONS_LOGIN
    who = fake.user(login)
    payload = {
        "ref": ref,
        "before": before,
        "after": after,
        "repository": _push_repository(fake, full_name),
        "pusher": {"name": login, "email": who.noreply_email},
        "sender": _sender(fake, login),
        "created": before == "0" * 40,
        "deleted": after == "0" * 40,
        "forced": not repo.bare.is_ancestor(before, after) if before != "0" * 40 else False,
        "base_ref": None,
        "compare": f"{fake.server_url}/{full_name}/compare/{before[:12]}...{after[:12]}",
        "commits": commits,
        "head_commit": head,
    }
    variables = {**_base_variables(fake, full_name), "GITHUB_REF": ref, "GITHUB_SHA": after}
    return _checked(fake, "push", payload, variables)


def merge_group(
    fake: FakeGitHub,
    full_name: str,
    head_sha: str,
    base_ref: str | None,
    base_sha: str | None,
    head_ref: str | None,
    sender: str | None,
) -> Event:
    repo = fake.repo(full_name)
    branch = base_ref or repo.default_branch
    base_sha = base_sha or fake.branch_sha(full_name, branch)
    info = repo.bare.commit(head_sha)
    head_ref = head_ref or f"refs/heads/gh-readonly-queue/{branch}/pr-1-{base_sha}"
    payload = {
        "action": "checks_requested",
        "merge_group": {
            "head_sha": head_sha,
            "head_ref": head_ref,
            "base_sha": base_sha,
            "base_ref": f"refs/heads/{branch}",
            "head_commit": {
                "id": info.sha,
                "tree_id": info.tree,
                "message": info.message,
                "timestamp": info.committer.date,
                "author": {"name": info.author.name, "email": info.author.email},
                "committer": {"name": info.committer.name, "email": info.committer.email},
            },
        },
        "repository": _repository(fake, full_name),
        "sender": _sender(fake, sender or ACTIONS_LOGIN),
    }
    variables = {**_base_variables(fake, full_name), "GITHUB_REF": head_ref, "GITHUB_SHA": head_sha}
    return _checked(fake, "merge_group", payload, variables)


def schedule(fake: FakeGitHub, full_name: str, cron: str) -> Event:
    """A `schedule` run: no webhook stands behind it, so there is no description to check the
    payload against; Actions gives it `schedule` and `workflow`, and the default branch as
    GITHUB_REF."""
    repo = fake.repo(full_name)
    payload = {"schedule": cron, "workflow": ".github/workflows/alembic-heads.yml"}
    variables = {
        **_base_variables(fake, full_name),
        "GITHUB_REF": f"refs/heads/{repo.default_branch}",
        "GITHUB_SHA": fake.branch_sha(full_name, repo.default_branch),
    }
    return Event("schedule", payload, variables)
