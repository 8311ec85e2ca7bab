"""The runner's environment -> an `ActionContext`: the inputs, the event payload, and what the
event asks to judge (a `Target`), or why there is nothing to do. No git, no API."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from alembic_heads_bot.adapters.runner import (
    WorkflowLog,
    get_boolean,
    get_choice,
    get_input,
)
from alembic_heads_bot.app.context import (
    COMMENT,
    FAIL_ON,
    STATUS,
    ActionContext,
    ActionError,
    Settings,
    Target,
    dig,
    is_fork,
)

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
PULL_REQUEST_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review", "edited")

# A target to judge, why there is nothing to do (a notice), or None: the event's handler finds
# its own work (a comment command, a push that re-checks open pull requests).
Decision = Target | str | None


def prepare(environ: Mapping[str, str], log: WorkflowLog | None = None) -> ActionContext:
    """Read the inputs and the event; decide what to judge. Raises ActionError, InputError."""
    settings = read_settings(environ)
    event_name = environ.get("GITHUB_EVENT_NAME", "").strip()
    if not event_name:
        raise ActionError("GITHUB_EVENT_NAME is not set: run this inside a GitHub Actions job")
    payload = read_event(environ)
    workspace = Path(environ.get("GITHUB_WORKSPACE") or Path.cwd())
    repository = workspace / settings.working_directory
    if not repository.is_dir():
        raise ActionError(
            f"input working-directory: {settings.working_directory!r} is not a directory of "
            "the workspace (did the job run actions/checkout first?)"
        )
    decide = _DECISIONS.get(event_name)
    if decide is None:
        raise ActionError(
            f"unsupported event {event_name!r}: the action runs on {', '.join(sorted(_DECISIONS))}"
        )
    decision = decide(event_name, payload)
    name = environ.get("GITHUB_REPOSITORY") or dig(payload, "repository", "full_name")
    return ActionContext(
        environ, settings, event_name, payload, workspace, repository,
        target=decision if isinstance(decision, Target) else None,
        skip=decision if isinstance(decision, str) else None,
        log=log if log is not None else WorkflowLog(),
        server_url=environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
        api_url=environ.get("GITHUB_API_URL", "https://api.github.com"),
        repository_name=name if isinstance(name, str) else "",
        is_fork=event_name in PULL_REQUEST_EVENTS and is_fork(
            dig(payload, "pull_request", "head", "repo", "full_name"),
            dig(payload, "pull_request", "base", "repo", "full_name"),
        ),
    )  # fmt: skip


def read_settings(environ: Mapping[str, str]) -> Settings:
    return Settings(
        token=get_input(environ, "github-token"),
        fix_token=get_input(environ, "fix-token"),
        config=get_input(environ, "config") or None,
        fail_on=get_choice(environ, "fail-on", FAIL_ON, "new-heads"),
        comment=get_choice(environ, "comment", COMMENT, "on-problem"),
        status=get_choice(environ, "status", STATUS, "check-run"),
        status_name=get_input(environ, "status-name", "alembic-heads"),
        auto_fix=get_boolean(environ, "auto-fix", False),
        working_directory=get_input(environ, "working-directory", "."),
    )


def read_event(environ: Mapping[str, str]) -> Mapping[str, Any]:
    """The webhook payload the runner wrote to GITHUB_EVENT_PATH."""
    path = environ.get("GITHUB_EVENT_PATH", "").strip()
    if not path:
        raise ActionError("GITHUB_EVENT_PATH is not set: run this inside a GitHub Actions job")
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ActionError(f"cannot read the event payload {path}: {exc.strerror}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ActionError(f"the event payload {path} is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ActionError(f"the event payload {path} is not a JSON object")
    return payload


def _pull_request(event: str, payload: Mapping[str, Any]) -> Decision:
    action = _field(payload, event, str, "action")
    changes = payload.get("changes")
    base_changed = isinstance(changes, dict) and "base" in changes
    if action not in PULL_REQUEST_ACTIONS or (action == "edited" and not base_changed):
        return (
            f"alembic-heads-bot: nothing to check for {event} {action!r} (it checks opened, "
            "synchronize, reopened, ready_for_review, and edited when the base branch changes)"
        )
    number = _field(payload, event, int, "pull_request", "number")
    return Target(
        event=event,
        base_branch=_field(payload, event, str, "pull_request", "base", "ref"),
        head_ref=f"refs/pull/{number}/head",
        number=number,
        event_head_sha=_optional(payload, "pull_request", "head", "sha"),
    )


def _merge_group(event: str, payload: Mapping[str, Any]) -> Decision:
    action = _field(payload, event, str, "action")
    if action != "checks_requested":
        return f"alembic-heads-bot: nothing to check for merge_group {action!r}"
    base_ref = _field(payload, event, str, "merge_group", "base_ref")
    if not base_ref.startswith("refs/heads/"):
        raise ActionError(f"the merge_group base_ref {base_ref!r} is not a branch")
    head_ref = _field(payload, event, str, "merge_group", "head_ref")
    if not head_ref.startswith("refs/"):
        raise ActionError(f"the merge_group head_ref {head_ref!r} is not a full ref")
    return Target(
        event=event,
        base_branch=base_ref.removeprefix("refs/heads/"),
        head_ref=head_ref,
        number=None,
        event_head_sha=_optional(payload, "merge_group", "head_sha"),
    )


def _handled_elsewhere(event: str, payload: Mapping[str, Any]) -> Decision:
    return None


_DECISIONS: dict[str, Callable[[str, Mapping[str, Any]], Decision]] = {
    "pull_request": _pull_request,
    "pull_request_target": _pull_request,
    "merge_group": _merge_group,
    "issue_comment": _handled_elsewhere,
    "push": _handled_elsewhere,
    "schedule": _handled_elsewhere,  # the default branch alone (app.fix_base)
    "workflow_dispatch": _handled_elsewhere,
}


def _field(payload: Mapping[str, Any], event: str, kind: type, *keys: str) -> Any:
    value = dig(payload, *keys)
    # bool is an int to Python, never a pull request number
    if not isinstance(value, kind) or isinstance(value, bool) or value == "":
        raise ActionError(
            f"the {event} event payload has no {'.'.join(keys)} ({kind.__name__} expected)"
        )
    return value


def _optional(payload: Mapping[str, Any], *keys: str) -> str | None:
    value = dig(payload, *keys)
    return value if isinstance(value, str) else None
