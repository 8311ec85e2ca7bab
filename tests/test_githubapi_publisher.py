"""The Action end to end against the fake GitHub: `alembic-heads-bot action` runs as a process
with a runner's environment, fetches over smart HTTP, and reports through PyGithub over HTTP.

Each scenario counts the API requests it cost (git traffic aside).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakegithub import ACTIONS_LOGIN, Event, FakeGitHub, LoggedRequest
from gitrepo import GitRepo
from sqlalchemy.engine import make_url
from test_analysis import INI, chain, path, revision
from test_runner import read_outputs
from versiondb import with_version_rows

from bot.prcomment import marker

ENTRY = Path(sys.executable).with_name("alembic-heads-bot")
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

    def commit_main(self, files: dict[str, str | None]) -> str:
        self.src.checkout("main")
        self.src.write(files)
        sha = self.src.commit("main moves on")
        self.push()
        return sha

    def run(self, event: Event, token: str | None = None, **inputs: str) -> ActionRun:
        """Run the action for `event` in a fresh depth-1 checkout, as a runner would."""
        self.fake.clear_requests()
        return self.finish(self.launch(event, token, **inputs))

    def launch(self, event: Event, token: str | None = None, **inputs: str) -> Job:
        """Start the action for `event` (several may run at once, as on GitHub)."""
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
        process = subprocess.Popen(
            [str(ENTRY), "action"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        return Job(process, output, summary)

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


# --- pull requests ---------------------------------------------------------------------------


def test_a_clean_pull_request_gets_a_green_check_and_no_comment_in_two_requests(
    shop: Shop,
) -> None:
    head = shop.branch("feature", {path("c"): revision("c", "b")})
    number = shop.fake.open_pr(SHOP, head="feature").number
    run = shop.run(shop.fake.event_pull_request(SHOP, number))
    assert run.code == 0, run.log
    [check] = shop.fake.check_runs(SHOP, head)
    assert (check.name, check.status, check.conclusion) == ("alembic-heads", "completed", "success")
    assert check.details_url == f"{shop.fake.server_url}/{SHOP}/actions/runs/4242"
    assert shop.fake.comments(SHOP, number) == []
    assert run.api == [
        ("POST", f"/repos/{SHOP}/check-runs"),
        ("GET", f"/repos/{SHOP}/issues/1/comments"),
    ]
    assert "no pull-request comment" in run.log


def test_the_classic_second_head_fails_with_one_comment_a_diagram_and_annotations(
    shop: Shop,
) -> None:
    number = two_heads(shop)
    head = shop.fake.pull(SHOP, number).head_sha
    run = shop.run(shop.fake.event_pull_request(SHOP, number))
    assert run.code == 1, run.log
    [check] = shop.fake.check_runs(SHOP, head)
    assert check.conclusion == "failure"
    assert check.output["title"] == "this change adds a second head to the migration history"
    [note] = check.annotations
    assert (note["path"], note["start_line"], note["annotation_level"]) == (path("d"), 7, "failure")
    assert "collides with c" in note["message"]
    [body] = own_comments(shop, number)
    assert body.startswith(marker("alembic-heads") + "\n<!-- alembic-heads-bot:state=fail -->")
    assert "```mermaid" in body
    assert f"{shop.fake.server_url}/{SHOP}/blob/{head}/{path('d')}#L7" in body
    assert "| after the merge | `c`, `d` |" in body
    assert 'alembic merge -m "merge heads c, d" c d' in body
    assert run.outputs["new-heads"] == '["d"]'
    assert len(run.api) == 3  # the check run, the comment list, the comment


def test_a_push_that_fixes_it_edits_the_same_comment_to_resolved(shop: Shop) -> None:
    number = two_heads(shop)
    shop.run(shop.fake.event_pull_request(SHOP, number))
    [first] = shop.fake.comments(SHOP, number)
    shop.src.checkout("feature")
    shop.src.merge("main")
    shop.src.write({path("e"): revision("e", ("c", "d"))})
    fixed = shop.src.commit("merge heads c, d")
    shop.src.checkout("main")
    shop.push()
    run = shop.run(shop.fake.event_pull_request(SHOP, number, "synchronize"))
    assert run.code == 0, run.log
    [check] = shop.fake.check_runs(SHOP, fixed)
    assert check.conclusion == "success"
    [comment] = shop.fake.comments(SHOP, number)
    assert comment.id == first.id
    assert "<!-- alembic-heads-bot:state=resolved -->" in comment.body
    assert "**Resolved:**" in comment.body
    again = shop.run(shop.fake.event_pull_request(SHOP, number, "synchronize"))
    assert again.writes == [("POST", f"/repos/{SHOP}/check-runs")]  # same text: no edit


def test_a_stale_pull_request_turns_red_when_the_base_moves_on(shop: Shop) -> None:
    shop.branch("feature", {path("d"): revision("d", "b")})
    number = shop.fake.open_pr(SHOP, head="feature").number
    opened = shop.fake.event_pull_request(SHOP, number)
    assert shop.run(opened).code == 0
    shop.commit_main({path("c"): revision("c", "b")})
    run = shop.run(opened)  # re-run with the old payload: the base sha in it is stale
    assert run.code == 1
    head = shop.fake.pull(SHOP, number).head_sha
    assert [c.conclusion for c in shop.fake.check_runs(SHOP, head)] == ["success", "failure"]
    [body] = own_comments(shop, number)
    assert "| on `origin/main` | `c` |" in body


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


def test_a_fork_pull_request_reports_in_the_job_only_and_says_why(shop: Shop) -> None:
    number = fork_pull_request(shop)
    run = shop.run(
        shop.fake.event_pull_request(SHOP, number), token=shop.fake.make_token(read_only=True)
    )
    assert run.code == 1
    assert run.api == []
    assert "comes from a fork" in run.log and "read-only token" in run.log
    assert "second head" in run.summary
    assert "::error file=migrations/versions/d_step.py,line=7" in run.log


def test_a_fork_pull_request_under_pull_request_target_gets_its_comment_and_check(
    shop: Shop,
) -> None:
    number = fork_pull_request(shop)
    run = shop.run(shop.fake.event_pull_request(SHOP, number, target=True))
    assert run.code == 1
    head = shop.fake.pull(SHOP, number).head_sha
    assert [c.conclusion for c in shop.fake.check_runs(SHOP, head)] == ["failure"]
    assert len(own_comments(shop, number)) == 1


def test_a_merge_group_gets_its_status_and_no_comment(shop: Shop) -> None:
    shop.commit_main({path("c"): revision("c", "b")})
    queued = shop.branch(
        "gh-readonly-queue/main/pr-5", {path("d"): revision("d", "c")}, start="main"
    )
    event = shop.fake.event_merge_group(
        SHOP, head_sha=queued, head_ref="refs/heads/gh-readonly-queue/main/pr-5"
    )
    run = shop.run(event, status="commit-status")
    assert run.code == 0, run.log
    [status] = shop.fake.statuses(SHOP, queued)
    assert (status.context, status.state) == ("alembic-heads", "success")
    assert status.description == "Migrations are fine: one head per stream"
    assert run.api == [("POST", f"/repos/{SHOP}/statuses/{queued}")]


def test_a_commit_status_under_its_own_name_says_why_in_140_characters(shop: Shop) -> None:
    number = two_heads(shop)
    head = shop.fake.pull(SHOP, number).head_sha
    run = shop.run(
        shop.fake.event_pull_request(SHOP, number),
        status="commit-status", status_name="db/migrations", comment="never",
    )  # fmt: skip
    assert run.code == 1
    [status] = shop.fake.statuses(SHOP, head)
    assert (status.context, status.state) == ("db/migrations", "failure")
    assert status.description == "This change adds a second head to the migration history"
    assert shop.fake.comments(SHOP, number) == []
    assert shop.fake.check_runs(SHOP) == []


def test_more_than_fifty_annotations_go_in_batches(shop: Shop) -> None:
    shop.commit_main({path("c"): revision("c", "b")})
    many = {path(f"n{i:02}"): revision(f"n{i:02}", "b") for i in range(55)}
    shop.branch("feature", many, start="main~1")
    number = shop.fake.open_pr(SHOP, head="feature").number
    run = shop.run(shop.fake.event_pull_request(SHOP, number), comment="never")
    assert run.code == 1
    [check] = shop.fake.check_runs(SHOP)
    assert len(check.annotations) == 55
    assert run.writes == [
        ("POST", f"/repos/{SHOP}/check-runs"),
        ("PATCH", f"/repos/{SHOP}/check-runs/{check.id}"),
    ]


def test_a_comment_that_only_quotes_the_marker_is_not_the_bots(shop: Shop) -> None:
    number = two_heads(shop)
    quoted = shop.fake.add_comment(
        SHOP, number, marker("alembic-heads") + "\nwhat is this?", author="curious"
    )
    shop.run(shop.fake.event_pull_request(SHOP, number))
    comments = shop.fake.comments(SHOP, number)
    assert [c.author for c in comments] == ["curious", ACTIONS_LOGIN]
    assert comments[0].body == quoted.body


def test_nothing_to_post_costs_no_request(shop: Shop) -> None:
    number = two_heads(shop)
    run = shop.run(shop.fake.event_pull_request(SHOP, number), status="none", comment="never")
    assert (run.code, run.api) == (1, [])


# --- GitHub failing --------------------------------------------------------------------------


def test_a_comment_whose_answer_was_lost_is_not_posted_twice(shop: Shop) -> None:
    number = two_heads(shop)
    shop.fake.fail_next("POST", f"/repos/{SHOP}/issues/{number}/comments", status=502, after=True)
    run = shop.run(shop.fake.event_pull_request(SHOP, number))
    assert run.code == 1, run.log  # the verdict's code: everything was published
    assert len(own_comments(shop, number)) == 1
    assert run.api.count(("POST", f"/repos/{SHOP}/issues/{number}/comments")) == 1


def test_a_comment_refused_once_by_a_server_error_is_posted_on_the_second_try(
    shop: Shop,
) -> None:
    number = two_heads(shop)
    shop.fake.fail_next("POST", f"/repos/{SHOP}/issues/{number}/comments", status=500)
    run = shop.run(shop.fake.event_pull_request(SHOP, number))
    assert run.code == 1 and run.errors() == []
    assert len(own_comments(shop, number)) == 1


def test_a_check_run_github_keeps_refusing_fails_the_step_but_the_comment_is_posted(
    shop: Shop,
) -> None:
    head = shop.branch("feature", {path("c"): revision("c", "b")})
    number = shop.fake.open_pr(SHOP, head="feature").number
    shop.fake.fail_next("POST", f"/repos/{SHOP}/check-runs", status=500, times=2)
    run = shop.run(shop.fake.event_pull_request(SHOP, number), comment="always")
    assert run.code == 2  # the verdict passed, but the required check is missing
    assert run.errors() == [
        f"alembic-heads-bot: cannot set the 'alembic-heads' check run on {head[:12]}: GitHub "
        "answered 500 Internal Server Error (also when tried again)"
    ]
    assert shop.fake.check_runs(SHOP) == []
    assert len(own_comments(shop, number)) == 1
    assert run.outputs["ok"] == "true"


def test_an_exhausted_rate_limit_is_a_clear_failure_with_the_reset_time(shop: Shop) -> None:
    number = two_heads(shop)
    shop.fake.fail_next("*", f"/repos/{SHOP}/issues/*", rate_limit="primary", reset_in=3600)
    run = shop.run(shop.fake.event_pull_request(SHOP, number))
    assert run.code == 2
    [error] = run.errors()
    assert re.fullmatch(
        r"alembic-heads-bot: cannot list the comments of #1: GitHub's API rate limit is "
        r"exhausted until \d\d:\d\d UTC; run the job again after that",
        error,
    )
    assert shop.fake.comments(SHOP, number) == []
    assert [c.conclusion for c in shop.fake.check_runs(SHOP)] == ["failure"]


def test_a_secondary_rate_limit_with_a_short_retry_after_is_waited_out(shop: Shop) -> None:
    number = two_heads(shop)
    shop.fake.fail_next(
        "POST", f"/repos/{SHOP}/issues/*/comments", rate_limit="secondary", retry_after=1
    )
    run = shop.run(shop.fake.event_pull_request(SHOP, number))
    assert run.code == 1 and run.errors() == []
    assert len(own_comments(shop, number)) == 1


def test_a_validation_error_is_reported_with_githubs_reason(shop: Shop) -> None:
    number = two_heads(shop)
    shop.fake.fail_next("PATCH", f"/repos/{SHOP}/issues/comments/*", status=422)
    shop.run(shop.fake.event_pull_request(SHOP, number))
    shop.src.checkout("feature")
    shop.src.write({path("d"): revision("d", "c")})  # now d is on c, but c is not on the branch
    shop.src.commit("re-parent d")
    shop.src.checkout("main")
    shop.push()
    run = shop.run(shop.fake.event_pull_request(SHOP, number, "synchronize"))
    assert run.code == 2
    [error] = run.errors()
    assert error.startswith(
        f"alembic-heads-bot: cannot update the comment on #{number}: GitHub answered 422"
    )
    assert len(shop.fake.comments(SHOP, number)) == 1


def test_a_token_without_the_checks_permission_is_told_which_permission_to_add(
    shop: Shop,
) -> None:
    number = two_heads(shop)
    token = shop.fake.make_token(permissions={"contents": "read", "pull-requests": "write"})
    run = shop.run(shop.fake.event_pull_request(SHOP, number), token=token)
    assert run.code == 2
    assert run.errors()[0].endswith("give the workflow `permissions: checks: write`")
    assert len(own_comments(shop, number)) == 1


# --- deployed databases ----------------------------------------------------------------------


def test_a_pull_request_that_rewrites_what_production_applied_fails_and_leaks_no_secret(
    shop: Shop, postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    databases = (
        "databases:\n"
        "  - {name: production, url_env: PRODUCTION_DATABASE_URL}\n"
        "  - {name: staging, url_env: STAGING_DATABASE_URL}\n"
    )
    shop.commit_main({".github/alembic-heads.yml": databases})
    with_version_rows(postgres_database, "b")
    monkeypatch.setenv("PRODUCTION_DATABASE_URL", postgres_database)
    monkeypatch.delenv("STAGING_DATABASE_URL", raising=False)
    head = shop.branch("feature", {path("b"): revision("b", "a", body="op.drop_table('x')")})
    number = shop.fake.open_pr(SHOP, head="feature").number

    run = shop.run(shop.fake.event_pull_request(SHOP, number))

    assert run.code == 1, run.log
    [check] = shop.fake.check_runs(SHOP, head)
    assert check.conclusion == "failure"
    assert check.output["title"] == "this change rewrites a revision that a database has applied"
    [note] = check.annotations
    assert (note["path"], note["annotation_level"]) == (path("b"), "failure")
    assert "which production already applied" in note["message"]
    [body] = own_comments(shop, number)
    assert "| `production` | `b` | none | nothing |" in body
    assert "> ⚠️ `staging`: the variable STAGING_DATABASE_URL is not set." in body
    url = make_url(postgres_database)
    published = [body, run.log, run.summary, *run.outputs.values(), json.dumps(check.output)]
    for secret in (postgres_database, url.password, f"{url.host}:{url.port}"):
        assert not any(str(secret) in text for text in published)
