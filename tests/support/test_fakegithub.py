"""The fake GitHub, driven with PyGithub 2.x and git exactly as the bot drives GitHub."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests
from fakegithub import (
    ACTIONS_LOGIN,
    FakeGitHub,
    InvalidEventError,
    SpecMissingError,
    rest_spec,
    spec_files,
    webhook_spec,
)
from github import Auth, Github, GithubException, InputGitTreeElement, UnknownObjectException
from github.GithubException import BadCredentialsException, RateLimitExceededException
from github.GithubRetry import GithubRetry
from gitrepo import GitRepo

REPO = "octo/app"
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


def client(fake: FakeGitHub, token: str, **options: object) -> Github:
    """PyGithub pointed at the fake, as the bot builds it (no pauses between requests)."""
    return Github(
        base_url=fake.api_url,
        auth=Auth.Token(token),
        seconds_between_requests=0,
        seconds_between_writes=0,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def local(tmp_path: Path) -> GitRepo:
    """A local repository: main has one.txt; feature adds two.txt."""
    repo = GitRepo.init(tmp_path / "local")
    repo.write({"one.txt": "one\n"})
    repo.commit("base")
    repo.branch("feature")
    repo.checkout("feature")
    repo.write({"two.txt": "two\n"})
    repo.commit("feature work")
    repo.checkout("main")
    return repo


@pytest.fixture
def fake(fake_github: FakeGitHub, local: GitRepo) -> FakeGitHub:
    """The fake with octo/app (from `local`) and pull request #5 from feature into main."""
    fake_github.create_repo(REPO, local.path)
    fake_github.open_pr(REPO, head="feature", number=5, author="alice")
    return fake_github


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=False
    )


# -- the OpenAPI description ------------------------------------------------------------------


def test_missing_descriptions_say_how_to_install_them(tmp_path):
    with pytest.raises(SpecMissingError, match=r"make test.*npm ci --prefix"):
        spec_files(tmp_path)


def test_requests_match_operations_by_template_and_method():
    spec = rest_spec()
    ref = spec.match("PATCH", "/repos/o/r/git/refs/heads/feature/x")
    assert ref is not None
    assert (ref.operation_id, dict(ref.params)["ref"]) == ("git/update-ref", "heads/feature/x")
    status = spec.match("GET", "/repos/o/r/commits/abc/status")
    assert status is not None and status.operation_id == "repos/get-combined-status-for-ref"
    assert spec.match("GET", "/repos/o/r/no-such-thing") is None


def test_validator_rejects_a_body_that_breaks_the_description():
    spec = rest_spec()
    operation = spec.match("GET", "/repos/o/r/issues/comments/1")
    assert operation is not None
    # What PyGithub happily accepts, but GitHub never sends: required fields are missing.
    problems = spec.validate_response(operation, 200, b'{"id": 1, "body": "hi"}')
    assert any("'node_id' is a required property" in p for p in problems)
    assert spec.validate_response(operation, 201, b"{}") == [
        "GET /repos/{owner}/{repo}/issues/comments/{comment_id} (issues/get-comment) -> 201: "
        "status 201 is not declared for this operation"
    ]
    # Errors GitHub sends on any operation are checked as basic errors.
    assert spec.validate_response(operation, 403, b'{"message": "Forbidden"}') == []
    assert spec.validate_response(operation, 403, b'{"message": 3}') != []


def test_fake_records_a_schema_invalid_answer_and_unknown_operations(tmp_path, local):
    with FakeGitHub(tmp_path / "fake") as fake:
        repo = fake.create_repo(REPO, local.path)
        gh = client(fake, fake.make_token(), retry=None, lazy=True)
        repo.default_branch = None  # type: ignore[assignment]  # corrupt the state on purpose
        gh.get_repo(REPO).update()  # a GET, even in lazy mode
        with pytest.raises(UnknownObjectException):
            gh.get_repo(REPO).get_contents("one.txt")  # not implemented by the fake
        with pytest.raises(UnknownObjectException):
            gh.requester.requestJsonAndCheck("GET", "/repos/octo/app/no-such-thing")
    assert [v.split(":")[0] for v in fake.violations] == [
        "GET /repos/{owner}/{repo} (repos/get) -> 200",
        "GET /repos/octo/app/contents/one.txt",
        "GET /repos/octo/app/no-such-thing",
    ]
    assert "at $.default_branch: None is not of type 'string'" in fake.violations[0]
    with pytest.raises(AssertionError, match="3 response"):
        fake.assert_valid()


