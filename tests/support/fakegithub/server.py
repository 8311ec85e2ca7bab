"""The fake's HTTP side: routing, authentication, failure injection, validation, the request
log, and git's smart HTTP protocol through `git http-backend`."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import http
import json
import os
import re
import subprocess
import time
import traceback
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from .bare import GIT_ENV
from .openapi import rest_spec
from .rest import HANDLERS
from .state import Token
from .wire import ApiError, Call, Reply

if TYPE_CHECKING:
    from email.message import Message

    from .fake import FakeGitHub

DROPPED = 0  # the status logged for a request whose connection was closed without an answer
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
_GIT_PATH = re.compile(r"/(?P<owner>[^/]+)/(?P<repo>[^/]+?)\.git(?P<rest>/.*)")


@dataclass(frozen=True)
class LoggedRequest:
    """One request the fake answered."""

    method: str
    path: str  # API path without the /api/v3 prefix (/repos/o/r/pulls/1), or a git path
    query: str
    status: int
    operation: str | None  # GitHub's operationId; "git" for smart HTTP; None if unmatched
    login: str | None  # whose token it carried


@dataclass
class Failure:
    """An injected failure: the next `times` requests matching method and path glob."""

    method: str
    path: str
    status: int
    times: int
    rate_limit: str | None
    reset_in: int
    retry_after: int | None
    message: str | None
    after: bool = False  # carry the request out, then answer with the failure
    drop: bool = False  # close the connection without any answer instead

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and fnmatch.fnmatchcase(path, self.path)

    def reply(self, token: Token | None) -> Reply:
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.rate_limit == "primary":
            reset = int(time.time()) + self.reset_in
            headers.update(_rate_headers(remaining=0, reset=reset))
            if token is None:
                message = (
                    "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
                    "Authenticated requests get a higher rate limit. Check out the documentation "
                    "for more details.)"
                )
            else:
                who = "installation ID 4242" if token.is_app else "user ID 1"
                message = f"API rate limit exceeded for {who}."
            message = self.message or message
            return Reply(403, {"message": message, "documentation_url": RATE_LIMIT_DOCS}, headers)
        if self.rate_limit == "secondary":
            message = self.message or (
                "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                "try again. If you reach out to GitHub Support for help, please include the "
                "request ID 0400:1F2E:3D4C:5B6A:7988."
            )
            return Reply(403, {"message": message, "documentation_url": RATE_LIMIT_DOCS}, headers)
        phrase = http.HTTPStatus(self.status).phrase
        error = ApiError(self.status, self.message or phrase, headers=headers)
        if self.status == 422:
            error.errors = []
        return error.reply()


def _rate_headers(*, remaining: int, reset: int) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset),
        "X-RateLimit-Used": str(5000 - remaining),
        "X-RateLimit-Resource": "core",
    }


def token_from_header(value: str | None) -> str | None:
    """The token in an Authorization header: `token T`, `Bearer T`, or basic with T as the
    password (git's x-access-token:T) or, with no password, as the user name."""
    if not value:
        return None
    scheme, _, credentials = value.strip().partition(" ")
    scheme = scheme.lower()
    if scheme in ("token", "bearer"):
        return credentials.strip()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        user, _, password = decoded.partition(":")
        return password or user
    return ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeGitHub) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and git's `Expect: 100-continue` works
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and
    # delayed ACKs cost 40 ms per keep-alive request.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the fake keeps its own request log."""

    def do_GET(self) -> None:
        dispatch(self.server.fake, self)

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def dispatch(fake: FakeGitHub, handler: _Handler) -> None:
    """Answer one request, log it, and check the answer against GitHub's description."""
    parts = urllib.parse.urlsplit(handler.path)
    body = handler.read_body()
    prefix = fake.api_prefix
    with fake.lock:
        if parts.path == prefix or parts.path.startswith(prefix + "/"):
            api_path = parts.path[len(prefix) :] or "/"
            status, headers, payload, operation, login = _api(
                fake, handler.command, api_path, parts.query, handler.headers, body
            )
            logged_path = api_path
        elif _GIT_PATH.fullmatch(parts.path):
            status, headers, payload, login = _git(
                fake, handler.command, parts.path, parts.query, handler.headers, body
            )
            operation, logged_path = "git", parts.path
        else:
            status, headers, payload, operation, login = 404, {}, b"Not Found", None, None
            logged_path = parts.path
            fake.violations.append(f"{handler.command} {parts.path}: not an API or git URL")
        fake.requests.append(
            LoggedRequest(handler.command, logged_path, parts.query, status, operation, login)
        )
    if status == DROPPED:  # the answer is lost on the way: the client sees the connection end
        handler.close_connection = True
        return
    handler.send(status, headers, payload)


