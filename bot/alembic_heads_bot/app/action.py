"""The GitHub Action: the runner's environment in, a verdict, outputs and an exit code out.

A shell (git, files, the job log). The work is split in three steps so that the layer that
talks to GitHub's API (the sticky comment, the check run or commit status, the fix commit) runs
between judging and exiting, knowing nothing of how the event was read or the history fetched:

    ctx = prepare(environ)         # inputs, event, workspace -> ActionContext; no git yet
    if ctx.skip: notice, exit 0    # an event or activity this action does not judge
    result = evaluate(ctx)         # fetch what is missing, analyse -> ActionResult
    publish_local(ctx, result)     # verdict JSON file, outputs, job summary, annotations
    publish(ctx, result)           # the GitHub API layer, passed in by the caller
    exit result.exit_code          # from the fail-on input

`run_action(environ, publish=...)` is exactly that sequence; it turns every failure into one
`::error::` line and exit code 2, never a traceback. `main()` is `run_action(os.environ)`: the
`alembic-heads-bot action` command, the container's entry point.

Judged events: `pull_request` and `pull_request_target` (opened, synchronize, reopened,
ready_for_review, and edited when the base branch changed) and `merge_group`. The head is the
pull request's `refs/pull/N/head` (or the merge group's ref) and the base is the CURRENT tip of
the base branch, fetched now: the payload's base sha is stale as soon as the base moves on.
Both are fetched into `refs/alembic-heads/*` of the workspace repository, deepening a shallow
clone until a merge base is found. The token goes to git as an HTTP header through
`GIT_CONFIG_*` variables scoped to the GitHub server: never in a URL, an argv, the repository's
config or the log.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from alembic_heads_bot.adapters.runner import (
    InputError,
    WorkflowLog,
    append_summary,
    get_boolean,
    get_choice,
    get_input,
    write_outputs,
)
from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.report.verdict import (
    Linker,
    Sides,
    findings,
    markdown_report,
    text_report,
)

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2

FAIL_ON = ("new-heads", "problems", "never")
COMMENT = ("on-problem", "always", "never")
STATUS = ("check-run", "commit-status", "none")

PULL_REQUEST_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review", "edited")
BASE_REF = "refs/alembic-heads/base"
HEAD_REF = "refs/alembic-heads/head"
REPORT_FILE = "alembic-heads-report.json"

# A shallow clone is deepened step by step until the two tips meet; --unshallow is the last
# resort (the whole history of both branches).
_DEEPEN_STEPS = (("--depth=50",), ("--deepen=250",), ("--deepen=2000",), ("--unshallow",))
_FETCH_TIMEOUT = 900  # seconds
_GIT_TIMEOUT = 120


class ActionError(Exception):
    """The action cannot go on; the message is said once, as an `::error::`, and it exits 2."""


# --- the seam --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The action's inputs, validated (see action.yml for their meaning and defaults)."""

    token: str = field(repr=False)
    fix_token: str = field(repr=False)  # pushes the fix commit when set (see action.yml)
    config: str | None
    fail_on: str
    comment: str
    status: str
    status_name: str
    auto_fix: bool
    working_directory: str


@dataclass(frozen=True)
class Target:
    """What an event asks to judge: `head_ref` merged into the current tip of `base_branch`."""

    event: str  # "pull_request", "pull_request_target" or "merge_group"
    base_branch: str  # a branch name, e.g. "main"
    head_ref: str  # the remote ref of the head: refs/pull/N/head, or the merge group's ref
    number: int | None  # the pull request's number; None for a merge group
    event_head_sha: str | None  # the head sha the payload names (may lag behind head_ref)


@dataclass(frozen=True)
class ActionContext:
    """Everything `prepare` read: the environment, the inputs, the event and where to work."""

    environ: Mapping[str, str] = field(repr=False)
    settings: Settings
    event_name: str
    payload: Mapping[str, Any] = field(repr=False)
    workspace: Path
    repository: Path  # the git repository judged: the workspace joined with working-directory
    target: Target | None  # None when the event is not judged (then `skip` says why)
    skip: str | None
    log: WorkflowLog = field(repr=False, compare=False)


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