# -- repositories and pull requests -----------------------------------------------------------


def test_pygithub_reads_repo_and_pull_request(fake, local):
    gh = client(fake, fake.make_token())
    repo = gh.get_repo(REPO)
    pr = repo.get_pull(5)
    assert (repo.full_name, repo.default_branch) == (REPO, "main")
    assert (pr.head.ref, pr.head.sha, pr.base.ref) == ("feature", local.rev("feature"), "main")
    assert pr.base.sha == local.rev("main")
    assert pr.head.repo.full_name == REPO
    assert (pr.user.login, pr.maintainer_can_modify, pr.mergeable) == ("alice", False, True)
    assert pr.issue_url == f"{fake.api_url}/repos/{REPO}/issues/5"
    assert [p.number for p in repo.get_pulls(state="open", base="main")] == [5]
    assert list(repo.get_pulls(state="open", base="release")) == []


def test_fork_pull_request_has_the_fork_as_head_repo(fake, local):
    fake.create_repo("mallory/app", local.path, fork_of=REPO)
    fake.open_pr(
        REPO, head="feature", head_repo="mallory/app", number=9, maintainer_can_modify=True
    )
    pr = client(fake, fake.make_token()).get_repo(REPO).get_pull(9)
    assert (pr.head.repo.full_name, pr.base.repo.full_name) == ("mallory/app", REPO)
    assert pr.head.repo.fork and pr.maintainer_can_modify
    assert fake.repo(REPO).bare.resolve("refs/pull/9/head") == local.rev("feature")


# -- comments, reactions, permissions ---------------------------------------------------------


def test_comments_paginate_and_can_be_created_edited_deleted(fake):
    for n in range(120):
        fake.add_comment(REPO, 5, f"comment {n}", author="bob")
    gh = client(fake, fake.make_token(), per_page=100)
    pr = gh.get_repo(REPO).get_pull(5)
    fake.clear_requests()
    assert [c.body for c in pr.get_issue_comments()] == [f"comment {n}" for n in range(120)]
    pages = [(r.path, sorted(parse_qsl(r.query))) for r in fake.requests]
    assert pages == [
        (f"/repos/{REPO}/issues/5/comments", [("per_page", "100")]),
        (f"/repos/{REPO}/issues/5/comments", [("page", "2"), ("per_page", "100")]),
    ]
    mine = pr.create_issue_comment("<!-- marker -->\nfirst")
    assert (mine.user.login, mine.user.type) == (ACTIONS_LOGIN, "Bot")
    mine.edit("<!-- marker -->\nsecond")
    again = gh.get_repo(REPO).get_issue(5).get_comment(mine.id)
    assert again.body == "<!-- marker -->\nsecond"
    again.delete()
    assert [c.body for c in fake.comments(REPO, 5)][-1] == "comment 119"


def test_too_long_comment_is_refused_like_github(fake):
    pr = client(fake, fake.make_token()).get_repo(REPO).get_pull(5)
    with pytest.raises(GithubException) as refused:
        pr.create_issue_comment("x" * 65537)
    assert refused.value.status == 422
    assert "Body is too long (maximum is 65536 characters)" in json.dumps(refused.value.data)


def test_reactions_201_then_200_for_the_same_one(fake):
    comment = fake.add_comment(REPO, 5, "/merge-heads", author="bob")
    gh = client(fake, fake.make_token())
    on_pr = gh.get_repo(REPO).get_pull(5).get_issue_comment(comment.id)
    on_pr.create_reaction("eyes")
    on_pr.create_reaction("eyes")
    on_pr.create_reaction("rocket")
    statuses = [r.status for r in fake.requests if r.path.endswith("/reactions")]
    assert statuses == [201, 200, 201]
    assert [(r.login, r.content) for r in comment.reactions] == [
        (ACTIONS_LOGIN, "eyes"),
        (ACTIONS_LOGIN, "rocket"),
    ]
    assert [r.content for r in on_pr.get_reactions()] == ["eyes", "rocket"]
    with pytest.raises(GithubException) as refused:
        on_pr.create_reaction("party")
    assert refused.value.status == 422