def _api(
    fake: FakeGitHub, method: str, path: str, query: str, headers: Message, body: bytes
) -> tuple[int, dict[str, str], bytes, str | None, str | None]:
    spec = rest_spec()
    operation = spec.match(method, path)
    token: Token | None = None
    login = None
    try:
        if operation is None:
            fake.violations.append(f"{method} {path}: no such operation in GitHub's description")
            raise ApiError(404, "Not Found")
        token = _authenticate(fake, headers.get("Authorization"))
        login = token.login if token else None
        fake.run_hooks(method, path)
        failure = fake.take_failure(method, path)
        if failure is not None and not failure.after:
            reply = failure.reply(token)
        else:
            reply = _call(
                fake,
                operation.operation_id,
                method,
                path,
                query,
                body,
                token,
                dict(operation.params),
            )
            if failure is not None:  # done, but the answer is lost on the way
                reply = failure.reply(token)
        if failure is not None and failure.drop:
            return DROPPED, {}, b"", operation.operation_id, login
    except ApiError as error:
        reply = error.reply()
    except Exception:  # a bug in the fake: fail the test loudly, not with a dropped connection
        fake.violations.append(f"{method} {path}: the fake crashed:\n{traceback.format_exc()}")
        reply = ApiError(500, "The fake GitHub crashed; see its violations").reply()
    payload = b"" if reply.body is None else json.dumps(reply.body).encode()
    if operation is not None and fake.validate:
        fake.violations.extend(spec.validate_response(operation, reply.status, payload))
    out = {
        **_rate_headers(remaining=4999, reset=int(time.time()) + 3600),
        "X-GitHub-Request-Id": f"FAKE:{len(fake.requests) + 1}",
        "X-GitHub-Media-Type": "github.v3; format=json",
        **reply.headers,
    }
    if payload:
        out["Content-Type"] = "application/json; charset=utf-8"
    return reply.status, out, payload, operation.operation_id if operation else None, login


def _authenticate(fake: FakeGitHub, header: str | None) -> Token | None:
    value = token_from_header(header)
    if value is None:
        return None
    token = fake.tokens.get(value)
    if token is None:
        raise ApiError(401, "Bad credentials")
    return token


def _call(
    fake: FakeGitHub,
    operation_id: str,
    method: str,
    path: str,
    query: str,
    body: bytes,
    token: Token | None,
    params: dict[str, str],
) -> Reply:
    handler = HANDLERS.get(operation_id)
    if handler is None:
        fake.violations.append(f"{method} {path}: {operation_id} is not implemented by the fake")
        raise ApiError(404, "Not Found")
    try:
        data = json.loads(body) if body.strip() else None
    except ValueError:
        raise ApiError(400, "Problems parsing JSON") from None
    url = f"{fake.api_url}{path}" + (f"?{query}" if query else "")
    values = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    return handler(Call(fake, method, params, values, data, token, url))


def _git(
    fake: FakeGitHub, method: str, path: str, query: str, headers: Message, body: bytes
) -> tuple[int, dict[str, str], bytes, str | None]:
    """Smart HTTP through `git http-backend` (CGI), after GitHub-style token checks."""
    found = _GIT_PATH.fullmatch(path)
    assert found is not None
    repo = fake.repos.get(f"{found['owner']}/{found['repo']}".lower())
    service = dict(urllib.parse.parse_qsl(query)).get("service") or found["rest"].rsplit("/")[-1]
    writing = service == "git-receive-pack"
    value = token_from_header(headers.get("Authorization"))
    token = fake.tokens.get(value) if value else None
    login = token.login if token else None
    challenge = {"WWW-Authenticate": 'Basic realm="GitHub"', "Content-Type": "text/plain"}
    failure = fake.take_failure(method, path)
    if failure is not None:
        text = f"{failure.message or http.HTTPStatus(failure.status).phrase}\n"
        return failure.status, {"Content-Type": "text/plain"}, text.encode(), login
    if value is not None and token is None:
        return 401, challenge, b"Invalid username or token.\n", None
    if repo is None:
        return 404, {"Content-Type": "text/plain"}, b"Repository not found.\n", login
    if token is None and (repo.private or writing):
        return 401, challenge, b"Authentication required.\n", None
    if token is not None and not token.allows("contents", "write" if writing else "read"):
        denied = f"Permission to {repo.full_name}.git denied to {token.login}.\n"
        return 403, {"Content-Type": "text/plain"}, denied.encode(), login
    status, out_headers, payload = _http_backend(
        fake, repo.full_name, found["rest"], method, query, headers, body, login
    )
    if writing and method == "POST":
        fake.sync_pulls(repo)
    return status, out_headers, payload, login


def _http_backend(
    fake: FakeGitHub,
    full_name: str,
    rest: str,
    method: str,
    query: str,
    headers: Message,
    body: bytes,
    login: str | None,
) -> tuple[int, dict[str, str], bytes]:
    env = {
        **GIT_ENV,
        "PATH": os.environ.get("PATH", os.defpath),
        "GIT_PROJECT_ROOT": str(fake.git_root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{full_name}.git{rest}",
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "CONTENT_TYPE": headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_USER": login or "",
        "GIT_PROTOCOL": headers.get("Git-Protocol", ""),
        "HTTP_CONTENT_ENCODING": headers.get("Content-Encoding", ""),
    }
    done = subprocess.run(
        ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
    )
    raw = done.stdout
    split = raw.find(b"\r\n\r\n")
    head, payload = (raw[:split], raw[split + 4 :]) if split >= 0 else raw.partition(b"\n\n")[::2]
    status, out = 200, {}
    for line in head.decode(errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.lower() == "status":
            status = int(value.split()[0])
        elif key:
            out[key.strip()] = value.strip()
    if done.returncode != 0 and status == 200 and not payload:
        status, payload = 500, done.stderr
    return status, out, payload


def start(fake: FakeGitHub) -> _Server:
    return _Server(fake)
