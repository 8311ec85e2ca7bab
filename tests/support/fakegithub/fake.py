"""FakeGitHub: a GitHub that keeps state, answers PyGithub and git on loopback, and checks
every answer against GitHub's OpenAPI description."""

from __future__ import annotations

import base64
import fnmatch
import itertools
import os
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import events, render, server
from .bare import BareRepo
from .openapi import rest_spec
from .state import (
    ACTIONS_LOGIN,
    ACTIONS_USER_ID,
    SCOPES,
    CheckRun,
    Comment,
    Issue,
    PullRequest,
    Repo,
    Status,
    Token,
    User,
    now,
)

API_PREFIX = "/api/v3"  # as on GitHub Enterprise Server: catches hard-coded api.github.com
_ID_BASES = {
    "user": 1_000,
    "repo": 500_000,
    "issue": 2_000_000,
    "comment": 3_000_000_000,  # above 2**31: ids are int64 on GitHub
    "reaction": 100_000,
    "check_run": 20_000_000_000,
    "check_suite": 9_000_000,
    "status": 30_000_000,
    "app": 15_368,
}


class FakeGitHub:
    """A fake GitHub on 127.0.0.1, holding bare repositories under `root`.

    Use as a context manager (or start()/stop()); the `fake_github` fixture does that and
    fails the test if any answer broke GitHub's description.
    """

    def __init__(self, root: str | os.PathLike[str], *, validate: bool = True) -> None:
        self.root = Path(root)
        self.git_root = self.root / "git"
        self.git_root.mkdir(parents=True, exist_ok=True)
        self.validate = validate
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}  # by lower-case login
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}  # by lower-case full name
        self.requests: list[server.LoggedRequest] = []
        self.violations: list[str] = []
        self._failures: list[server.Failure] = []
        self._hooks: list[tuple[str, str, Callable[[], None]]] = []
        self._ids = {kind: itertools.count(base + 1) for kind, base in _ID_BASES.items()}
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.user(ACTIONS_LOGIN)
        if validate:
            rest_spec()  # load (once per process) before the first request needs it

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        self._server = server.start(self)
        self._thread = threading.Thread(
            # A short poll keeps stop() fast: shutdown() waits for the loop to look.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-github",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def server_url(self) -> str:
        """Like GITHUB_SERVER_URL: http://127.0.0.1:PORT (git URLs live here)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """Like GITHUB_API_URL: pass it to Github(base_url=...)."""
        return self.server_url + API_PREFIX

    @property
    def api_prefix(self) -> str:
        return API_PREFIX

    @property
    def urls(self) -> render.Urls:
        return render.Urls(self.server_url, self.api_url)

    def git_url(self, full_name: str) -> str:
        """The smart-HTTP URL to fetch from (and push to): http://127.0.0.1:PORT/o/r.git."""
        return f"{self.server_url}/{self.repo(full_name).full_name}.git"

    @staticmethod
    def git_auth_header(token: str) -> str:
        """The header to give git (`git -c http.extraHeader=<this> fetch ...`), as
        actions/checkout does: basic auth with x-access-token and the token."""
        pair = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        return f"Authorization: basic {pair}"

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # -- users and tokens ---------------------------------------------------------------------

    def user(self, login: str, *, type: str | None = None, name: str | None = None) -> User:
        """The user with this login, made on first mention (a `[bot]` login is a Bot)."""
        with self.lock:
            found = self.users.get(login.lower())
            if found is None:
                kind = type or ("Bot" if login.endswith("[bot]") else "User")
                number = ACTIONS_USER_ID if login == ACTIONS_LOGIN else self.next_id("user")
                found = User(login, number, kind, name=name)
                self.users[login.lower()] = found
            return found

    def make_token(
        self,
        login: str = ACTIONS_LOGIN,
        *,
        read_only: bool = False,
        permissions: Mapping[str, str] | None = None,
        app: bool | None = None,
    ) -> str:
        """A new token for `login`; returns its value.

        Defaults to a GITHUB_TOKEN with write on every scope. `read_only` gives the token a
        fork pull request gets (every scope read). `permissions` names scopes explicitly
        ("contents", "issues", "pull_requests" or "pull-requests", "checks", "statuses";
        "read" | "write" | "none"); metadata is always readable. `app` defaults to whether
        the login is a `[bot]`: app tokens cannot call GET /user, user tokens cannot write
        check runs.
        """
        with self.lock:
            level = "read" if read_only else "write"
            granted = dict.fromkeys(SCOPES, level)
            if permissions is not None:
                granted = dict.fromkeys(SCOPES, "none")
                for scope, value in permissions.items():
                    name = scope.replace("-", "_")
                    if name not in SCOPES or value not in ("read", "write", "none"):
                        raise ValueError(f"unknown permission {scope}: {value}")
                    granted[name] = value
            granted["metadata"] = "read"
            is_app = login.endswith("[bot]") if app is None else app
            value = ("ghs_" if is_app else "github_pat_") + secrets.token_hex(18)
            self.user(login)
            self.tokens[value] = Token(value, login, granted, is_app)
            return value

    # -- repositories -------------------------------------------------------------------------

    def repo(self, full_name: str) -> Repo:
        """The repository record (KeyError when there is none)."""
        with self.lock:
            return self.repos[full_name.lower()]

    def create_repo(
        self,
        full_name: str,
        source: str | os.PathLike[str] | None = None,
        *,
        default_branch: str = "main",
        private: bool = False,
        fork_of: str | None = None,
    ) -> Repo:
        """A repository backed by a new bare repository; with `source` (a local git
        repository), its branches and tags are copied in. A fork starts with its parent's
        branches."""
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"not owner/name: {full_name}")
        with self.lock:
            if full_name.lower() in self.repos:
                raise ValueError(f"repository exists: {full_name}")
            bare = BareRepo.init(self.git_root / owner / f"{name}.git", default_branch)
            if fork_of is not None:
                bare.fetch(self.repo(fork_of).bare.path, ["+refs/heads/*:refs/heads/*"])
            if source is not None:
                bare.fetch(source, ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"])
            self.user(owner)
            repo = Repo(full_name, self.next_id("repo"), bare, default_branch, private, fork_of)
            self.repos[full_name.lower()] = repo
            return repo

    def push(
        self,
        full_name: str,
        source: str | os.PathLike[str],
        refspecs: Sequence[str] = ("+refs/heads/*:refs/heads/*",),
    ) -> None:
        """Copy refs from a local repository into the fake (forced, like a push by someone
        else), then move the heads of pull requests whose branch moved."""
        with self.lock:
            repo = self.repo(full_name)
            repo.bare.fetch(source, list(refspecs))
            self.sync_pulls(repo)

    def branch_sha(self, full_name: str, branch: str) -> str:
        """The commit a branch points at (KeyError if it does not exist)."""
        with self.lock:
            ref = f"refs/heads/{branch}"
            return self.repo(full_name).bare.refs(ref)[ref]

    def add_collaborator(self, full_name: str, login: str, role: str = "write") -> None:
        """Give a user a repository role: admin, maintain, write, triage or read."""
        if role not in ("admin", "maintain", "write", "triage", "read"):
            raise ValueError(f"unknown role {role}")
        with self.lock:
            self.user(login)
            self.repo(full_name).collaborators[login] = role

    # -- issues and pull requests -------------------------------------------------------------

    def _number(self, repo: Repo, number: int | None) -> int:
        if number is None:
            return max(repo.issues, default=0) + 1
        if number in repo.issues:
            raise ValueError(f"#{number} exists in {repo.full_name}")
        return number

    def open_issue(
        self,
        full_name: str,
        *,
        author: str = "reporter",
        title: str = "An issue",
        body: str = "",
        number: int | None = None,
    ) -> Issue:
        """A plain issue (not a pull request): comments on it have no `issue.pull_request`."""
        with self.lock:
            repo = self.repo(full_name)
            self.user(author)
            item = Issue(self._number(repo, number), self.next_id("issue"), author, title, body)
            repo.issues[item.number] = item
            return item

    def open_pr(
        self,
        full_name: str,
        *,
        head: str,
        base: str | None = None,
        number: int | None = None,
        author: str = "contributor",
        head_repo: str | None = None,
        maintainer_can_modify: bool = False,
        title: str | None = None,
        body: str = "",
        draft: bool = False,
        mergeable: bool | None = True,
    ) -> PullRequest:
        """A pull request from branch `head` (in `head_repo`, a fork, when given) into `base`
        (default branch by default); refs/pull/N/head is set in the base repository."""
        with self.lock:
            repo = self.repo(full_name)
            source = self.repo(head_repo) if head_repo else repo
            base = base or repo.default_branch
            for where, branch in ((source, head), (repo, base)):
                if f"refs/heads/{branch}" not in where.bare.refs(f"refs/heads/{branch}"):
                    raise ValueError(f"no branch {branch} in {where.full_name}")
            self.user(author)
            pr = PullRequest(
                self._number(repo, number),
                self.next_id("issue"),
                author,
                title or f"Pull request from {head}",
                body,
                head_repo=source.full_name,
                head_ref=head,
                base_ref=base,
                draft=draft,
                maintainer_can_modify=maintainer_can_modify,
                mergeable=mergeable,
            )
            repo.issues[pr.number] = pr
            self._sync_pull(repo, pr)
            return pr

    def pull(self, full_name: str, number: int) -> PullRequest:
        with self.lock:
            found = self.repo(full_name).issues[number]
            if not isinstance(found, PullRequest):
                raise KeyError(f"#{number} is an issue, not a pull request")
            return found

    def sync_pulls(self, changed: Repo) -> None:
        """Move the head of every open pull request whose head branch is in `changed`."""
        with self.lock:
            for repo in self.repos.values():
                for pr in repo.pulls.values():
                    if pr.state == "open" and pr.head_repo.lower() == changed.full_name.lower():
                        self._sync_pull(repo, pr)

    def _sync_pull(self, repo: Repo, pr: PullRequest) -> None:
        source = self.repo(pr.head_repo)
        ref = f"refs/heads/{pr.head_ref}"
        tip = source.bare.refs(ref).get(ref)
        if tip is None or tip == pr.head_sha:
            return
        pull_ref = f"refs/pull/{pr.number}/head"
        if source is repo:
            repo.bare.update_ref(pull_ref, tip)
        else:
            repo.bare.fetch(source.bare.path, [f"+{ref}:{pull_ref}"])
        if pr.head_sha:
            pr.updated_at = now()
        pr.head_sha = tip

    def add_comment(self, full_name: str, number: int, body: str, *, author: str) -> Comment:
        """A comment on issue or pull request `number`, as if `author` had written it."""
        with self.lock:
            repo = self.repo(full_name)
            if number not in repo.issues:
                raise KeyError(f"no issue or pull request #{number} in {full_name}")
            self.user(author)
            comment = Comment(self.next_id("comment"), repo.full_name, number, author, body)
            repo.comments[comment.id] = comment
            return comment

    def comments(self, full_name: str, number: int) -> list[Comment]:
        """The comments on an issue or pull request, oldest first."""
        with self.lock:
            return self.repo(full_name).issue_comments(number)

    def check_runs(self, full_name: str, head_sha: str | None = None) -> list[CheckRun]:
        """The check runs of a repository (for one commit when given), oldest first."""
        with self.lock:
            runs = sorted(self.repo(full_name).check_runs.values(), key=lambda r: r.id)
            return [r for r in runs if head_sha is None or r.head_sha == head_sha]

    def statuses(self, full_name: str, sha: str) -> list[Status]:
        """The commit statuses posted on a commit, oldest first."""
        with self.lock:
            return [s for s in self.repo(full_name).statuses if s.sha == sha]

    # -- failure injection and the request log ------------------------------------------------

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        times: int = 1,
        rate_limit: str | None = None,
        reset_in: int = 0,
        retry_after: int | None = None,
        message: str | None = None,
        after: bool = False,
        drop: bool = False,
    ) -> None:
        """Make the next `times` requests of `method` ("*" for any) whose path (without
        /api/v3, without query; a git path as is) matches the glob `path` fail. With `after`
        the request is carried out first and only its answer fails (a lost response), on
        the REST API only. With `drop` the connection is closed without any answer, as when
        the network loses it or a timeout gives up (with `after`, once the request was carried
        out); such a request is logged with status 0.

        `status` 500/502/422/... answers with GitHub's error body. `rate_limit="primary"`
        answers 403 "API rate limit exceeded ..." with X-RateLimit-Remaining 0 and
        X-RateLimit-Reset `reset_in` seconds ahead; `rate_limit="secondary"` answers 403
        "You have exceeded a secondary rate limit ..."; `retry_after` adds Retry-After.
        """
        if rate_limit not in (None, "primary", "secondary"):
            raise ValueError(f"rate_limit is primary or secondary, not {rate_limit}")
        with self.lock:
            self._failures.append(
                server.Failure(
                    method.upper(),
                    path,
                    403 if rate_limit else status,
                    times,
                    rate_limit,
                    reset_in,
                    retry_after,
                    message,
                    after,
                    drop,
                )
            )

    def before_next(self, method: str, path: str, action: Callable[[], None]) -> None:
        """Run `action` (e.g. a push by someone else) just before the fake handles the next
        request of `method` whose path matches the glob `path`: a race, made certain."""
        with self.lock:
            self._hooks.append((method.upper(), path, action))

    def run_hooks(self, method: str, path: str) -> None:
        with self.lock:
            due = [
                h for h in self._hooks if h[0] in ("*", method) and fnmatch.fnmatchcase(path, h[1])
            ]
            for hook in due[:1]:
                self._hooks.remove(hook)
                hook[2]()

    def take_failure(self, method: str, path: str) -> server.Failure | None:
        for failure in self._failures:
            if failure.times > 0 and failure.matches(method, path):
                failure.times -= 1
                return failure
        return None

    def request_count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests were answered, filtered by method and path glob."""
        with self.lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (path is None or fnmatch.fnmatchcase(r.path, path))
            )

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def assert_valid(self) -> None:
        """AssertionError listing every answer that broke GitHub's description."""
        with self.lock:
            if self.violations:
                listed = "\n  ".join(self.violations)
                raise AssertionError(
                    f"the fake GitHub sent {len(self.violations)} response(s) that break "
                    f"GitHub's OpenAPI description:\n  {listed}"
                )

    # -- representations shared by handlers and events ----------------------------------------

    def _open_count(self, repo: Repo) -> int:
        return sum(1 for item in repo.issues.values() if item.state == "open")

    def repo_json(self, repo: Repo) -> dict[str, Any]:
        owner = self.user(repo.owner)
        return render.repository(self.urls, repo, owner, open_issues=self._open_count(repo))

    def full_repo_json(self, repo: Repo) -> dict[str, Any]:
        parent = self.repo_json(self.repo(repo.fork_of)) if repo.fork_of else None
        owner = self.user(repo.owner)
        return render.full_repository(
            self.urls, repo, owner, open_issues=self._open_count(repo), parent=parent
        )

    def comment_json(self, repo: Repo, comment: Comment) -> dict[str, Any]:
        return render.comment(self.urls, repo, comment, self.user(comment.author), None)

    def app_json(self, login: str) -> dict[str, Any]:
        slug = login.removesuffix("[bot]")
        owner = self.user("github" if login == ACTIONS_LOGIN else slug, type="Organization")
        app_id = 15368 if login == ACTIONS_LOGIN else 100_000 + self.user(login).id
        return render.app(self.urls, slug, app_id, owner)

    def check_run_json(self, repo: Repo, run: CheckRun) -> dict[str, Any]:
        pulls = [
            render.pull_request_minimal(self.urls, repo, repo, pr, self._base_sha(repo, pr))
            for pr in repo.pulls.values()
            if pr.state == "open" and pr.head_sha == run.head_sha and pr.head_repo == repo.full_name
        ]
        return render.check_run(self.urls, repo, run, self.app_json(run.app_login), pulls)

    def _base_sha(self, repo: Repo, pr: PullRequest) -> str:
        ref = f"refs/heads/{pr.base_ref}"
        return repo.bare.refs(ref).get(ref, "0" * 40)

    def pull_context(self, repo: Repo, pr: PullRequest) -> render.PullContext:
        head_repo = self.repo(pr.head_repo)
        return render.PullContext(
            repo=repo,
            head_repo=head_repo,
            base_sha=self._base_sha(repo, pr),
            author=self.user(pr.author),
            base_owner=self.user(repo.owner),
            head_owner=self.user(head_repo.owner),
            open_issues=self._open_count(repo),
            comment_count=len(repo.issue_comments(pr.number)),
        )

    # -- webhook events -----------------------------------------------------------------------

    def event_pull_request(
        self,
        full_name: str,
        number: int,
        action: str = "opened",
        *,
        target: bool = False,
        sender: str | None = None,
        before: str | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> events.Event:
        """A `pull_request` (or, with target, `pull_request_target`) event for a PR."""
        with self.lock:
            return events.pull_request(
                self, full_name, number, action, target, sender, before, changes
            )

    def event_issue_comment(
        self, full_name: str, comment_id: int, action: str = "created", *, sender: str | None = None
    ) -> events.Event:
        """An `issue_comment` event for a comment (on a pull request or a plain issue)."""
        with self.lock:
            return events.issue_comment(self, full_name, comment_id, action, sender)

    def event_push(
        self,
        full_name: str,
        ref: str,
        *,
        before: str,
        after: str | None = None,
        sender: str | None = None,
    ) -> events.Event:
        """A `push` event moving `ref` (refs/heads/...) from `before` to `after` (default:
        where the ref is now)."""
        with self.lock:
            return events.push(self, full_name, ref, before, after, sender)

    def event_merge_group(
        self,
        full_name: str,
        *,
        head_sha: str,
        base_ref: str | None = None,
        base_sha: str | None = None,
        head_ref: str | None = None,
        sender: str | None = None,
    ) -> events.Event:
        """A `merge_group` checks_requested event for a merge-group commit in the repo."""
        with self.lock:
            return events.merge_group(
                self, full_name, head_sha, base_ref, base_sha, head_ref, sender
            )

    def event_schedule(self, full_name: str, cron: str = "17 3 * * *") -> events.Event:
        """A `schedule` run on the default branch."""
        with self.lock:
            return events.schedule(self, full_name, cron)

    def close_pr(self, full_name: str, number: int, *, merged: bool = False) -> None:
        """Close a pull request (merged: as the merge button does, after its commits landed)."""
        with self.lock:
            pr = self.pull(full_name, number)
            pr.state, pr.merged, pr.closed_at = "closed", merged, now()

    def open_pulls(self, full_name: str, head: str | None = None) -> list[PullRequest]:
        """The open pull requests (from branch `head` when given), oldest first."""
        with self.lock:
            pulls = sorted(self.repo(full_name).pulls.values(), key=lambda p: p.number)
            return [p for p in pulls if p.state == "open" and head in (None, p.head_ref)]
