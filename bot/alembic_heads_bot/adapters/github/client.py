"""A PyGithub connection tuned for a CI bot, and GitHub's errors turned into plain sentences.

Reads (GET) are retried by PyGithub on 5xx and on rate limits it may wait out (at most a
minute; the job should not sit for an hour). Writes are not retried by PyGithub: a POST that
GitHub carried out but whose answer was lost would run twice (two comments). `write()` retries
a write once, after asking the caller's `settled()` whether the first attempt landed after all.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TypeVar

import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait

T = TypeVar("T")

MAX_RATE_LIMIT_WAIT = 60  # seconds the bot waits for a rate limit to pass before giving up
_RETRY_AFTER_CAP = 60
_TIMEOUT = 30
_RETRIED_READS = frozenset({"GET", "HEAD"})


class ApiFailure(Exception):
    """A GitHub API call failed for good; the message says what, why, and what to do."""


def connect(api_url: str, token: str) -> Github:
    # PyGithub logs each retry to stderr; the bot says once, in its own words, what failed.
    logging.getLogger("github").setLevel(logging.WARNING)
    retry = GithubRetry(
        total=3,
        backoff_factor=1,
        allowed_methods=_RETRIED_READS,
        max_rate_limit_wait=MAX_RATE_LIMIT_WAIT,
        secondary_rate_wait=MAX_RATE_LIMIT_WAIT,
    )
    return Github(
        base_url=api_url.rstrip("/"),
        auth=Auth.Token(token) if token else None,
        retry=retry,
        timeout=_TIMEOUT,
        per_page=100,
        # GitHub asks integrations to space out writes by a second; reads need no pause.
        seconds_between_requests=None,
        seconds_between_writes=1.0,
        lazy=True,
    )


def read(what: str, call: Callable[[], T], permission: str | None = None) -> T:
    """Run a read; ApiFailure saying `what` failed and why."""
    try:
        return call()
    except Exception as exc:
        raise ApiFailure(explain(what, exc, permission)) from exc


def write(
    what: str,
    call: Callable[[], T],
    permission: str | None = None,
    settled: Callable[[], T | None] | None = None,
) -> T:
    """Run a write, once more after a transient failure (5xx, lost connection, a secondary
    rate limit that asks for a short wait). Before the second attempt, `settled()` may return
    the result the first attempt produced after all, and then nothing is sent again."""
    try:
        return call()
    except Exception as exc:
        pause = _transient(exc)
        if pause is None:
            raise ApiFailure(explain(what, exc, permission)) from exc
    time.sleep(pause)
    try:
        landed = settled() if settled is not None else None
        return landed if landed is not None else call()
    except Exception as exc:
        raise ApiFailure(explain(what, exc, permission, retried=True)) from exc


def _transient(exc: Exception) -> float | None:
    """Seconds to wait before trying again, or None when trying again cannot help."""
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return 1.0
    if not isinstance(exc, GithubException) or isinstance(exc, RateLimitExceededExceedsMaxWait):
        return None
    if exc.status >= 500:
        return 1.0
    after = (exc.headers or {}).get("retry-after") or (exc.headers or {}).get("Retry-After")
    if exc.status in (403, 429) and after and after.isdigit() and int(after) <= _RETRY_AFTER_CAP:
        return float(after)
    return None


def explain(what: str, exc: Exception, permission: str | None = None, retried: bool = False) -> str:
    """One sentence: what failed, GitHub's reason, and the fix when there is an obvious one."""
    again = " (also when tried again)" if retried else ""
    if isinstance(exc, RateLimitExceededExceedsMaxWait):
        return f"cannot {what}: {_rate_limit_text(exc)}{again}"
    if isinstance(exc, requests.exceptions.RetryError):
        # urllib3 gave up retrying: "... (Caused by ResponseError('too many 502 error responses'))"
        status = re.search(r"too many (\d+) error", str(exc))
        if status and status.group(1) != "403":
            return f"cannot {what}: GitHub kept answering {status.group(1)}, also when retried"
        return f"cannot {what}: {_rate_limit_text(exc)}"
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return f"cannot {what}: GitHub's API could not be reached ({type(exc).__name__}){again}"
    if not isinstance(exc, GithubException):
        return f"cannot {what}: {type(exc).__name__}: {exc}"
    message = _message(exc)
    lowered = message.lower()
    if exc.status == 401:
        return f"cannot {what}: GitHub rejected the token (401 {message}); check github-token"
    if exc.status in (403, 429) and ("rate limit" in lowered or "retry" in lowered):
        return f"cannot {what}: {_rate_limit_text(exc)}{again}"
    if exc.status == 403 and "not accessible by integration" in lowered and permission:
        return (
            f"cannot {what}: the token lacks the permission (403 {message}); give the "
            f"workflow `permissions: {permission}: write`"
        )
    return f"cannot {what}: GitHub answered {exc.status} {message}{again}"


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    message = str(data.get("message") or exc.data or "").strip()
    errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
    details = [str(e.get("message") or e.get("code")) for e in errors]
    return f"{message}: {'; '.join(details)}" if details else message


def _rate_limit_text(exc: Exception) -> str:
    headers = getattr(exc, "headers", None) or {}
    reset = headers.get("x-ratelimit-reset") or headers.get("X-RateLimit-Reset")
    if isinstance(exc, requests.exceptions.RetryError) or not reset or not str(reset).isdigit():
        return "GitHub's API rate limit is exhausted; run the job again later"
    at = datetime.fromtimestamp(int(reset), timezone.utc).strftime("%H:%M UTC")
    return f"GitHub's API rate limit is exhausted until {at}; run the job again after that"
