"""REST representations of the fake's records, shaped as GitHub's OpenAPI description says.

Every URL is absolute and built from the fake's own address: PyGithub follows the URLs a
response carries (`issue_url`, comment `url`, check-run `url`, ref `url`...) for later calls.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from .bare import CommitInfo, TreeEntry
from .state import (
    ACTIONS_LOGIN,
    ROLE_PERMISSION,
    CheckRun,
    Comment,
    Issue,
    PullRequest,
    Reaction,
    Repo,
    Status,
    User,
)

Json = dict[str, Any]
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
_CREATED = "2020-01-01T00:00:00Z"


def node_id(kind: str, number: int) -> str:
    """A stable opaque global id, like GitHub's base64 node ids."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


@dataclass(frozen=True)
class Urls:
    """The fake's two bases: the web server (GITHUB_SERVER_URL) and the API (GITHUB_API_URL)."""

    server: str  # http://127.0.0.1:PORT
    api: str  # http://127.0.0.1:PORT/api/v3

    def repo_api(self, repo: Repo) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def repo_html(self, repo: Repo) -> str:
        return f"{self.server}/{repo.full_name}"


def user(urls: Urls, who: User) -> Json:
    """simple-user."""
    api = f"{urls.api}/users/{who.login}"
    return {
        "login": who.login,
        "id": who.id,
        "node_id": node_id("User", who.id),
        "avatar_url": f"{urls.server}/avatars/u/{who.id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{urls.server}/{who.login}"
        if who.type != "Bot"
        else f"{urls.server}/apps/{who.login.removesuffix('[bot]')}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": who.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def public_user(urls: Urls, who: User) -> Json:
    """public-user, for GET /user (the private fields are left out on purpose: a body with
    them matches both private-user and public-user, which the description's oneOf forbids)."""
    return {
        **user(urls, who),
        "name": who.name,
        "company": None,
        "blog": "",
        "location": None,
        "email": who.email,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": who.created_at,
        "updated_at": who.created_at,
    }


def _repo_urls(urls: Urls, repo: Repo) -> Json:
    api = urls.repo_api(repo)
    names = {
        "forks_url": "/forks",
        "keys_url": "/keys{/key_id}",
        "collaborators_url": "/collaborators{/collaborator}",
        "teams_url": "/teams",
        "hooks_url": "/hooks",
        "issue_events_url": "/issues/events{/number}",
        "events_url": "/events",
        "assignees_url": "/assignees{/user}",
        "branches_url": "/branches{/branch}",
        "tags_url": "/tags",
        "blobs_url": "/git/blobs{/sha}",
        "git_tags_url": "/git/tags{/sha}",
        "git_refs_url": "/git/refs{/sha}",
        "trees_url": "/git/trees{/sha}",
        "statuses_url": "/statuses/{sha}",
        "languages_url": "/languages",
        "stargazers_url": "/stargazers",
        "contributors_url": "/contributors",
        "subscribers_url": "/subscribers",
        "subscription_url": "/subscription",
        "commits_url": "/commits{/sha}",
        "git_commits_url": "/git/commits{/sha}",
        "comments_url": "/comments{/number}",
        "issue_comment_url": "/issues/comments{/number}",
        "contents_url": "/contents/{+path}",
        "compare_url": "/compare/{base}...{head}",
        "merges_url": "/merges",
        "archive_url": "/{archive_format}{/ref}",
        "downloads_url": "/downloads",
        "issues_url": "/issues{/number}",
        "pulls_url": "/pulls{/number}",
        "milestones_url": "/milestones{/number}",
        "notifications_url": "/notifications{?since,all,participating}",
        "labels_url": "/labels{/name}",
        "releases_url": "/releases{/id}",
        "deployments_url": "/deployments",
    }
    return {key: api + suffix for key, suffix in names.items()}


def repository(urls: Urls, repo: Repo, owner: User, *, open_issues: int) -> Json:
    """repository (the shape nested in pull requests); full_repository adds to it."""
    host = urls.server.split("://", 1)[1]
    return {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": user(urls, owner),
        "html_url": urls.repo_html(repo),
        "description": None,
        "fork": repo.fork_of is not None,
        "url": urls.repo_api(repo),
        **_repo_urls(urls, repo),
        "created_at": repo.created_at,
        "updated_at": repo.created_at,
        "pushed_at": repo.created_at,
        "git_url": f"git://{host}/{repo.full_name}.git",
        "ssh_url": f"git@{host.split(':')[0]}:{repo.full_name}.git",
        "clone_url": f"{urls.repo_html(repo)}.git",
        "svn_url": urls.repo_html(repo),
        "homepage": None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": "Python",
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": open_issues,
        "license": None,
        "allow_forking": True,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private" if repo.private else "public",
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
        "default_branch": repo.default_branch,
    }


def full_repository(
    urls: Urls, repo: Repo, owner: User, *, open_issues: int, parent: Json | None
) -> Json:
    """full-repository, for GET /repos/{owner}/{repo}."""
    body = repository(urls, repo, owner, open_issues=open_issues)
    body.update(
        {
            "network_count": 0,
            "subscribers_count": 0,
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
            "allow_update_branch": False,
        }
    )
    if parent is not None:
        body["parent"] = parent
        body["source"] = parent
    return body


def author_association(repo: Repo, login: str) -> str:
    """OWNER, COLLABORATOR, CONTRIBUTOR (has an open or past pull request) or NONE."""
    if login == repo.owner:
        return "OWNER"
    if login in repo.collaborators:
        return "COLLABORATOR"
    if any(pr.author == login for pr in repo.pulls.values()):
        return "CONTRIBUTOR"
    return "NONE"


def _branch(urls: Urls, repo: Repo, owner: User, ref: str, sha: str, *, open_issues: int) -> Json:
    return {
        "label": f"{repo.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user(urls, owner),
        "repo": repository(urls, repo, owner, open_issues=open_issues),
    }


@dataclass(frozen=True)
class PullContext:
    """What a pull request's representation needs besides the record itself."""

    repo: Repo
    head_repo: Repo
    base_sha: str
    author: User
    base_owner: User
    head_owner: User
    open_issues: int
    comment_count: int


def pull_request(urls: Urls, pr: PullRequest, ctx: PullContext) -> Json:
    """pull-request, for GET /repos/{owner}/{repo}/pulls/{pull_number}."""
    body = pull_request_simple(urls, pr, ctx)
    body.update(
        {
            "merged": pr.merged,
            "mergeable": pr.mergeable,
            "rebaseable": pr.mergeable,
            "mergeable_state": {True: "clean", False: "dirty", None: "unknown"}[pr.mergeable],
            "merged_by": None,
            "comments": ctx.comment_count,
            "review_comments": 0,
            "maintainer_can_modify": pr.maintainer_can_modify,
            "commits": 1,
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        }
    )
    return body


def pull_request_simple(urls: Urls, pr: PullRequest, ctx: PullContext) -> Json:
    """pull-request-simple, for the pull request list."""
    api = urls.repo_api(ctx.repo)
    html = f"{urls.repo_html(ctx.repo)}/pull/{pr.number}"
    issue_api = f"{api}/issues/{pr.number}"
    links = {
        "self": f"{api}/pulls/{pr.number}",
        "html": html,
        "issue": issue_api,
        "comments": f"{issue_api}/comments",
        "review_comments": f"{api}/pulls/{pr.number}/comments",
        "review_comment": f"{api}/pulls/comments{{/number}}",
        "commits": f"{api}/pulls/{pr.number}/commits",
        "statuses": f"{api}/statuses/{pr.head_sha}",
    }
    return {
        "url": links["self"],
        "id": pr.id,
        "node_id": node_id("PullRequest", pr.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue_api,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "number": pr.number,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": user(urls, ctx.author),
        "body": pr.body or None,
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": pr.created_at,
        "updated_at": pr.updated_at,
        "closed_at": pr.closed_at,
        "merged_at": None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _branch(
            urls, ctx.head_repo, ctx.head_owner, pr.head_ref, pr.head_sha, open_issues=0
        ),
        "base": _branch(
            urls, ctx.repo, ctx.base_owner, pr.base_ref, ctx.base_sha, open_issues=ctx.open_issues
        ),
        "_links": {key: {"href": value} for key, value in links.items()},
        "author_association": author_association(ctx.repo, pr.author),
        "auto_merge": None,
        "draft": pr.draft,
    }


def issue(urls: Urls, repo: Repo, item: Issue, author: User, comment_count: int) -> Json:
    """issue, for GET /repos/{owner}/{repo}/issues/{issue_number}."""
    api = f"{urls.repo_api(repo)}/issues/{item.number}"
    html = f"{urls.repo_html(repo)}/issues/{item.number}"
    body: Json = {
        "id": item.id,
        "node_id": node_id("Issue", item.id),
        "url": api,
        "repository_url": urls.repo_api(repo),
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": html,
        "number": item.number,
        "state": item.state,
        "state_reason": None,
        "title": item.title,
        "body": item.body or None,
        "user": user(urls, author),
        "labels": [],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": False,
        "active_lock_reason": None,
        "comments": comment_count,
        "closed_at": item.closed_at,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "closed_by": None,
        "author_association": author_association(repo, item.author),
        "reactions": _rollup(f"{api}/reactions", []),
        "timeline_url": f"{api}/timeline",
        "performed_via_github_app": None,
    }
    if isinstance(item, PullRequest):
        pr_html = f"{urls.repo_html(repo)}/pull/{item.number}"
        body["html_url"] = pr_html
        body["draft"] = item.draft
        body["pull_request"] = {
            "url": f"{urls.repo_api(repo)}/pulls/{item.number}",
            "html_url": pr_html,
            "diff_url": f"{pr_html}.diff",
            "patch_url": f"{pr_html}.patch",
            "merged_at": None,
        }
    return body


def _rollup(url: str, reactions: list[Reaction]) -> Json:
    counts = dict.fromkeys(REACTIONS, 0)
    for reaction in reactions:
        counts[reaction.content] += 1
    return {"url": url, "total_count": len(reactions), **counts}


def comment(urls: Urls, repo: Repo, item: Comment, author: User, app: Json | None) -> Json:
    """issue-comment."""
    api = f"{urls.repo_api(repo)}/issues/comments/{item.id}"
    kind = "pull" if isinstance(repo.issues.get(item.issue_number), PullRequest) else "issues"
    return {
        "url": api,
        "html_url": f"{urls.repo_html(repo)}/{kind}/{item.issue_number}#issuecomment-{item.id}",
        "issue_url": f"{urls.repo_api(repo)}/issues/{item.issue_number}",
        "id": item.id,
        "node_id": node_id("IssueComment", item.id),
        "user": user(urls, author),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "author_association": author_association(repo, item.author),
        "body": item.body,
        "reactions": _rollup(f"{api}/reactions", item.reactions),
        "performed_via_github_app": app,
    }


def reaction(urls: Urls, item: Reaction, who: User) -> Json:
    """reaction."""
    return {
        "id": item.id,
        "node_id": node_id("Reaction", item.id),
        "user": user(urls, who),
        "content": item.content,
        "created_at": item.created_at,
    }


def collaborator_permission(urls: Urls, repo: Repo, who: User) -> Json:
    """repository-collaborator-permission.

    Anyone may read a public repository, so a user without a role there reads as "read"; on
    a private one as "none".
    """
    role = repo.role(who.login) or ("none" if repo.private else "read")
    permission = ROLE_PERMISSION.get(role, "none")
    rank = ("read", "triage", "write", "maintain", "admin")
    level = rank.index(role) if role in rank else -1
    flags = {name: level >= i for i, name in enumerate(("pull", "triage", "push", "maintain"))}
    flags["admin"] = level >= rank.index("admin")
    return {
        "permission": permission,
        "role_name": role,
        "user": {**user(urls, who), "permissions": flags, "role_name": role},
    }


def app(urls: Urls, slug: str, app_id: int, owner: User) -> Json:
    """integration: the GitHub App behind an installation token (GitHub Actions for
    GITHUB_TOKEN)."""
    actions = slug == ACTIONS_LOGIN.removesuffix("[bot]")
    return {
        "id": app_id,
        "slug": slug,
        "node_id": node_id("App", app_id),
        "client_id": f"Iv1.{app_id:016x}",
        "owner": user(urls, owner),
        "name": "GitHub Actions" if actions else slug,
        "description": "Automate your workflow from idea to production" if actions else "",
        "external_url": f"{urls.server}/features/actions" if actions else urls.server,
        "html_url": f"{urls.server}/apps/{slug}",
        "created_at": "2018-07-30T09:30:17Z",
        "updated_at": "2024-04-10T20:33:16Z",
        "permissions": {
            "checks": "write",
            "contents": "write",
            "issues": "write",
            "metadata": "read",
            "pull_requests": "write",
            "statuses": "write",
        },
        "events": ["check_run", "issue_comment", "pull_request", "push"],
    }


def check_run(urls: Urls, repo: Repo, run: CheckRun, app_json: Json, pulls: list[Json]) -> Json:
    """check-run."""
    api = f"{urls.repo_api(repo)}/check-runs/{run.id}"
    return {
        "id": run.id,
        "name": run.name,
        "node_id": node_id("CheckRun", run.id),
        "head_sha": run.head_sha,
        "external_id": run.external_id or "",
        "url": api,
        "html_url": f"{urls.repo_html(repo)}/runs/{run.id}",
        "details_url": run.details_url or f"{urls.repo_html(repo)}/runs/{run.id}",
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "output": {
            "title": run.output["title"],
            "summary": run.output["summary"],
            "text": run.output["text"],
            "annotations_count": len(run.annotations),
            "annotations_url": f"{api}/annotations",
        },
        "check_suite": {"id": run.suite_id},
        "app": app_json,
        "pull_requests": pulls,
    }


def annotation(run: CheckRun, item: dict[str, Any]) -> Json:
    """check-annotation, for GET .../check-runs/{id}/annotations."""
    return {
        "path": item["path"],
        "start_line": item["start_line"],
        "end_line": item["end_line"],
        "start_column": item.get("start_column"),
        "end_column": item.get("end_column"),
        "annotation_level": item["annotation_level"],
        "title": item.get("title"),
        "message": item["message"],
        "raw_details": item.get("raw_details"),
        "blob_href": f"/blob/{run.head_sha}/{item['path']}",
    }


def pull_request_minimal(
    urls: Urls, repo: Repo, head_repo: Repo, pr: PullRequest, base_sha: str
) -> Json:
    def side(where: Repo, ref: str, sha: str) -> Json:
        return {
            "ref": ref,
            "sha": sha,
            "repo": {"id": where.id, "url": urls.repo_api(where), "name": where.name},
        }

    return {
        "id": pr.id,
        "number": pr.number,
        "url": f"{urls.repo_api(repo)}/pulls/{pr.number}",
        "head": side(head_repo, pr.head_ref, pr.head_sha),
        "base": side(repo, pr.base_ref, base_sha),
    }


def status(urls: Urls, repo: Repo, item: Status, creator: User) -> Json:
    """status."""
    return {
        "url": f"{urls.repo_api(repo)}/statuses/{item.sha}",
        "avatar_url": user(urls, creator)["avatar_url"],
        "id": item.id,
        "node_id": node_id("StatusContext", item.id),
        "state": item.state,
        "description": item.description,
        "target_url": item.target_url,
        "context": item.context,
        "created_at": item.created_at,
        "updated_at": item.created_at,
        "creator": user(urls, creator),
    }


def combined_status(urls: Urls, repo: Repo, sha: str, latest: list[Json], repo_json: Json) -> Json:
    """combined-commit-status: failure beats pending beats success; none is pending."""
    states = [item["state"] for item in latest]
    if any(state in ("error", "failure") for state in states):
        state = "failure"
    elif not states or "pending" in states:
        state = "pending"
    else:
        state = "success"
    simple_keys = (
        "url",
        "avatar_url",
        "id",
        "node_id",
        "state",
        "description",
        "target_url",
        "context",
        "created_at",
        "updated_at",
    )
    return {
        "state": state,
        "statuses": [{**{k: item[k] for k in simple_keys}, "required": False} for item in latest],
        "sha": sha,
        "total_count": len(latest),
        "repository": repo_json,
        "commit_url": f"{urls.repo_api(repo)}/commits/{sha}",
        "url": f"{urls.repo_api(repo)}/commits/{sha}/status",
    }


def _git_person(person: Any) -> Json:
    return {"name": person.name, "email": person.email, "date": person.date}


def verification(verified: bool, when: str) -> Json:
    return {
        "verified": verified,
        "reason": "valid" if verified else "unsigned",
        "signature": None,
        "payload": None,
        "verified_at": when if verified else None,
    }


def git_commit(urls: Urls, repo: Repo, info: CommitInfo) -> Json:
    """git-commit, for the Git Data API."""
    api = urls.repo_api(repo)
    verified = info.sha in repo.verified_commits
    return {
        "sha": info.sha,
        "node_id": node_id("Commit", int(info.sha[:12], 16)),
        "url": f"{api}/git/commits/{info.sha}",
        "html_url": f"{urls.repo_html(repo)}/commit/{info.sha}",
        "author": _git_person(info.author),
        "committer": _git_person(info.committer),
        "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
        "message": info.message,
        "parents": [
            {
                "sha": parent,
                "url": f"{api}/git/commits/{parent}",
                "html_url": f"{urls.repo_html(repo)}/commit/{parent}",
            }
            for parent in info.parents
        ],
        "verification": verification(verified, info.committer.date),
    }


def commit(urls: Urls, repo: Repo, info: CommitInfo) -> Json:
    """commit, for GET /repos/{owner}/{repo}/commits/{ref} (without the file list)."""
    api = urls.repo_api(repo)
    html = f"{urls.repo_html(repo)}/commit/{info.sha}"
    verified = info.sha in repo.verified_commits
    return {
        "url": f"{api}/commits/{info.sha}",
        "sha": info.sha,
        "node_id": node_id("Commit", int(info.sha[:12], 16)),
        "html_url": html,
        "comments_url": f"{api}/commits/{info.sha}/comments",
        "commit": {
            "url": f"{api}/git/commits/{info.sha}",
            "author": _git_person(info.author),
            "committer": _git_person(info.committer),
            "message": info.message,
            "comment_count": 0,
            "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
            "verification": verification(verified, info.committer.date),
        },
        "author": None,
        "committer": None,
        "parents": [
            {
                "sha": parent,
                "url": f"{api}/commits/{parent}",
                "html_url": f"{urls.repo_html(repo)}/commit/{parent}",
            }
            for parent in info.parents
        ],
        "files": [],
    }


def tree(urls: Urls, repo: Repo, sha: str, entries: list[TreeEntry]) -> Json:
    """git-tree."""
    api = urls.repo_api(repo)
    items = []
    for entry in entries:
        kind = {"blob": "blobs", "tree": "trees"}.get(entry.type)
        item: Json = {"path": entry.path, "mode": entry.mode, "type": entry.type, "sha": entry.sha}
        if entry.size is not None:
            item["size"] = entry.size
        if kind:
            item["url"] = f"{api}/git/{kind}/{entry.sha}"
        items.append(item)
    return {"sha": sha, "url": f"{api}/git/trees/{sha}", "tree": items, "truncated": False}


def short_blob(urls: Urls, repo: Repo, sha: str) -> Json:
    return {"url": f"{urls.repo_api(repo)}/git/blobs/{sha}", "sha": sha}


def blob(urls: Urls, repo: Repo, sha: str, content: bytes) -> Json:
    encoded = base64.encodebytes(content).decode()
    return {
        **short_blob(urls, repo, sha),
        "node_id": node_id("Blob", int(sha[:12], 16)),
        "size": len(content),
        "content": encoded,
        "encoding": "base64",
    }


def git_ref(urls: Urls, repo: Repo, ref: str, sha: str, kind: str) -> Json:
    """git-ref; its `url` uses the plural `git/refs`, which PyGithub PATCHes."""
    api = urls.repo_api(repo)
    return {
        "ref": ref,
        "node_id": node_id("Ref", int(hashlib.sha1(ref.encode()).hexdigest()[:12], 16)),
        "url": f"{api}/git/{ref}",
        "object": {"type": kind, "sha": sha, "url": f"{api}/git/{kind}s/{sha}"},
    }