# Posts the result through GitHub's API; False when some of it could not be posted.
Publisher = Callable[[ActionContext, ActionResult], bool]
# Does all the work for an event that is not one judged target (a comment command, a push
# that re-checks open pull requests); the step's exit code.
Handler = Callable[[ActionContext], int]


# --- entry points ----------------------------------------------------------------------------


def main() -> int:
    """The container's entry point (`alembic-heads-bot action`)."""
    from alembic_heads_bot.app.merge_heads import publish_and_fix

    return run_action(os.environ, publish=publish_and_fix, handlers=_handlers())


def _handlers() -> dict[str, Handler]:
    from alembic_heads_bot.app.merge_heads import handle_comment
    from alembic_heads_bot.app.recheck import handle_push

    return {"issue_comment": handle_comment, "push": handle_push}


def run_action(
    environ: Mapping[str, str],
    *,
    publish: Publisher | None = None,
    handlers: Mapping[str, Handler] | None = None,
    stream: TextIO | None = None,
) -> int:
    """Prepare, evaluate, publish; the step's exit code (0 pass, 1 fail, 2 error).

    `publish` runs after everything local is written (so the job summary and outputs exist
    even when the API refuses); it reports its own failures and returns False, and the step
    then exits 2. An exception it raises becomes one `::error::` line and exit code 2."""
    log = WorkflowLog(stream if stream is not None else sys.stdout)
    secrets = _secrets(get_input(environ, "github-token"), get_input(environ, "fix-token"))
    for secret in secrets:
        log.add_mask(secret)
    try:
        ctx = prepare(environ, log)
        if ctx.skip is not None:
            log.notice(ctx.skip)
            return EXIT_OK
        if ctx.target is None:
            handler = (handlers or {}).get(ctx.event_name)
            if handler is None:
                log.notice(f"alembic-heads-bot: {ctx.event_name} events are not handled here")
                return EXIT_OK
            return handler(ctx)
        result = evaluate(ctx)
        publish_local(ctx, result)
        if publish is not None and not publish(ctx, result):
            return EXIT_ERROR
        return result.exit_code
    except (ActionError, InputError) as exc:
        log.error(_scrub(f"alembic-heads-bot: {exc}", secrets))
    except OSError as exc:  # a runner file that cannot be written, a full disk
        log.error(_scrub(f"alembic-heads-bot: {exc}", secrets))
    except Exception as exc:  # the job log gets one line, never a traceback
        log.error(
            _scrub(f"alembic-heads-bot: internal error: {type(exc).__name__}: {exc}", secrets)
        )
    return EXIT_ERROR


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
    router = _EVENTS.get(event_name)
    if router is None:
        raise ActionError(
            f"unsupported event {event_name!r}: the action runs on {', '.join(sorted(_EVENTS))}"
        )
    decision = router(event_name, payload)
    target = decision if isinstance(decision, Target) else None
    skip = decision if isinstance(decision, str) else None
    return ActionContext(
        environ, settings, event_name, payload, workspace, repository, target, skip,
        log if log is not None else WorkflowLog(),
    )  # fmt: skip


def evaluate(ctx: ActionContext) -> ActionResult:
    """Fetch the base tip and the head, judge the merge. Raises ActionError."""
    from alembic_heads_bot.adapters.databases import DatabaseReader
    from alembic_heads_bot.adapters.git import SourceError
    from alembic_heads_bot.app.pull_request import analyse
    from alembic_heads_bot.engine.scan import EnvironmentNotFound

    target = ctx.target
    if target is None:
        raise ActionError(f"nothing to evaluate: {ctx.skip}")
    mark_safe_directories(ctx)
    fetch(ctx, target)
    try:
        verdict = analyse(
            ctx.repository,
            BASE_REF,
            HEAD_REF,
            config=ctx.settings.config,
            databases=DatabaseReader(ctx.environ),
        )
    except (SourceError, EnvironmentNotFound, ValueError) as exc:
        raise ActionError(str(exc)) from exc
    commits = verdict.commits
    base_sha = commits.base if commits is not None and commits.base else ""
    head_sha = commits.head if commits is not None and commits.head else ""
    report_path, report_output = _report_location(ctx.workspace)
    return ActionResult(
        verdict=verdict,
        sides=_sides(target),
        base_sha=base_sha,
        head_sha=head_sha,
        report_path=report_path,
        report_output=report_output,
        exit_code=exit_code(verdict, ctx.settings.fail_on),
        link=file_linker(ctx, verdict, base_sha, head_sha),
    )


