"""The action end to end on real git repositories, the way a runner hands it a job.

A bare repository plays GitHub ("origin", a file:// URL) with the pull request's head under
refs/pull/N/head; the workspace is a `--depth 1` clone, as actions/checkout leaves it. The base
branch moves on after the pull request is opened, so the payload's base sha is stale: only the
current tip shows the second head.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from action_run import (
    TOKEN,
    git_env,
    move_main,
    open_pull_request,
    pull_request_event,
    remote,
    stale_two_heads,
)
from alembic_heads_bot.adapters.git import auth_environment
from alembic_heads_bot.app.action import run_action
from alembic_heads_bot.app.context import BASE_REF, ActionContext, ActionError, ActionResult
from gitrepo import GitRepo
from projects import path, revision
from runner_model import RunnerModel, read_outputs

SECRETS = (TOKEN, base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode())


@dataclass
class Run:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    environ: dict[str, str]

    @property
    def commands(self) -> list[tuple[str, dict[str, str], str]]:
        """What the runner would do with the log, the two token masks left out."""
        return [c for c in RunnerModel().feed(self.log) if c[0] != "add-mask"]

    def annotations(self, level: str = "error") -> list[tuple[dict[str, str], str]]:
        return [(props, data) for name, props, data in self.commands if name == level]


def run(environ: dict[str, str]) -> Run:
    stream = io.StringIO()
    code = run_action(environ, stream=stream)
    return Run(
        code,
        stream.getvalue(),
        read_outputs(Path(environ["GITHUB_OUTPUT"]).read_text()),
        Path(environ["GITHUB_STEP_SUMMARY"]).read_text(),
        environ,
    )


def assert_no_secret_anywhere(result: Run, workspace: Path) -> None:
    """The token shows only in the runner's mask commands: not in other log lines, outputs,
    summary, report, or anything git keeps."""
    masks = result.log.splitlines()[:2]  # before anything else is printed
    assert [data for name, _, data in RunnerModel().feed("\n".join(masks))] == list(SECRETS)
    rest = "\n".join(line for line in result.log.splitlines() if line not in masks)
    places = [rest, json.dumps(result.outputs), result.summary]
    places += [
        p.read_text(errors="replace") for p in (workspace / ".git").rglob("*") if p.is_file()
    ]
    places += [p.read_text() for p in (workspace.parent / "home").rglob("*") if p.is_file()]
    report = workspace / "alembic-heads-report.json"
    places += [report.read_text()] if report.exists() else []
    for secret in SECRETS:
        assert not any(secret in text for text in places)


# --- pull requests ---------------------------------------------------------------------------


def test_a_second_head_is_found_against_the_current_base_tip_not_the_stale_payload(
    tmp_path: Path,
) -> None:
    project, payload = stale_two_heads(tmp_path)
    result = run(project.environ("pull_request", payload))
    assert result.code == 1
    assert result.outputs["ok"] == "false"
    assert json.loads(result.outputs["heads"]) == ["c", "d"]
    assert json.loads(result.outputs["new-heads"]) == ["c"]
    assert result.outputs["report"] == "alembic-heads-report.json"
    report = json.loads((tmp_path / "workspace" / result.outputs["report"]).read_text())
    assert report["ok"] is False and report["failed_rules"] == ["new-heads"]
    assert report["commits"]["base"] == project.src.rev("main")
    assert report["commits"]["head"] == project.src.rev("feature")
    assert "New Alembic head: origin/main's single head becomes 2 once merged" in result.summary
    assert "git merge origin/main" in result.summary
    [(where, message)] = result.annotations("error")
    assert where == {"file": path("c"), "line": "7", "title": "New head c"}
    assert message.startswith("c becomes a second Alembic head once merged into origin/main")
    assert "alembic merge -m 'merge heads c, d' c d" in message
    assert "alembic-heads-bot: FAIL" in result.log
    assert_no_secret_anywhere(result, tmp_path / "workspace")


def test_a_clean_pull_request_passes(tmp_path: Path) -> None:
    project = remote(tmp_path)
    base = move_main(project, {path("c"): revision("c", "b")})
    head = open_pull_request(project, 3, {path("d"): revision("d", "c")})
    project.workspace()
    result = run(project.environ("pull_request", pull_request_event(3, base, head, "opened")))
    assert result.code == 0
    assert result.outputs["ok"] == "true"
    assert json.loads(result.outputs["heads"]) == ["d"]
    assert json.loads(result.outputs["new-heads"]) == []
    assert "No new Alembic head: origin/main's single head stays single" in result.summary
    assert result.annotations("error") == [] and result.annotations("warning") == []


def test_fail_on_never_reports_but_passes(tmp_path: Path) -> None:
    project, payload = stale_two_heads(tmp_path)
    result = run(project.environ("pull_request", payload, fail_on="never"))
    assert result.code == 0
    assert result.outputs["ok"] == "false"
    assert len(result.annotations("error")) == 1


def test_fail_on_problems_ignores_a_second_head_but_not_a_broken_file(tmp_path: Path) -> None:
    project, payload = stale_two_heads(tmp_path)
    assert run(project.environ("pull_request", payload, fail_on="problems")).code == 0

    project = remote(tmp_path / "broken")
    base = project.src.rev("main")
    head = open_pull_request(project, 4, {path("c"): "revision = 'c'\ndown_revision = ('b'\n"})
    project.workspace()
    result = run(
        project.environ("pull_request", pull_request_event(4, base, head), fail_on="problems")
    )
    assert result.code == 1
    [(where, _)] = result.annotations("error")
    assert where["file"] == path("c") and where["title"] == "syntax-error"


def test_a_policy_that_warns_gives_warnings_and_passes(tmp_path: Path) -> None:
    project = remote(tmp_path)
    move_main(project, {".github/alembic-heads.yml": "policy:\n  new-heads: warn\n"})
    opened_on = project.src.rev("main")
    head = open_pull_request(project, 5, {path("c"): revision("c", "b")})
    project.workspace()
    move_main(project, {path("d"): revision("d", "b")})
    result = run(project.environ("pull_request_target", pull_request_event(5, opened_on, head)))
    assert result.code == 0
    assert result.outputs["ok"] == "true"
    assert [w["title"] for w, _ in result.annotations("warning")] == ["New head c"]
    assert result.annotations("error") == []


def test_a_fork_point_deeper_than_the_first_fetch_is_found_by_deepening(tmp_path: Path) -> None:
    project = remote(tmp_path)
    opened_on = project.src.rev("main")
    head = open_pull_request(project, 9, {path("c"): revision("c", "b")})
    project.workspace()
    for step in range(60):
        project.src.commit(f"unrelated {step}")
    move_main(project, {path("d"): revision("d", "b")})
    result = run(project.environ("pull_request", pull_request_event(9, opened_on, head)))
    assert result.code == 1
    assert json.loads(result.outputs["new-heads"]) == ["c"]
    workspace = GitRepo(tmp_path / "workspace")
    assert workspace.git("rev-list", "--count", BASE_REF).strip() == "62"


def test_editing_the_title_is_not_checked_but_changing_the_base_is(tmp_path: Path) -> None:
    project, payload = stale_two_heads(tmp_path)
    title = {**payload, "action": "edited", "changes": {"title": {"from": "old"}}}
    result = run(project.environ("pull_request", title))
    assert result.code == 0 and result.outputs == {}
    [(name, _, message)] = result.commands
    assert name == "notice" and "nothing to check for pull_request 'edited'" in message

    rebased = {**payload, "action": "edited", "changes": {"base": {"ref": {"from": "dev"}}}}
    assert run(project.environ("pull_request", rebased)).code == 1


def test_closing_a_pull_request_is_a_notice(tmp_path: Path) -> None:
    project, payload = stale_two_heads(tmp_path)
    result = run(project.environ("pull_request", {**payload, "action": "closed"}))
    assert result.code == 0
    assert [name for name, _, _ in result.commands] == ["notice"]


def test_the_workspace_is_marked_safe_once(tmp_path: Path) -> None:
    project, payload = stale_two_heads(tmp_path)
    environ = project.environ("pull_request", payload)
    run(environ)
    run(environ)
    listed = subprocess.run(
        ["git", "config", "--global", "--get-all", "safe.directory"],
        env=environ, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert listed == [str((tmp_path / "workspace").resolve())]


# --- merge queue -----------------------------------------------------------------------------


def test_a_merge_group_that_joins_two_heads_fails(tmp_path: Path) -> None:
    project = remote(tmp_path)
    opened_on = project.src.rev("main")
    open_pull_request(project, 7, {path("c"): revision("c", "b")})
    project.workspace()
    move_main(project, {path("d"): revision("d", "b")})
    queue = "gh-readonly-queue/main/pr-7-" + project.src.rev("feature")
    project.src.branch(queue)
    project.src.checkout(queue)
    group = project.src.merge("feature")
    project.src.checkout("main")
    project.push(f"{queue}:refs/heads/{queue}")
    payload = {
        "action": "checks_requested",
        "merge_group": {
            "head_sha": group,
            "head_ref": f"refs/heads/{queue}",
            "base_sha": opened_on,
            "base_ref": "refs/heads/main",
        },
    }
    result = run(project.environ("merge_group", payload))
    assert result.code == 1
    assert json.loads(result.outputs["new-heads"]) == ["c"]
    assert "git merge origin/main" not in result.summary  # the group holds main already
    assert_no_secret_anywhere(result, tmp_path / "workspace")


# --- events not judged, and errors -----------------------------------------------------------


def test_comments_and_pushes_go_to_their_handler_with_the_context(tmp_path: Path) -> None:
    project = remote(tmp_path)
    project.workspace()
    seen: list[tuple[str, object]] = []

    def handler(ctx: ActionContext) -> int:
        seen.append((ctx.event_name, ctx.payload["action"]))
        return 1

    for event in ("issue_comment", "push"):
        environ = project.environ(event, {"action": "created"})
        assert run_action(environ, handlers={event: handler}, stream=io.StringIO()) == 1
        without = run(environ)  # no handler: a one-line notice
        assert without.code == 0 and without.outputs == {} and without.summary == ""
        [line] = [line for line in without.log.splitlines() if not line.startswith("::add-mask")]
        assert line == f"::notice::alembic-heads-bot: {event} events are not handled here"
    assert seen == [("issue_comment", "created"), ("push", "created")]


def test_a_broken_event_file_is_one_clear_error(tmp_path: Path) -> None:
    project = remote(tmp_path)
    project.workspace()
    result = run(project.environ("pull_request", '{"action": "opened", '))
    assert result.code == 2
    [(name, _, message)] = result.commands
    assert name == "error"
    assert message.startswith(
        f"alembic-heads-bot: the event payload {tmp_path}/runner/event.json is not valid JSON"
    )
    assert "Traceback" not in result.log


def test_a_payload_without_its_base_branch_is_a_clear_error(tmp_path: Path) -> None:
    project = remote(tmp_path)
    project.workspace()
    result = run(
        project.environ("pull_request", {"action": "opened", "pull_request": {"number": 1}})
    )
    assert result.code == 2
    assert result.commands[-1][2] == (
        "alembic-heads-bot: the pull_request event payload has no pull_request.base.ref "
        "(str expected)"
    )


def test_bad_inputs_and_unknown_events_exit_2(tmp_path: Path) -> None:
    project, payload = stale_two_heads(tmp_path)
    result = run(project.environ("pull_request", payload, status="sometimes"))
    assert (result.code, result.commands[-1][0]) == (2, "error")
    assert "input status: 'sometimes' is not one of check-run, commit-status, none" in result.log
    result = run(project.environ("release", {}))  # workflow_dispatch has a meaning now
    assert result.code == 2
    assert "unsupported event 'release'" in result.commands[-1][2]
    result = run(project.environ("pull_request", payload, working_directory="nowhere"))
    assert result.code == 2 and "input working-directory: 'nowhere'" in result.log


def test_a_failed_fetch_is_a_clear_error_without_the_token(tmp_path: Path) -> None:
    project, payload = stale_two_heads(tmp_path)
    gone = {**payload, "number": 8, "pull_request": {**payload["pull_request"], "number": 8}}
    result = run(project.environ("pull_request", gone))
    assert result.code == 2
    [(name, _, message)] = result.commands
    assert name == "error"
    assert message.startswith(
        "alembic-heads-bot: git fetch of refs/heads/main, refs/pull/8/head from origin failed: "
    )
    assert "refs/pull/8/head" in message and "Traceback" not in result.log
    assert_no_secret_anywhere(result, tmp_path / "workspace")


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (f"{TOKEN}\nsecond-line-of-the-secret", "a line break"),
        (f"{TOKEN}\r\nsecond-line-of-the-secret", "a line break"),
        (f"{TOKEN}\x1b[2Kthe-rest", "a control character"),
        (f"{TOKEN} second-word-of-the-secret", "a space or a character that is not ASCII"),
    ],
)
def test_a_token_that_no_token_could_be_is_refused_by_its_input_name_never_shown(
    tmp_path: Path, value: str, kind: str
) -> None:
    project, payload = stale_two_heads(tmp_path)
    for name in ("github-token", "fix-token"):
        environ = project.environ("pull_request", payload, fix_token=TOKEN)
        environ[f"INPUT_{name.upper()}"] = value
        result = run(environ)
        assert result.code == 2
        assert [c for c in result.commands if c[0] == "error"] == [
            (
                "error",
                {},
                f"alembic-heads-bot: input {name}: the token holds {kind}, which no token has; "
                "check the secret that sets it (the value is not shown)",
            )
        ]
        shown = [line for line in result.log.splitlines() if not line.startswith("::add-mask::")]
        for part in (TOKEN, "second-line-of-the-secret", "second-word-of-the-secret"):
            assert not any(part in line for line in shown)
        assert result.outputs == {}  # refused before anything ran


def test_a_token_with_a_trailing_newline_is_used_without_it(tmp_path: Path) -> None:
    project, payload = stale_two_heads(tmp_path)
    environ = project.environ("pull_request", payload)
    environ["INPUT_GITHUB-TOKEN"] = f"{TOKEN}\n"
    result = run(environ)
    assert result.code == 1  # judged as usual
    assert_no_secret_anywhere(result, tmp_path / "workspace")


def test_the_token_reaches_git_as_a_header_for_the_github_server_only(tmp_path: Path) -> None:
    env = auth_environment({**git_env(tmp_path), "GIT_CONFIG_COUNT": "1",
                            "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "/w"},
                           TOKEN, "https://github.com")  # fmt: skip

    def header_for(url: str) -> str:
        done = subprocess.run(
            ["git", "config", "--get-urlmatch", "http.extraheader", url],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return done.stdout.strip()

    assert header_for("https://github.com/octo/shop") == f"AUTHORIZATION: basic {SECRETS[1]}"
    assert header_for("https://example.com/octo/shop") == ""
    assert base64.b64decode(SECRETS[1]).decode() == f"x-access-token:{TOKEN}"
    assert env["GIT_CONFIG_VALUE_0"] == "/w" and env["GIT_TERMINAL_PROMPT"] == "0"


# --- the seam for the GitHub layer -----------------------------------------------------------


def test_the_publisher_gets_the_context_and_result_after_the_local_reports(
    tmp_path: Path,
) -> None:
    project, payload = stale_two_heads(tmp_path)
    environ = project.environ("pull_request", payload, comment="always", status="none")
    seen: list[tuple[object, ...]] = []

    def publish(ctx: ActionContext, result: ActionResult) -> bool:
        summary = Path(ctx.environ["GITHUB_STEP_SUMMARY"]).read_text()
        assert ctx.target is not None
        seen.append((
            ctx.target.number, ctx.target.event_head_sha, ctx.settings.comment,
            ctx.settings.status, result.verdict.ok, result.head_sha, result.base_sha,
            result.sides.base, result.exit_code, "New Alembic head: " in summary,
        ))  # fmt: skip
        return True

    assert run_action(environ, publish=publish, stream=io.StringIO()) == 1
    head, base = project.src.rev("feature"), project.src.rev("main")
    assert seen == [(7, head, "always", "none", False, head, base, "origin/main", 1, True)]


def test_a_publisher_that_gives_up_fails_the_step_with_its_reason(tmp_path: Path) -> None:
    project, payload = stale_two_heads(tmp_path)
    environ = project.environ("pull_request", payload, fail_on="never")

    def publish(ctx: ActionContext, result: ActionResult) -> bool:
        raise ActionError(f"cannot comment: 403 Resource not accessible ({TOKEN})")

    stream = io.StringIO()
    assert run_action(environ, publish=publish, stream=stream) == 2
    assert stream.getvalue().endswith(
        "::error::alembic-heads-bot: cannot comment: 403 Resource not accessible (***)\n"
    )
    assert read_outputs(Path(environ["GITHUB_OUTPUT"]).read_text())["ok"] == "false"


def test_the_report_goes_under_runner_temp_and_leaves_the_checkout_clean(tmp_path: Path) -> None:
    project, payload = stale_two_heads(tmp_path)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    result = run({**project.environ("pull_request", payload), "RUNNER_TEMP": str(temp)})
    assert result.code == 1
    assert result.outputs["report"] == str(temp / "alembic-heads-report.json")
    report = json.loads(Path(result.outputs["report"]).read_text())
    assert report["ok"] is False and report["failed_rules"] == ["new-heads"]
    assert not (tmp_path / "workspace" / "alembic-heads-report.json").exists()
