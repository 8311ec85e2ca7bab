"""The Action end to end against the fake GitHub: `alembic-heads-bot action` runs as a process
with a runner's environment, fetches over smart HTTP, and reports through PyGithub over HTTP.

Each scenario counts the API requests it cost (git traffic aside).
"""

from __future__ import annotations

import json
import re

import pytest
from alembic_heads_bot.app.context import ActionContext, ActionResult
from alembic_heads_bot.app.publish import publish_failure
from alembic_heads_bot.engine.errors import CannotJudge
from alembic_heads_bot.engine.report.comment import marker
from fakegithub import ACTIONS_LOGIN
from projects import path, revision
from shop import (
    SHOP,
    Shop,
    fork_pull_request,
    own_comments,
    two_heads,
)
from sqlalchemy.engine import make_url
from versiondb import with_version_rows

# --- pull requests ---------------------------------------------------------------------------


def test_a_clean_pull_request_gets_a_green_check_and_no_comment_in_three_requests(
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
        ("GET", f"/repos/{SHOP}/pulls"),  # the collision forecast: it adds a migration
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
    assert check.output["title"] == (
        "New Alembic head: origin/main's single head becomes 2 once merged"
    )
    [note] = check.annotations
    assert (note["path"], note["start_line"], note["annotation_level"]) == (path("d"), 7, "failure")
    assert "collides with c" in note["message"]
    [body] = own_comments(shop, number)
    assert body.startswith(marker("alembic-heads") + "\n<!-- alembic-heads-bot:state=fail -->")
    assert "```mermaid" in body
    assert f"{shop.fake.server_url}/{SHOP}/blob/{head}/{path('d')}#L7" in body
    assert "| after the merge | `c`, `d` |" in body
    assert "alembic merge -m 'merge heads c, d' c d" in body
    assert run.outputs["new-heads"] == '["d"]'
    assert len(run.api) == 4  # the open pull requests, the check run, the comments, the comment


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


def test_a_fork_pull_request_reports_in_the_job_only_and_says_why(shop: Shop) -> None:
    number = fork_pull_request(shop)
    run = shop.run(
        shop.fake.event_pull_request(SHOP, number), token=shop.fake.make_token(read_only=True)
    )
    assert run.code == 1
    assert run.api == []
    assert "comes from a fork" in run.log and "read-only token" in run.log
    assert "New Alembic head: origin/main's single head becomes 2 once merged" in run.summary
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
    assert status.description == "No new Alembic head: origin/main's single head stays single"
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
    assert status.description == (
        "New Alembic head: origin/main's single head becomes 2 once merged"
    )
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


# --- lost answers: each write lands once --------------------------------------------------

# GitHub carried the write out, but its answer never came back: a 502 from a proxy, or the
# connection closed (as when a timeout gives up).
LOST = {"502": {"status": 502, "after": True}, "closed": {"drop": True, "after": True}}


@pytest.mark.parametrize("lost", LOST)
def test_a_check_run_whose_answer_was_lost_is_not_created_twice(shop: Shop, lost: str) -> None:
    number = two_heads(shop)
    head = shop.fake.pull(SHOP, number).head_sha
    shop.fake.fail_next("POST", f"/repos/{SHOP}/check-runs", **LOST[lost])
    run = shop.run(shop.fake.event_pull_request(SHOP, number))
    assert (run.code, run.errors()) == (1, []), run.log  # everything was published
    [check] = shop.fake.check_runs(SHOP, head)
    assert (check.conclusion, len(check.annotations)) == ("failure", 1)
    assert run.api.count(("POST", f"/repos/{SHOP}/check-runs")) == 1
    assert ("GET", f"/repos/{SHOP}/commits/{head}/check-runs") in run.api  # looked it up


@pytest.mark.parametrize("lost", LOST)
def test_a_commit_status_whose_answer_was_lost_is_not_posted_twice(shop: Shop, lost: str) -> None:
    number = two_heads(shop)
    head = shop.fake.pull(SHOP, number).head_sha
    shop.fake.fail_next("POST", f"/repos/{SHOP}/statuses/{head}", **LOST[lost])
    run = shop.run(shop.fake.event_pull_request(SHOP, number), status="commit-status")
    assert (run.code, run.errors()) == (1, []), run.log
    [status] = shop.fake.statuses(SHOP, head)
    assert (status.state, status.context) == ("failure", "alembic-heads")
    assert run.api.count(("POST", f"/repos/{SHOP}/statuses/{head}")) == 1


def test_a_status_refused_once_is_posted_on_the_second_try(shop: Shop) -> None:
    number = two_heads(shop)
    head = shop.fake.pull(SHOP, number).head_sha
    shop.fake.fail_next("POST", f"/repos/{SHOP}/statuses/{head}", status=502)  # not carried out
    run = shop.run(shop.fake.event_pull_request(SHOP, number), status="commit-status")
    assert (run.code, run.errors()) == (1, []), run.log
    assert [s.state for s in shop.fake.statuses(SHOP, head)] == ["failure"]
    assert run.api.count(("POST", f"/repos/{SHOP}/statuses/{head}")) == 2


@pytest.mark.parametrize("lost", LOST)
def test_an_annotation_batch_whose_answer_was_lost_is_not_added_twice(
    shop: Shop, lost: str
) -> None:
    shop.commit_main({path("c"): revision("c", "b")})
    many = {path(f"n{i:02}"): revision(f"n{i:02}", "b") for i in range(55)}
    shop.branch("feature", many, start="main~1")
    number = shop.fake.open_pr(SHOP, head="feature").number
    shop.fake.fail_next("PATCH", f"/repos/{SHOP}/check-runs/*", **LOST[lost])
    run = shop.run(shop.fake.event_pull_request(SHOP, number), comment="never")
    assert (run.code, run.errors()) == (1, []), run.log
    [check] = shop.fake.check_runs(SHOP)
    assert len(check.annotations) == 55  # 50, then 5: not 60
    assert run.writes == [
        ("POST", f"/repos/{SHOP}/check-runs"),
        ("PATCH", f"/repos/{SHOP}/check-runs/{check.id}"),
    ]


def test_an_annotation_batch_refused_once_is_added_on_the_second_try(shop: Shop) -> None:
    shop.commit_main({path("c"): revision("c", "b")})
    many = {path(f"n{i:02}"): revision(f"n{i:02}", "b") for i in range(55)}
    shop.branch("feature", many, start="main~1")
    number = shop.fake.open_pr(SHOP, head="feature").number
    shop.fake.fail_next("PATCH", f"/repos/{SHOP}/check-runs/*", status=502)
    run = shop.run(shop.fake.event_pull_request(SHOP, number), comment="never")
    assert (run.code, run.errors()) == (1, []), run.log
    [check] = shop.fake.check_runs(SHOP)
    assert len(check.annotations) == 55


def test_a_lost_answer_to_deleting_a_duplicate_comment_is_no_failure(shop: Shop) -> None:
    number = two_heads(shop)
    shop.run(shop.fake.event_pull_request(SHOP, number))
    [first] = shop.fake.comments(SHOP, number)
    # a second run that raced with the first left its own copy of the sticky comment
    shop.fake.add_comment(SHOP, number, first.body, author=ACTIONS_LOGIN)
    shop.fake.fail_next("DELETE", f"/repos/{SHOP}/issues/comments/*", status=502, after=True)
    run = shop.run(shop.fake.event_pull_request(SHOP, number, "synchronize"))
    assert (run.code, run.errors()) == (1, []), run.log  # not a false failure (exit 2)
    assert [c.id for c in shop.fake.comments(SHOP, number)] == [first.id]
    assert run.api.count(("DELETE", f"/repos/{SHOP}/issues/comments/{first.id + 1}")) == 1


# --- a run that fails still sets a status ----------------------------------------------------


def test_a_git_failure_sets_a_failing_check_run_that_says_why(shop: Shop) -> None:
    number = two_heads(shop)
    head = shop.fake.pull(SHOP, number).head_sha
    event = shop.fake.event_pull_request(SHOP, number)
    shop.fake.repo(SHOP).bare.git(
        "update-ref", "-d", f"refs/pull/{number}/head"
    )  # nothing to fetch
    run = shop.run(event)
    assert run.code == 2
    [error] = run.errors()
    assert "git fetch of refs/heads/main, refs/pull/1/head from origin failed" in error
    [check] = shop.fake.check_runs(SHOP, head)
    assert (check.status, check.conclusion) == ("completed", "failure")
    assert check.output["title"] == "Not checked: alembic-heads-bot could not judge this change"
    assert error.removeprefix("alembic-heads-bot: ") in check.output["summary"]
    assert check.output["summary"].endswith(f"{SHOP}/actions/runs/4242")


def test_a_runner_file_that_cannot_be_written_sets_a_failing_commit_status(shop: Shop) -> None:
    # the workspace holds a directory where the verdict file goes
    shop.commit_main({"alembic-heads-report.json/keep": ""})
    number = two_heads(shop)
    head = shop.fake.pull(SHOP, number).head_sha
    run = shop.run(shop.fake.event_pull_request(SHOP, number), status="commit-status")
    assert run.code == 2
    [error] = run.errors()
    assert "Is a directory" in error
    [status] = shop.fake.statuses(SHOP, head)
    assert status.state == "failure"
    assert status.description.startswith("Not checked: [Errno 21] Is a directory")
    assert len(status.description) <= 140


def test_an_internal_error_sets_a_failing_check_run_with_the_error(shop: Shop) -> None:
    number = two_heads(shop)
    head = shop.fake.pull(SHOP, number).head_sha

    def broken(ctx: ActionContext, result: ActionResult) -> bool:
        raise RuntimeError("a bug, injected")

    run = shop.run_here(
        shop.fake.event_pull_request(SHOP, number), publish=broken, report_failure=publish_failure
    )
    assert run.code == 2
    assert run.errors() == ["alembic-heads-bot: internal error: RuntimeError: a bug, injected"]
    [check] = shop.fake.check_runs(SHOP, head)
    assert check.conclusion == "failure"
    assert "```text\ninternal error: RuntimeError: a bug, injected\n```" in check.output["summary"]


def test_a_failure_reason_quoting_the_pull_request_stays_text_in_the_check_run(
    shop: Shop,
) -> None:
    number = two_heads(shop)
    hostile = "```\n@octocat <img src=x> [click](http://evil.example)\n````"

    def broken(ctx: ActionContext, result: ActionResult) -> bool:
        raise CannotJudge(hostile)

    run = shop.run_here(
        shop.fake.event_pull_request(SHOP, number), publish=broken, report_failure=publish_failure
    )
    assert run.code == 2
    [check] = shop.fake.check_runs(SHOP)
    summary = check.output["summary"]
    assert f"`````text\n{hostile}\n`````" in summary  # a fence the text cannot close


def test_with_no_status_wanted_a_failure_posts_nothing(shop: Shop) -> None:
    number = two_heads(shop)
    shop.fake.repo(SHOP).bare.git("update-ref", "-d", f"refs/pull/{number}/head")
    event = shop.fake.event_pull_request(SHOP, number)
    run = shop.run(event, status="none")
    assert (run.code, run.api) == (2, [])


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
    assert check.output["title"] == "Rewrites a revision that a database has applied"
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