def publish_local(ctx: ActionContext, result: ActionResult) -> None:
    """What needs no API: the verdict file, the outputs, the job summary, the annotations and
    the text report in the log."""
    verdict = result.verdict
    result.report_path.write_text(json.dumps(verdict.as_dict(), indent=2) + "\n", "utf-8")
    output_file = ctx.environ.get("GITHUB_OUTPUT")
    if output_file:
        write_outputs(output_file, outputs(verdict, result.report_output))
    summary_file = ctx.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        append_summary(summary_file, markdown_report(verdict, result.sides, result.link))
    ctx.log.untrusted(text_report(verdict, result.sides))
    for found in findings(verdict, result.sides):
        ctx.log.annotate(
            found.level, found.message, file=found.path, line=found.line, title=found.title
        )


# --- inputs and event ------------------------------------------------------------------------


def read_settings(environ: Mapping[str, str]) -> Settings:
    status_name = get_input(environ, "status-name", "alembic-heads")
    return Settings(
        token=get_input(environ, "github-token"),
        fix_token=get_input(environ, "fix-token"),
        config=get_input(environ, "config") or None,
        fail_on=get_choice(environ, "fail-on", FAIL_ON, "new-heads"),
        comment=get_choice(environ, "comment", COMMENT, "on-problem"),
        status=get_choice(environ, "status", STATUS, "check-run"),
        status_name=status_name,
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


# A target to judge, why there is nothing to do (a notice), or None: the event's handler
# does the work.
Decision = Target | str | None


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


_EVENTS: dict[str, Callable[[str, Mapping[str, Any]], Decision]] = {
    "pull_request": _pull_request,
    "pull_request_target": _pull_request,
    "merge_group": _merge_group,
    "issue_comment": _handled_elsewhere,
    "push": _handled_elsewhere,
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


def dig(payload: Mapping[str, Any], *keys: str) -> Any:
    """payload[k1][k2]...; None where a level is missing or not an object."""
    value: Any = payload
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


# --- git -------------------------------------------------------------------------------------


def mark_safe_directories(ctx: ActionContext) -> None:
    """The workspace belongs to the runner's user and the container runs as root: without a
    `safe.directory` entry in the global config git refuses to work there."""
    wanted = [str(ctx.workspace.resolve()), str(ctx.repository.resolve())]
    listed = _git(ctx, "config", "--global", "--get-all", "safe.directory", check=False)
    present = set(listed.stdout.splitlines())
    for directory in dict.fromkeys(wanted):
        if directory not in present and "*" not in present:
            _git(ctx, "config", "--global", "--add", "safe.directory", directory)


def fetch(ctx: ActionContext, target: Target) -> None:
    """Fetch the base branch's current tip and the head into refs/alembic-heads/*, deepening
    a shallow clone until the two share a commit."""
    _check_branch_name(ctx, target.base_branch)
    refspecs = (f"+refs/heads/{target.base_branch}:{BASE_REF}", f"+{target.head_ref}:{HEAD_REF}")
    if not _is_shallow(ctx):
        _fetch(ctx, (), refspecs)
        return
    for step in _DEEPEN_STEPS:
        _fetch(ctx, step, refspecs)
        if not _is_shallow(ctx) or _has_merge_base(ctx):
            return


def git_environment(environ: Mapping[str, str], token: str) -> dict[str, str]:
    """The environment git runs in: never prompting, and with the token as an Authorization
    header for the GitHub server only, added through GIT_CONFIG_* so that it shows in no argv
    and is written to no config file."""
    env = dict(environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    if not token:
        return env
    server = environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    count = environ.get("GIT_CONFIG_COUNT", "0")
    index = int(count) if count.isdigit() else 0
    env[f"GIT_CONFIG_KEY_{index}"] = f"http.{server}/.extraheader"
    env[f"GIT_CONFIG_VALUE_{index}"] = f"AUTHORIZATION: basic {_basic_credentials(token)}"
    env["GIT_CONFIG_COUNT"] = str(index + 1)
    return env


def _basic_credentials(token: str) -> str:
    return base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")


def _fetch(ctx: ActionContext, depth: Sequence[str], refspecs: Sequence[str]) -> None:
    done = _git(
        ctx,
        "fetch", "--quiet", "--no-tags", "--no-recurse-submodules", *depth, "origin", *refspecs,
        check=False, auth=True, timeout=_FETCH_TIMEOUT,
    )  # fmt: skip
    if done.returncode != 0:
        raise ActionError(
            f"git fetch of {', '.join(r.split(':')[0].lstrip('+') for r in refspecs)} from "
            f"origin failed: {_last_line(done.stderr)}"
        )


def _is_shallow(ctx: ActionContext) -> bool:
    return _git(ctx, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"


def _has_merge_base(ctx: ActionContext) -> bool:
    return _git(ctx, "merge-base", BASE_REF, HEAD_REF, check=False).returncode == 0


def _check_branch_name(ctx: ActionContext, branch: str) -> None:
    valid = _git(ctx, "check-ref-format", f"refs/heads/{branch}", check=False)
    if valid.returncode != 0 or branch.startswith("-"):
        raise ActionError(f"the base branch name {branch!r} is not a valid git branch name")


def _git(
    ctx: ActionContext,
    *args: str,
    check: bool = True,
    auth: bool = False,
    timeout: int = _GIT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run git in the judged repository (fixed argv, no shell)."""
    env = git_environment(ctx.environ, ctx.settings.token if auth else "")
    try:
        done = subprocess.run(
            ["git", *args], cwd=ctx.repository, env=env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise ActionError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise ActionError(f"git {args[0]} did not finish within {timeout} s") from exc
    if check and done.returncode != 0:
        raise ActionError(f"git {args[0]} failed: {_last_line(done.stderr)}")
    return done


def file_linker(ctx: ActionContext, verdict: Verdict, base_sha: str, head_sha: str) -> Linker:
    """Links to a file and line on GitHub: at the judged head, or at the base tip for a file
    the head no longer has (a deleted revision)."""
    server = ctx.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository = ctx.environ.get("GITHUB_REPOSITORY", "")
    paths = sorted({f.path for f in findings(verdict) if f.path})
    listed = _git(ctx, "ls-tree", "-r", "--name-only", "-z", HEAD_REF, "--", *paths, check=False)
    at_head = set(listed.stdout.split("\0"))

    def link(path: str, line: int | None) -> str | None:
        if not repository:
            return None
        sha = head_sha if path in at_head or not base_sha else base_sha
        anchor = f"#L{line}" if line else ""
        return f"{server}/{repository}/blob/{sha}/{quote(path)}{anchor}"

    return link


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "git failed without a message"


# --- results ---------------------------------------------------------------------------------


def exit_code(verdict: Verdict, fail_on: str) -> int:
    """new-heads: fail when the verdict fails; problems: only when a rule about broken files or
    rewritten history (problems, hazards, applied-revisions) fails; never: 0."""
    if fail_on == "never":
        return EXIT_OK
    failed = set(verdict.failed_rules)
    if fail_on == "problems":
        failed &= {"problems", "hazards", "applied-revisions"}
    return EXIT_FAILED if failed else EXIT_OK


def outputs(verdict: Verdict, report: str) -> dict[str, str]:
    """The action's outputs: ok, heads and new-heads (JSON lists of revision ids), report."""
    heads = dict.fromkeys(h for env in verdict.environments for h in env.heads)
    new = dict.fromkeys(h.revision for env in verdict.environments for h in env.new_heads)
    return {
        "ok": "true" if verdict.ok else "false",
        "heads": json.dumps(list(heads)),
        "new-heads": json.dumps(list(new)),
        "report": report,
    }


def _sides(target: Target) -> Sides:
    head = "the merge group" if target.event == "merge_group" else "this pull request"
    return Sides(base=f"origin/{target.base_branch}", head=head)


def _report_location(workspace: Path) -> tuple[Path, str]:
    """The verdict file goes in the workspace, the one directory the steps after this
    container see too; the output names it relative to the workspace, their working
    directory."""
    return workspace / REPORT_FILE, REPORT_FILE


def _secrets(*tokens: str) -> tuple[str, ...]:
    return tuple(s for token in tokens if token for s in (token, _basic_credentials(token)))


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
