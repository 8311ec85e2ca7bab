"""The REST operations the fake implements, keyed by GitHub's operationId.

Each handler takes a Call and returns a Reply or raises ApiError. Messages and status codes
are GitHub's where known (see /work/shared/reference/github-platform.md).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from . import render
from .bare import Person, TreeChange
from .state import (
    CheckRun,
    Comment,
    Issue,
    PullRequest,
    Reaction,
    Repo,
    Status,
    now,
)
from .wire import ApiError, Call, Reply, invalid, not_found

Handler = Callable[[Call], Reply]
HANDLERS: dict[str, Handler] = {}

COMMENT_MAX = 65536
STATUS_DESCRIPTION_MAX = 140
ANNOTATIONS_MAX = 50
CHECK_STATUSES = ("queued", "in_progress", "completed")
CHECK_CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "timed_out",
)
STATUS_STATES = ("error", "failure", "pending", "success")
ANNOTATION_LEVELS = ("notice", "warning", "failure")
TREE_MODES = {
    "100644": "blob",
    "100755": "blob",
    "040000": "tree",
    "160000": "commit",
    "120000": "blob",
}
COMMENT_SCOPES = ("issues", "pull_requests")


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[operation_id] = handler
        return handler

    return register


# -- repositories, users, permissions -------------------------------------------------------


@handles("repos/get")
def get_repo(call: Call) -> Reply:
    repo = call.repo("metadata", "read")
    return Reply(200, call.fake.full_repo_json(repo))


@handles("users/get-authenticated")
def get_authenticated_user(call: Call) -> Reply:
    if call.token is None:
        raise ApiError(401, "Requires authentication")
    if call.token.is_app:
        raise ApiError(403, "Resource not accessible by integration")
    return Reply(200, render.public_user(call.fake.urls, call.fake.user(call.token.login)))


@handles("users/get-by-username")
def get_user(call: Call) -> Reply:
    who = call.fake.users.get(call.params["username"].lower())
    if who is None:
        raise not_found()
    return Reply(200, render.public_user(call.fake.urls, who))


@handles("repos/get-collaborator-permission-level")
def get_collaborator_permission(call: Call) -> Reply:
    repo = call.repo("metadata", "read")
    who = call.fake.users.get(call.params["username"].lower())
    if who is None:
        raise not_found()
    return Reply(200, render.collaborator_permission(call.fake.urls, repo, who))


# -- pull requests and issues -----------------------------------------------------------------


def _pull(repo: Repo, call: Call) -> PullRequest:
    pr = repo.issues.get(call.int_param("pull_number"))
    if not isinstance(pr, PullRequest):
        raise not_found()
    return pr


def _issue(repo: Repo, call: Call) -> Issue:
    item = repo.issues.get(call.int_param("issue_number"))
    if item is None:
        raise not_found()
    return item


@handles("pulls/get")
def get_pull(call: Call) -> Reply:
    repo = call.repo("pull_requests", "read")
    pr = _pull(repo, call)
    return Reply(200, render.pull_request(call.fake.urls, pr, call.fake.pull_context(repo, pr)))


@handles("pulls/list")
def list_pulls(call: Call) -> Reply:
    repo = call.repo("pull_requests", "read")
    state = call.query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise invalid(f"Invalid value for state: {state}", field_name="state")
    found = []
    for pr in sorted(repo.pulls.values(), key=lambda p: -p.number):  # newest first
        if state != "all" and pr.state != state:
            continue
        if "base" in call.query and pr.base_ref != call.query["base"]:
            continue
        head_owner = pr.head_repo.split("/")[0]
        if "head" in call.query and call.query["head"] not in (
            f"{head_owner}:{pr.head_ref}",
            head_owner,
        ):
            continue
        found.append(pr)
    urls, fake = call.fake.urls, call.fake
    items = [render.pull_request_simple(urls, pr, fake.pull_context(repo, pr)) for pr in found]
    return call.paginate(items)


def _head_branch(repo: Repo, head: str) -> str:
    """`branch` or `owner:branch` of this repository (the fake opens no fork's pull request
    through the API)."""
    owner, _, branch = head.rpartition(":")
    if owner and owner != repo.owner:
        raise invalid(f"head {head} is not a branch of {repo.full_name}", field_name="head")
    return branch


@handles("pulls/create")
def create_pull(call: Call) -> Reply:
    repo = call.repo("pull_requests", "write")
    head = call.json_field("head", str, required=True)
    base = call.json_field("base", str, required=True)
    title = call.json_field("title", str, required=True)
    body = call.json_field("body", str) or ""
    draft = call.json_field("draft", bool) or False
    branch = _head_branch(repo, head)
    for field_name, name in (("head", branch), ("base", base)):
        if f"refs/heads/{name}" not in repo.bare.refs(f"refs/heads/{name}"):
            raise invalid(f"{field_name} is invalid", field_name=field_name)
    for pr in repo.pulls.values():
        if pr.state == "open" and (pr.head_repo, pr.head_ref, pr.base_ref) == (
            repo.full_name,
            branch,
            base,
        ):
            raise invalid(
                f"A pull request already exists for {repo.owner}:{branch}.", code="custom"
            )
    head_sha = repo.bare.refs(f"refs/heads/{branch}")[f"refs/heads/{branch}"]
    base_sha = repo.bare.refs(f"refs/heads/{base}")[f"refs/heads/{base}"]
    if repo.bare.is_ancestor(head_sha, base_sha):
        raise invalid(f"No commits between {base} and {branch}", code="custom")
    assert call.token is not None
    pr = call.fake.open_pr(
        repo.full_name, head=branch, base=base, author=call.token.login, title=title, body=body,
        draft=draft,
    )  # fmt: skip
    body_json = render.pull_request(call.fake.urls, pr, call.fake.pull_context(repo, pr))
    return Reply(201, body_json, {"Location": body_json["url"]})


@handles("pulls/update")
def update_pull(call: Call) -> Reply:
    repo = call.repo("pull_requests", "write")
    pr = _pull(repo, call)
    for key in ("title", "body"):
        value = call.json_field(key, str)
        if value is not None:
            setattr(pr, key, value)
    state = call.json_field("state", str)
    if state is not None:
        if state not in ("open", "closed"):
            raise invalid(f"state is not included in the list: {state}", field_name="state")
        pr.state = state
        pr.closed_at = now() if state == "closed" else None
    pr.updated_at = now()
    return Reply(200, render.pull_request(call.fake.urls, pr, call.fake.pull_context(repo, pr)))


@handles("issues/get")
def get_issue(call: Call) -> Reply:
    repo = call.repo(COMMENT_SCOPES, "read")
    item = _issue(repo, call)
    author = call.fake.user(item.author)
    count = len(repo.issue_comments(item.number))
    return Reply(200, render.issue(call.fake.urls, repo, item, author, count))


# -- issue comments and reactions -------------------------------------------------------------


def _comment(repo: Repo, call: Call) -> Comment:
    item = repo.comments.get(call.int_param("comment_id"))
    if item is None:
        raise not_found()
    return item


def _comment_body(call: Call) -> str:
    body = call.json_field("body", str, required=True)
    if len(body) > COMMENT_MAX:
        raise ApiError(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "IssueComment",
                    "code": "unprocessable",
                    "field": "data",
                    "message": f"Body is too long (maximum is {COMMENT_MAX} characters)",
                }
            ],
        )
    return body


@handles("issues/list-comments")
def list_comments(call: Call) -> Reply:
    repo = call.repo(COMMENT_SCOPES, "read")
    item = _issue(repo, call)
    comments = repo.issue_comments(item.number)
    return call.paginate([call.fake.comment_json(repo, c) for c in comments])


@handles("issues/create-comment")
def create_comment(call: Call) -> Reply:
    repo = call.repo(COMMENT_SCOPES, "write")
    item = _issue(repo, call)
    assert call.token is not None  # writes need one (Call.repo)
    comment = call.fake.add_comment(
        repo.full_name, item.number, _comment_body(call), author=call.token.login
    )
    body = call.fake.comment_json(repo, comment)
    return Reply(201, body, {"Location": body["url"]})


@handles("issues/get-comment")
def get_comment(call: Call) -> Reply:
    repo = call.repo(COMMENT_SCOPES, "read")
    return Reply(200, call.fake.comment_json(repo, _comment(repo, call)))


@handles("issues/update-comment")
def update_comment(call: Call) -> Reply:
    repo = call.repo(COMMENT_SCOPES, "write")
    comment = _comment(repo, call)
    comment.body = _comment_body(call)
    comment.updated_at = now()
    return Reply(200, call.fake.comment_json(repo, comment))


@handles("issues/delete-comment")
def delete_comment(call: Call) -> Reply:
    repo = call.repo(COMMENT_SCOPES, "write")
    del repo.comments[_comment(repo, call).id]
    return Reply(204)


@handles("reactions/list-for-issue-comment")
def list_reactions(call: Call) -> Reply:
    repo = call.repo(COMMENT_SCOPES, "read")
    comment = _comment(repo, call)
    wanted = call.query.get("content")
    urls, fake = call.fake.urls, call.fake
    items = [
        render.reaction(urls, r, fake.user(r.login))
        for r in comment.reactions
        if wanted is None or r.content == wanted
    ]
    return call.paginate(items)


@handles("reactions/create-for-issue-comment")
def create_reaction(call: Call) -> Reply:
    repo = call.repo("issues", "write")
    comment = _comment(repo, call)
    content = call.json_field("content", str, required=True)
    if content not in render.REACTIONS:
        raise invalid(f"{content} is not a valid reaction", field_name="content")
    assert call.token is not None
    login = call.token.login
    urls = call.fake.urls
    for existing in comment.reactions:
        if existing.login == login and existing.content == content:
            return Reply(200, render.reaction(urls, existing, call.fake.user(login)))
    reaction = Reaction(call.fake.next_id("reaction"), login, content)
    comment.reactions.append(reaction)
    return Reply(201, render.reaction(urls, reaction, call.fake.user(login)))


@handles("reactions/delete-for-issue-comment")
def delete_reaction(call: Call) -> Reply:
    repo = call.repo("issues", "write")
    comment = _comment(repo, call)
    wanted = call.int_param("reaction_id")
    kept = [r for r in comment.reactions if r.id != wanted]
    if len(kept) == len(comment.reactions):
        raise not_found()
    comment.reactions = kept
    return Reply(204)


# -- check runs -------------------------------------------------------------------------------


def _check_annotations(call: Call) -> list[dict[str, Any]]:
    output = call.json_field("output", dict)
    if output is None:
        return []
    for key in ("title", "summary"):
        if not isinstance(output.get(key), str):
            raise invalid(f'"{key}" wasn\'t supplied.', field_name=f"output.{key}")
    annotations = output.get("annotations") or []
    if len(annotations) > ANNOTATIONS_MAX:
        raise ApiError(
            422,
            f"Invalid request.\n\nNo more than {ANNOTATIONS_MAX} items are allowed; "
            f"{len(annotations)} were supplied.",
        )
    for item in annotations:
        missing = [
            key
            for key in ("path", "start_line", "end_line", "annotation_level", "message")
            if key not in item
        ]
        if missing:
            raise ApiError(422, f'Invalid request.\n\n"{missing[0]}" wasn\'t supplied.')
        if item["annotation_level"] not in ANNOTATION_LEVELS:
            raise ApiError(
                422,
                f"Invalid request.\n\nFor 'properties/annotation_level', "
                f'"{item["annotation_level"]}" is not a member of {list(ANNOTATION_LEVELS)}.',
            )
    return [dict(item) for item in annotations]


def _apply_check_fields(call: Call, run: CheckRun) -> None:
    """The fields create and update share; conclusion implies completed."""
    status = call.json_field("status", str)
    conclusion = call.json_field("conclusion", str)
    if status is not None and status not in CHECK_STATUSES:
        raise ApiError(422, f"Invalid request.\n\nInvalid value for status: {status}")
    if conclusion is not None and conclusion not in CHECK_CONCLUSIONS:
        raise ApiError(422, f"Invalid request.\n\nInvalid value for conclusion: {conclusion}")
    if conclusion is not None:
        status = "completed"
    if status == "completed" and conclusion is None and run.conclusion is None:
        raise ApiError(422, "Invalid request.\n\nNo conclusion was supplied for a completed run.")
    annotations = _check_annotations(call)
    for key in ("details_url", "external_id", "name", "started_at", "completed_at"):
        value = call.json_field(key, str)
        if value is not None:
            setattr(run, key, value)
    if status is not None:
        run.status = status
        if status != "queued" and run.started_at is None:
            run.started_at = now()
    if conclusion is not None:
        run.conclusion = conclusion
        run.completed_at = run.completed_at or now()
    output = call.json_field("output", dict)
    if output is not None:
        for key in ("title", "summary", "text"):
            if key in output:
                run.output[key] = output[key]
    run.annotations.extend(annotations)


def _check_writer(call: Call) -> Repo:
    repo = call.repo("checks", "write")
    assert call.token is not None
    if not call.token.is_app:
        raise ApiError(403, "You must authenticate via a GitHub App.")
    return repo


@handles("checks/create")
def create_check_run(call: Call) -> Reply:
    repo = _check_writer(call)
    name = call.json_field("name", str, required=True)
    head_sha = call.json_field("head_sha", str, required=True)
    if repo.bare.object_type(head_sha) != "commit":
        raise ApiError(422, f"No commit found for SHA: {head_sha}")
    assert call.token is not None
    run = CheckRun(call.fake.next_id("check_run"), name, head_sha, call.token.login)
    run.suite_id = call.fake.next_id("check_suite")
    _apply_check_fields(call, run)
    repo.check_runs[run.id] = run
    return Reply(201, call.fake.check_run_json(repo, run))


@handles("checks/update")
def update_check_run(call: Call) -> Reply:
    repo = _check_writer(call)
    run = repo.check_runs.get(call.int_param("check_run_id"))
    if run is None:
        raise not_found()
    _apply_check_fields(call, run)
    return Reply(200, call.fake.check_run_json(repo, run))


@handles("checks/get")
def get_check_run(call: Call) -> Reply:
    repo = call.repo("checks", "read")
    run = repo.check_runs.get(call.int_param("check_run_id"))
    if run is None:
        raise not_found()
    return Reply(200, call.fake.check_run_json(repo, run))


@handles("checks/list-annotations")
def list_annotations(call: Call) -> Reply:
    repo = call.repo("checks", "read")
    run = repo.check_runs.get(call.int_param("check_run_id"))
    if run is None:
        raise not_found()
    return call.paginate([render.annotation(run, item) for item in run.annotations])


@handles("checks/list-for-ref")
def list_check_runs_for_ref(call: Call) -> Reply:
    repo = call.repo("checks", "read")
    sha = _commit_sha(repo, call.params["ref"])
    name = call.query.get("check_name")
    runs = [
        call.fake.check_run_json(repo, run)
        for run in sorted(repo.check_runs.values(), key=lambda r: -r.id)
        if run.head_sha == sha and (name is None or run.name == name)
    ]
    return call.paginate(runs, wrap="check_runs")


# -- commits and statuses ---------------------------------------------------------------------


def _commit_sha(repo: Repo, ref: str) -> str:
    sha = repo.bare.resolve(f"{ref}^{{commit}}")
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


@handles("repos/get-commit")
def get_commit(call: Call) -> Reply:
    repo = call.repo("contents", "read")
    sha = _commit_sha(repo, call.params["ref"])
    return Reply(200, render.commit(call.fake.urls, repo, repo.bare.commit(sha)))


@handles("repos/create-commit-status")
def create_status(call: Call) -> Reply:
    repo = call.repo("statuses", "write")
    sha = call.params["sha"]
    if len(sha) != 40 or repo.bare.object_type(sha) != "commit":
        raise ApiError(422, f"No commit found for SHA: {sha}")
    state = call.json_field("state", str, required=True)
    if state not in STATUS_STATES:
        raise invalid(f"State is not included in the list: {state}", field_name="state")
    description = call.json_field("description", str)
    if description is not None and len(description) > STATUS_DESCRIPTION_MAX:
        raise invalid(
            f"description is too long (maximum is {STATUS_DESCRIPTION_MAX} characters)",
            field_name="description",
            code="custom",
        )
    assert call.token is not None
    item = Status(
        call.fake.next_id("status"),
        sha,
        state,
        call.json_field("context", str) or "default",
        description,
        call.json_field("target_url", str),
        call.token.login,
    )
    repo.statuses.append(item)
    return Reply(201, render.status(call.fake.urls, repo, item, call.fake.user(item.creator)))


def _statuses_for(call: Call, repo: Repo) -> list[dict[str, Any]]:
    sha = _commit_sha(repo, call.params["ref"])
    mine = [s for s in repo.statuses if s.sha == sha]
    urls, fake = call.fake.urls, call.fake
    return [render.status(urls, repo, s, fake.user(s.creator)) for s in reversed(mine)]


@handles("repos/list-commit-statuses-for-ref")
def list_statuses(call: Call) -> Reply:
    repo = call.repo("statuses", "read")
    return call.paginate(_statuses_for(call, repo))


@handles("repos/get-combined-status-for-ref")
def combined_status(call: Call) -> Reply:
    repo = call.repo("statuses", "read")
    latest: dict[str, dict[str, Any]] = {}
    for item in _statuses_for(call, repo):  # newest first; contexts are case-insensitive
        latest.setdefault(item["context"].lower(), item)
    sha = _commit_sha(repo, call.params["ref"])
    repo_json = call.fake.repo_json(repo)
    body = render.combined_status(call.fake.urls, repo, sha, list(latest.values()), repo_json)
    return Reply(200, body)


# -- Git Data API -----------------------------------------------------------------------------


def _object(repo: Repo, sha: str, kind: str) -> str:
    if len(sha) != 40 or repo.bare.object_type(sha) != kind:
        raise not_found()
    return sha


@handles("git/create-blob")
def create_blob(call: Call) -> Reply:
    repo = call.repo("contents", "write")
    content = call.json_field("content", str, required=True)
    encoding = call.json_field("encoding", str) or "utf-8"
    if encoding in ("utf-8", "utf8"):
        data = content.encode()
    elif encoding == "base64":
        try:
            data = base64.b64decode(content, validate=False)
        except binascii.Error:
            raise invalid("content is not valid Base64", field_name="content") from None
    else:
        raise invalid(f"encoding must be one of utf-8, base64: {encoding}", field_name="encoding")
    sha = repo.bare.write_blob(data)
    body = render.short_blob(call.fake.urls, repo, sha)
    return Reply(201, body, {"Location": body["url"]})


@handles("git/get-blob")
def get_blob(call: Call) -> Reply:
    repo = call.repo("contents", "read")
    sha = _object(repo, call.params["file_sha"], "blob")
    return Reply(200, render.blob(call.fake.urls, repo, sha, repo.bare.read_blob(sha)))


def _tree_change(repo: Repo, entry: Any) -> TreeChange:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise invalid("tree.path wasn't supplied", field_name="tree.path")
    path, mode, kind = entry["path"], entry.get("mode"), entry.get("type")
    if TREE_MODES.get(mode) is None:
        raise invalid(f"tree.mode is not valid: {mode}", field_name="tree.mode")
    if kind not in ("blob", "tree", "commit") or TREE_MODES[mode] != kind:
        raise invalid(f"tree.type {kind} does not fit mode {mode}", field_name="tree.type")
    if "sha" in entry and "content" in entry:
        raise invalid("Use either tree.sha or content, not both", field_name="tree")
    if "content" in entry:
        if kind != "blob" or not isinstance(entry["content"], str):
            raise invalid("content is only for blobs", field_name="tree.content")
        return TreeChange(path, mode, kind, repo.bare.write_blob(entry["content"].encode()))
    sha = entry.get("sha")
    if sha is not None and kind != "commit" and repo.bare.object_type(sha) != kind:
        raise invalid(f"tree.sha {sha} is not a valid {kind}", field_name="tree.sha")
    return TreeChange(path, mode, kind, sha)


@handles("git/create-tree")
def create_tree(call: Call) -> Reply:
    repo = call.repo("contents", "write")
    entries = call.json_field("tree", list, required=True)
    base_tree = call.json_field("base_tree", str)
    if base_tree is not None and repo.bare.object_type(base_tree) != "tree":
        raise invalid(f"base_tree {base_tree} is not a valid tree", field_name="base_tree")
    changes = [_tree_change(repo, entry) for entry in entries]
    try:
        sha = repo.bare.make_tree(base_tree, changes)
    except KeyError as missing:
        raise ApiError(
            422, f"GitRPC::BadObjectState: cannot delete missing path {missing}"
        ) from None
    body = render.tree(call.fake.urls, repo, sha, repo.bare.ls_tree(sha, recursive=False))
    return Reply(201, body, {"Location": body["url"]})


@handles("git/get-tree")
def get_tree(call: Call) -> Reply:
    repo = call.repo("contents", "read")
    sha = repo.bare.resolve(f"{call.params['tree_sha']}^{{tree}}")
    if sha is None:
        raise not_found()
    recursive = call.query.get("recursive") not in (None, "", "0", "false")
    entries = repo.bare.ls_tree(sha, recursive=recursive)
    return Reply(200, render.tree(call.fake.urls, repo, sha, entries))


def _person(call: Call, name: str) -> Person | None:
    value = call.json_field(name, dict)
    if value is None:
        return None
    if not isinstance(value.get("name"), str) or not isinstance(value.get("email"), str):
        raise invalid(f"{name} needs name and email", field_name=name)
    return Person(value["name"], value["email"], value.get("date") or now())


@handles("git/create-commit")
def create_git_commit(call: Call) -> Reply:
    repo = call.repo("contents", "write")
    message = call.json_field("message", str, required=True)
    tree_sha = call.json_field("tree", str, required=True)
    parents = call.json_field("parents", list) or []
    if repo.bare.object_type(tree_sha) != "tree":
        raise invalid(f"Tree SHA does not exist: {tree_sha}", field_name="tree")
    for parent in parents:
        if not isinstance(parent, str) or repo.bare.object_type(parent) != "commit":
            raise invalid(f"Parent SHA does not exist or is not a commit object: {parent}")
    assert call.token is not None
    author = _person(call, "author")
    committer = _person(call, "committer")
    # Without a custom identity GitHub writes the commit as the token's user and signs it
    # (committer "GitHub"): such commits show as verified.
    verified = author is None and committer is None and call.token.is_app
    who = call.fake.user(call.token.login)
    stamp = now()
    author = author or Person(who.name or who.login, who.noreply_email, stamp)
    committer = committer or (Person("GitHub", "noreply@github.com", stamp) if verified else author)
    sha = repo.bare.commit_tree(tree_sha, parents, message, author, committer)
    if verified:
        repo.verified_commits.add(sha)
    body = render.git_commit(call.fake.urls, repo, repo.bare.commit(sha))
    return Reply(201, body, {"Location": body["url"]})


@handles("git/get-commit")
def get_git_commit(call: Call) -> Reply:
    repo = call.repo("contents", "read")
    sha = _object(repo, call.params["commit_sha"], "commit")
    return Reply(200, render.git_commit(call.fake.urls, repo, repo.bare.commit(sha)))


def _ref_json(call: Call, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    kind = repo.bare.object_type(sha) or "commit"
    return render.git_ref(call.fake.urls, repo, ref, sha, kind)


@handles("git/get-ref")
def get_ref(call: Call) -> Reply:
    repo = call.repo("contents", "read")
    ref = "refs/" + call.params["ref"]
    sha = repo.bare.refs(ref).get(ref)
    if sha is None:
        raise not_found()
    return Reply(200, _ref_json(call, repo, ref, sha))


@handles("git/create-ref")
def create_ref(call: Call) -> Reply:
    repo = call.repo("contents", "write")
    ref = call.json_field("ref", str, required=True)
    sha = call.json_field("sha", str, required=True)
    if not ref.startswith("refs/") or ref.count("/") < 2 or ref.startswith("refs/pull/"):
        raise ApiError(422, "Reference name is invalid")
    if ref in repo.bare.refs(ref):
        raise ApiError(422, "Reference already exists")
    if repo.bare.object_type(sha) is None:
        raise ApiError(422, "Object does not exist")
    repo.bare.update_ref(ref, sha, "0" * 40)
    call.fake.sync_pulls(repo)
    body = _ref_json(call, repo, ref, sha)
    return Reply(201, body, {"Location": body["url"]})


@handles("git/update-ref")
def update_ref(call: Call) -> Reply:
    repo = call.repo("contents", "write")
    ref = "refs/" + call.params["ref"]
    sha = call.json_field("sha", str, required=True)
    force = call.json_field("force", bool) or False
    old = repo.bare.refs(ref).get(ref)
    if old is None or ref.startswith("refs/pull/"):
        raise ApiError(422, "Reference does not exist")
    if repo.bare.object_type(sha) is None:
        raise ApiError(422, "Object does not exist")
    if not force and not repo.bare.is_ancestor(old, sha):
        raise ApiError(422, "Update is not a fast forward")
    repo.bare.update_ref(ref, sha, old)
    call.fake.sync_pulls(repo)
    return Reply(200, _ref_json(call, repo, ref, sha))
