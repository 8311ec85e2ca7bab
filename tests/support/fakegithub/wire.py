"""What REST handlers receive and return, and GitHub's error bodies."""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .state import Repo, Token

if TYPE_CHECKING:
    from .fake import FakeGitHub

DOCS = "https://docs.github.com/rest"
NOT_ACCESSIBLE_APP = "Resource not accessible by integration"
NOT_ACCESSIBLE_PAT = "Resource not accessible by personal access token"


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able; None sends no body
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An error answer, with GitHub's body: message, documentation_url, status[, errors]."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def reply(self) -> Reply:
        body: dict[str, Any] = {
            "message": self.message,
            "documentation_url": DOCS,
            "status": str(self.status),
        }
        if self.errors is not None:
            body["errors"] = list(self.errors)
        return Reply(self.status, body, dict(self.headers))


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def invalid(message: str, *, field_name: str | None = None, code: str = "invalid") -> ApiError:
    """422 Validation Failed with one error item, as GitHub reports a bad field."""
    item: dict[str, Any] = {"code": code, "message": message}
    if field_name:
        item["field"] = field_name
    return ApiError(422, "Validation Failed", errors=[item])


@dataclass
class Call:
    """One API request, as a handler sees it."""

    fake: FakeGitHub
    method: str
    params: dict[str, str]  # path parameters of the matched operation
    query: dict[str, str]
    body: Any
    token: Token | None
    url: str  # the absolute request URL (for pagination links)

    def json_field(
        self, name: str, kind: type | tuple[type, ...], *, required: bool = False
    ) -> Any:
        """A field of the JSON body, checked for type; 422 when wrong or missing."""
        body = self.body if isinstance(self.body, dict) else {}
        if name not in body or body[name] is None:
            if required:
                raise invalid(f'"{name}" wasn\'t supplied.', field_name=name, code="missing_field")
            return None
        value = body[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise invalid(f"Invalid value for {name}", field_name=name)
        return value

    def repo(self, scopes: str | Iterable[str], level: str) -> Repo:
        """The repository named in the path, after checking the token may do `level` on it.

        Reads of a private repository without a token answer 404 (GitHub hides it); writes
        without a token answer 401; a token lacking every one of `scopes` answers 403.
        """
        full_name = f"{self.params['owner']}/{self.params['repo']}"
        repo = self.fake.repos.get(full_name.lower())
        if self.token is None:
            if repo is None or repo.private:
                raise not_found()
            if level == "write":
                raise ApiError(401, "Requires authentication")
            return repo
        if repo is None:
            raise not_found()
        names = [scopes] if isinstance(scopes, str) else list(scopes)
        if not any(self.token.allows(scope, level) for scope in names):
            message = NOT_ACCESSIBLE_APP if self.token.is_app else NOT_ACCESSIBLE_PAT
            raise ApiError(403, message)
        return repo

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise not_found() from None

    def paginate(
        self, items: Sequence[Any], *, wrap: str | None = None, extra: Any = None
    ) -> Reply:
        """One page of `items` (`per_page` ≤ 100, default 30; `page` from 1), with GitHub's
        Link header. With `wrap`, the page is {"total_count": n, wrap: items}."""
        per_page = min(max(_int(self.query.get("per_page"), 30), 1), 100)
        page = max(_int(self.query.get("page"), 1), 1)
        chunk = list(items[(page - 1) * per_page : page * per_page])
        last = max(1, math.ceil(len(items) / per_page))
        links = []
        if page < last:
            links += [(page + 1, "next"), (last, "last")]
        if page > 1:
            links += [(1, "first"), (page - 1, "prev")]
        headers = {}
        if links:
            headers["Link"] = ", ".join(f'<{self._page_url(n)}>; rel="{rel}"' for n, rel in links)
        body = chunk if wrap is None else {"total_count": len(items), wrap: chunk, **(extra or {})}
        return Reply(200, body, headers)

    def _page_url(self, page: int) -> str:
        parts = urllib.parse.urlsplit(self.url)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "page"]
        query.append(("page", str(page)))
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
