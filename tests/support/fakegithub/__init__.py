"""A fake GitHub for the test suite: REST (as PyGithub calls it), git smart HTTP, webhook
payloads, all checked against GitHub's OpenAPI descriptions.

    from github import Auth, Github

    def test_something(fake_github, tmp_path):      # fixture from fakegithub.plugin
        fake_github.create_repo("octo/app", source=local_repo_path)
        pr = fake_github.open_pr("octo/app", head="feature")
        token = fake_github.make_token()           # a GITHUB_TOKEN: github-actions[bot]
        gh = Github(base_url=fake_github.api_url, auth=Auth.Token(token),
                    seconds_between_requests=0, seconds_between_writes=0)
        gh.get_repo("octo/app").get_pull(pr.number).create_issue_comment("hi")
"""

from .events import Event, InvalidEventError
from .fake import API_PREFIX, FakeGitHub
from .openapi import SpecMissingError, rest_spec, spec_files, webhook_spec
from .server import LoggedRequest
from .state import ACTIONS_LOGIN, CheckRun, Comment, Issue, PullRequest, Repo, Status, Token

__all__ = [
    "ACTIONS_LOGIN",
    "API_PREFIX",
    "CheckRun",
    "Comment",
    "Event",
    "FakeGitHub",
    "InvalidEventError",
    "Issue",
    "LoggedRequest",
    "PullRequest",
    "Repo",
    "SpecMissingError",
    "Status",
    "Token",
    "rest_spec",
    "spec_files",
    "webhook_spec",
]