@pytest.mark.parametrize(
    ("role", "permission"),
    [("admin", "admin"), ("maintain", "write"), ("write", "write"), ("triage", "read")],
)
def test_collaborator_permission_levels(fake, role, permission):
    fake.add_collaborator(REPO, "carol", role)
    repo = client(fake, fake.make_token()).get_repo(REPO)
    assert repo.get_collaborator_permission("carol") == permission
    assert repo.get_collaborator_role_name("carol") == role


def test_permission_of_owner_outsider_and_unknown_user(fake, local):
    fake.user("dave")
    repo = client(fake, fake.make_token()).get_repo(REPO)
    assert repo.get_collaborator_permission("octo") == "admin"
    assert repo.get_collaborator_permission("dave") == "read"  # public repository
    with pytest.raises(UnknownObjectException):
        repo.get_collaborator_permission("nobody-at-all")
    fake.create_repo("octo/secret", local.path, private=True)
    secret = client(fake, fake.make_token()).get_repo("octo/secret")
    assert secret.get_collaborator_permission("dave") == "none"


# -- check runs and statuses ------------------------------------------------------------------


def annotations(count: int) -> list[dict[str, object]]:
    return [
        {
            "path": "one.txt",
            "start_line": n + 1,
            "end_line": n + 1,
            "annotation_level": "warning",
            "message": f"problem {n}",
        }
        for n in range(count)
    ]


def test_check_run_keeps_annotations_and_refuses_51(fake, local):
    repo = client(fake, fake.make_token(), retry=None).get_repo(REPO)
    head = local.rev("feature")
    output = {"title": "Heads", "summary": "checking"}
    run = repo.create_check_run(
        name="alembic-heads",
        head_sha=head,
        status="in_progress",
        output={**output, "annotations": annotations(50)},
    )
    assert run.url == f"{fake.api_url}/repos/{REPO}/check-runs/{run.id}"
    assert [pr.number for pr in run.pull_requests] == [5]
    run.edit(conclusion="failure", output={**output, "annotations": annotations(50)})
    (stored,) = fake.check_runs(REPO, head)
    assert (stored.status, stored.conclusion, len(stored.annotations)) == (
        "completed",
        "failure",
        100,
    )
    assert run.output.annotations_count == 100
    assert len(list(run.get_annotations())) == 100
    with pytest.raises(GithubException) as refused:
        run.edit(output={**output, "annotations": annotations(51)})
    assert refused.value.status == 422
    assert refused.value.data["message"] == (
        "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."
    )
    assert len(stored.annotations) == 100


def test_commit_status_is_posted_and_combined(fake, local):
    head = local.rev("feature")
    commit = client(fake, fake.make_token()).get_repo(REPO).get_commit(head)
    commit.create_status(state="pending", context="alembic-heads", description="running")
    commit.create_status(state="success", context="alembic-heads", description="one head")
    assert [(s.state, s.context) for s in fake.statuses(REPO, head)] == [
        ("pending", "alembic-heads"),
        ("success", "alembic-heads"),
    ]
    combined = commit.get_combined_status()
    assert (combined.state, combined.total_count) == ("success", 1)
    with pytest.raises(GithubException) as refused:
        commit.create_status(state="failure", context="alembic-heads", description="x" * 141)
    assert refused.value.status == 422


# -- Git Data API, backed by the bare repository ----------------------------------------------


