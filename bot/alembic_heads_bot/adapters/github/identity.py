"""Who the bot is on GitHub: the login its comments carry, so that it edits only its own.

Learned for free from the status the bot just set (a check run names its app, a commit status
its creator); otherwise asked once from GET /user, which an app's installation token (the
workflow's GITHUB_TOKEN among them) may not call: that token comments as github-actions[bot].
"""

from __future__ import annotations

from github import Github, GithubException

from alembic_heads_bot.adapters.github.client import ApiFailure, explain

ACTIONS_LOGIN = "github-actions[bot]"


class Identity:
    def __init__(self, gh: Github) -> None:
        self._gh = gh
        self._login: str | None = None

    def learn(self, login: str | None) -> None:
        if login:
            self._login = login

    def login(self) -> str:
        if self._login is None:
            self._login = self._ask()
        return self._login

    def _ask(self) -> str:
        try:
            return self._gh.get_user().login
        except GithubException as exc:
            if exc.status == 403:  # an installation token: GET /user is not for apps
                return ACTIONS_LOGIN
            raise ApiFailure(explain("find out which account the token belongs to", exc)) from exc
        except Exception as exc:
            raise ApiFailure(explain("find out which account the token belongs to", exc)) from exc