def test_git_data_commit_moves_the_branch_fast_forward_only(fake, local):
    repo = client(fake, fake.make_token(), retry=None).get_repo(REPO)
    head = local.rev("feature")
    blob = repo.create_git_blob("revision = 'abc'\n", "utf-8")
    base = repo.get_git_commit(head)
    element = InputGitTreeElement("migrations/versions/abc.py", "100644", "blob", sha=blob.sha)
    tree = repo.create_git_tree([element], base_tree=base.tree)
    commit = repo.create_git_commit("Merge heads", tree, [base])
    ref = repo.get_git_ref("heads/feature")
    ref.edit(commit.sha, force=False)

    bare = fake.repo(REPO).bare
    assert bare.resolve("refs/heads/feature") == commit.sha
    assert bare.commit(commit.sha).parents == (head,)
    assert bare.read_blob(bare.resolve(f"{commit.sha}:migrations/versions/abc.py") or "") == (
        b"revision = 'abc'\n"
    )
    assert bare.resolve(f"{commit.sha}:two.txt") == local.object_id("feature:two.txt")
    assert commit.author.name == ACTIONS_LOGIN and commit.committer.name == "GitHub"
    assert repo.get_commit(commit.sha).commit.verification.verified
    # The pull request follows its branch.
    assert fake.pull(REPO, 5).head_sha == commit.sha
    assert bare.resolve("refs/pull/5/head") == commit.sha

    with pytest.raises(GithubException) as refused:
        ref.edit(head, force=False)  # backwards: not a fast-forward
    assert refused.value.status == 422
    assert refused.value.data["message"] == "Update is not a fast forward"
    assert bare.resolve("refs/heads/feature") == commit.sha


def test_commit_with_custom_author_is_unverified(fake, local):
    from github import InputGitAuthor

    repo = client(fake, fake.make_token()).get_repo(REPO)
    base = repo.get_git_commit(local.rev("main"))
    author = InputGitAuthor("Bot", "bot@example.com", "2024-01-02T03:04:05Z")
    commit = repo.create_git_commit("msg", base.tree, [base], author=author)
    assert (commit.author.email, commit.committer.email) == ("bot@example.com", "bot@example.com")
    assert not repo.get_commit(commit.sha).commit.verification.verified


# -- git over smart HTTP ----------------------------------------------------------------------


def test_git_fetches_pull_head_with_token_header_and_fails_without(fake_github, local, tmp_path):
    fake_github.create_repo(REPO, local.path, private=True)
    fake_github.open_pr(REPO, head="feature", number=5)
    clone = GitRepo.init(tmp_path / "clone")
    url = fake_github.git_url(REPO)
    header = fake_github.git_auth_header(fake_github.make_token(read_only=True))
    fetched = git(clone.path, "-c", f"http.extraHeader={header}", "fetch", url, "refs/pull/5/head")
    assert fetched.returncode == 0, fetched.stderr
    assert clone.rev("FETCH_HEAD") == local.rev("feature")
    anonymous = git(clone.path, "fetch", url, "refs/pull/5/head")
    assert anonymous.returncode != 0
    bearer = f"Authorization: Bearer {fake_github.make_token()}"
    assert git(clone.path, "-c", f"http.extraHeader={bearer}", "fetch", url, "main").returncode == 0
    fake_github.fail_next("GET", f"/{REPO}.git/info/refs", status=500)
    failed = git(clone.path, "-c", f"http.extraHeader={bearer}", "fetch", url, "main")
    assert "returned error: 500" in failed.stderr
    assert [(r.path, r.status) for r in fake_github.requests if r.login is None] == [
        (f"/{REPO}.git/info/refs", 401)
    ]


def test_git_push_needs_a_write_token_and_moves_the_pull_request(fake, local, tmp_path):
    clone = GitRepo.init(tmp_path / "clone")
    clone.git("fetch", "--quiet", str(local.path), "feature:work")
    clone.checkout("work")
    clone.write({"three.txt": "3\n"})
    new = clone.commit("more")
    url = fake.git_url(REPO)
    read_only = fake.git_auth_header(fake.make_token(read_only=True))
    denied = git(clone.path, "-c", f"http.extraHeader={read_only}", "push", url, "work:feature")
    assert denied.returncode != 0
    assert "Permission to octo/app.git denied to github-actions[bot]" in denied.stderr
    writer = fake.git_auth_header(fake.make_token())
    pushed = git(clone.path, "-c", f"http.extraHeader={writer}", "push", url, "work:feature")
    assert pushed.returncode == 0, pushed.stderr
    assert fake.pull(REPO, 5).head_sha == new
    hidden = git(
        clone.path, "-c", f"http.extraHeader={writer}", "push", url, "work:refs/pull/5/head"
    )
    assert hidden.returncode != 0


# -- tokens -----------------------------------------------------------------------------------


def test_read_only_token_reads_but_writes_get_403(fake, local):
    repo = client(fake, fake.make_token(read_only=True), retry=None).get_repo(REPO)
    pr = repo.get_pull(5)
    assert pr.number == 5
    attempts = [
        lambda: pr.create_issue_comment("hi"),
        lambda: repo.get_commit(local.rev("feature")).create_status(state="success"),
        lambda: repo.create_check_run(name="x", head_sha=local.rev("feature")),
        lambda: repo.create_git_blob("x", "utf-8"),
    ]
    for attempt in attempts:
        with pytest.raises(GithubException) as refused:
            attempt()
        assert refused.value.status == 403
        assert refused.value.data["message"] == "Resource not accessible by integration"
    assert fake.comments(REPO, 5) == [] and fake.statuses(REPO, local.rev("feature")) == []


def test_authenticated_user_and_bad_credentials(fake):
    user_token = fake.make_token("erin")
    assert client(fake, user_token).get_user().login == "erin"
    with pytest.raises(GithubException) as refused:
        client(fake, fake.make_token(), retry=None).get_user().login  # noqa: B018
    assert refused.value.status == 403
    with pytest.raises(BadCredentialsException):
        client(fake, "ghs_not_a_token", retry=None).get_repo(REPO)


# -- failure injection and the request log ----------------------------------------------------


def test_500_is_retried_on_get_and_post_but_not_patch(fake):
    gh = client(fake, fake.make_token(), retry=GithubRetry(total=3))
    fake.fail_next("GET", "/repos/octo/app/pulls/*")
    pr = gh.get_repo(REPO).get_pull(5)
    fake.fail_next("POST", "/repos/octo/app/issues/5/comments", status=502)
    comment = pr.create_issue_comment("hello")
    fake.fail_next("PATCH", "/repos/octo/app/issues/comments/*")
    with pytest.raises(GithubException) as failed:
        comment.edit("changed")
    assert failed.value.status == 500
    assert [(r.method, r.status) for r in fake.requests if r.path != f"/repos/{REPO}"] == [
        ("GET", 500),
        ("GET", 200),
        ("POST", 502),
        ("POST", 201),
        ("PATCH", 500),
    ]
    assert [c.body for c in fake.comments(REPO, 5)] == ["hello"]


def test_a_dropped_answer_is_a_lost_connection_after_the_write_was_carried_out(fake):
    pr = client(fake, fake.make_token(), retry=None).get_repo(REPO).get_pull(5)
    fake.fail_next("POST", "/repos/octo/app/issues/5/comments", drop=True, after=True)
    with pytest.raises(requests.ConnectionError):
        pr.create_issue_comment("landed")
    fake.fail_next("POST", "/repos/octo/app/issues/5/comments", drop=True)
    with pytest.raises(requests.ConnectionError):
        pr.create_issue_comment("never sent on")
    assert [c.body for c in fake.comments(REPO, 5)] == ["landed"]
    assert [r.status for r in fake.requests if r.method == "POST"] == [0, 0]


def test_rate_limit_403_carries_githubs_headers_and_is_waited_out(fake):
    fake.fail_next("GET", f"/repos/{REPO}", rate_limit="primary", reset_in=3600)
    with pytest.raises(RateLimitExceededException) as limited:
        client(fake, fake.make_token(), retry=None).get_repo(REPO)
    headers = {k.lower(): v for k, v in limited.value.headers.items()}
    assert headers["x-ratelimit-remaining"] == "0"
    assert int(headers["x-ratelimit-reset"]) >= time.time() + 3590
    assert limited.value.data["message"].startswith("API rate limit exceeded")

    # PyGithub's retry waits until X-RateLimit-Reset (+1 s), then succeeds.
    fake.fail_next("GET", f"/repos/{REPO}", rate_limit="primary", reset_in=0)
    assert client(fake, fake.make_token(), retry=GithubRetry(total=2)).get_repo(REPO).id
    assert [r.status for r in fake.requests] == [403, 403, 200]

    fake.fail_next("GET", f"/repos/{REPO}", rate_limit="secondary", times=5)
    with pytest.raises(requests.exceptions.RetryError):
        client(fake, fake.make_token(), retry=GithubRetry(total=1, secondary_rate_wait=0)).get_repo(
            REPO
        )


def test_request_log_counts_calls_per_scenario(fake):
    gh = client(fake, fake.make_token())
    pr = gh.get_repo(REPO).get_pull(5)
    pr.create_issue_comment("one")
    pr.create_issue_comment("two")
    assert fake.request_count() == 4
    assert fake.request_count("POST", "/repos/octo/app/issues/*/comments") == 2
    assert fake.request_count("GET") == 2
    assert {r.operation for r in fake.requests} == {
        "repos/get",
        "pulls/get",
        "issues/create-comment",
    }


# -- webhook events ---------------------------------------------------------------------------


def test_pull_request_events_match_the_webhook_description(fake, local, tmp_path):
    opened = fake.event_pull_request(REPO, 5)
    env = opened.env(tmp_path)
    payload = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text())
    assert payload["pull_request"]["head"]["sha"] == local.rev("feature")
    assert payload["pull_request"]["base"]["sha"] == local.rev("main")
    assert (env["GITHUB_EVENT_NAME"], env["GITHUB_REF"]) == ("pull_request", "refs/pull/5/merge")
    merge = fake.repo(REPO).bare.commit(env["GITHUB_SHA"])
    assert merge.parents == (local.rev("main"), local.rev("feature"))
    target = fake.event_pull_request(REPO, 5, "synchronize", target=True, before=local.rev("main"))
    assert target.name == "pull_request_target"
    assert target.variables["GITHUB_SHA"] == local.rev("main")
    assert (target.payload["before"], target.payload["after"]) == (
        local.rev("main"),
        local.rev("feature"),
    )


def test_issue_comment_event_tells_pull_requests_from_issues(fake):
    on_pr = fake.add_comment(REPO, 5, "/merge-heads", author="bob")
    issue = fake.open_issue(REPO)
    on_issue = fake.add_comment(REPO, issue.number, "/merge-heads", author="bob")
    pr_event = fake.event_issue_comment(REPO, on_pr.id)
    issue_event = fake.event_issue_comment(REPO, on_issue.id)
    assert pr_event.payload["issue"]["number"] == 5
    assert "pull_request" in pr_event.payload["issue"]
    assert "pull_request" not in issue_event.payload["issue"]
    assert pr_event.payload["comment"]["user"]["login"] == "bob"


def test_push_and_merge_group_events(fake, local):
    push = fake.event_push(REPO, "refs/heads/feature", before=local.rev("main"))
    assert [c["id"] for c in push.payload["commits"]] == [local.rev("feature")]
    assert push.variables["GITHUB_SHA"] == local.rev("feature")
    group = fake.event_merge_group(REPO, head_sha=local.rev("feature"))
    assert group.payload["merge_group"]["base_sha"] == local.rev("main")
    assert group.payload["merge_group"]["base_ref"] == "refs/heads/main"


def test_webhook_validator_rejects_a_broken_payload(fake):
    payload = fake.event_pull_request(REPO, 5).payload
    del payload["pull_request"]["head"]
    problems = webhook_spec().validate("pull_request", payload)
    assert problems == [
        "webhook pull-request-opened: at $.pull_request: 'head' is a required property"
    ]
    with pytest.raises(InvalidEventError):
        fake.event_pull_request(REPO, 5, "no_such_action")


def test_fixture_payloads_match_the_webhook_description():
    fixtures = sorted((Path(__file__).parent / "fakegithub" / "fixtures").glob("*.json"))
    assert fixtures
    for path in fixtures:
        event = path.name.split(".")[0]
        assert webhook_spec().validate(event, json.loads(path.read_text())) == [], path.name
