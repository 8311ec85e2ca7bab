"""GitHub's own OpenAPI descriptions as validators for what the fake sends.

The REST description (`@octokit/openapi`, OpenAPI 3.0.3) says what every response of every
operation looks like; the webhook description (`@octokit/openapi-webhooks`, OpenAPI 3.1) says
what event payloads look like. Both come from npm into tests/node_modules (`npm ci --prefix
tests`). Each document is loaded once per process and each validator is built on first use.

OpenAPI 3.0 is not JSON Schema: `nullable: true` is turned into a type union (or an `anyOf`
with null) before validation. The 3.1 webhook document already is JSON Schema 2020-12.
"""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT202012

TESTS_DIR = Path(__file__).resolve().parents[2]
_REST_FILE = "node_modules/@octokit/openapi/generated/api.github.com.json"
_WEBHOOK_FILE = "node_modules/@octokit/openapi-webhooks/generated/api.github.com.json"
_REST_URI = "urn:github-openapi-rest"
_WEBHOOK_URI = "urn:github-openapi-webhooks"
_MAX_ERRORS = 5
# Parameters whose values may contain slashes (refs, branch names, file paths).
_SLASHED = {"ref", "path", "branch", "basehead", "tag", "file_path"}


class SpecMissingError(RuntimeError):
    """The npm packages holding GitHub's OpenAPI descriptions are not installed."""


@dataclass(frozen=True)
class SpecFiles:
    rest: Path
    webhooks: Path


def spec_files(tests_dir: Path = TESTS_DIR) -> SpecFiles:
    """Where the two description files are; SpecMissingError saying how to install them."""
    files = SpecFiles(rest=tests_dir / _REST_FILE, webhooks=tests_dir / _WEBHOOK_FILE)
    missing = [str(path) for path in (files.rest, files.webhooks) if not path.is_file()]
    if missing:
        raise SpecMissingError(
            "GitHub's OpenAPI descriptions are missing: "
            + ", ".join(missing)
            + ". Run `make test`, or install them with "
            f"`npm ci --prefix {tests_dir}` (npm packages @octokit/openapi and "
            "@octokit/openapi-webhooks, pinned in tests/package-lock.json)."
        )
    return files


@dataclass(frozen=True)
class Operation:
    """One REST operation of the description: a method on a path template."""

    method: str  # upper case
    template: str  # e.g. /repos/{owner}/{repo}/pulls/{pull_number}
    operation_id: str
    params: tuple[tuple[str, str], ...]  # path parameters taken from the matched path


def _nullable_to_json_schema(node: Any) -> None:
    """Rewrite OpenAPI 3.0 `nullable` in place, everywhere in the document."""
    if isinstance(node, list):
        for item in node:
            _nullable_to_json_schema(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _nullable_to_json_schema(value)
    if node.pop("nullable", False) is not True:
        return
    if isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        return
    # No plain type (oneOf/anyOf/allOf or nothing): null is an alternative to the rest.
    rest = {key: node.pop(key) for key in list(node) if key not in ("description", "title")}
    node["anyOf"] = [{"type": "null"}, rest]


def _format_checker() -> jsonschema.FormatChecker:
    """Checks the formats whose violations a fake is likely to commit, without extra deps."""
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
            return False
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    @checker.checks("uri")
    def is_uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urllib.parse.urlsplit(value)
        return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("mailto", "urn"))

    return checker


def _describe(errors: list[jsonschema.ValidationError], context: str) -> list[str]:
    described = []
    for error in sorted(errors, key=lambda e: list(e.absolute_path))[:_MAX_ERRORS]:
        message = error.message if len(error.message) < 300 else error.message[:300] + "..."
        described.append(f"{context}: at {error.json_path}: {message}")
    if len(errors) > _MAX_ERRORS:
        described.append(f"{context}: ... and {len(errors) - _MAX_ERRORS} more errors")
    return described


def _pointer(*segments: str) -> str:
    escaped = (s.replace("~", "~0").replace("/", "~1") for s in segments)
    return urllib.parse.quote("/" + "/".join(escaped), safe="/~")


class _Validators:
    """Validators against schemas inside one document, built on first use and kept."""

    def __init__(self, document: dict[str, Any], uri: str) -> None:
        self._uri = uri
        resource = DRAFT202012.create_resource(document)
        self._registry: Registry = Registry().with_resource(uri, resource)
        self._checker = _format_checker()
        self._cache: dict[str, jsonschema.protocols.Validator] = {}

    def errors(self, pointer: str, instance: Any, context: str) -> list[str]:
        validator = self._cache.get(pointer)
        if validator is None:
            schema = {"$ref": f"{self._uri}#{pointer}"}
            validator = jsonschema.Draft202012Validator(
                schema, registry=self._registry, format_checker=self._checker
            )
            self._cache[pointer] = validator
        return _describe(list(validator.iter_errors(instance)), context)


class RestSpec:
    """The REST description: matches requests to operations and validates responses."""

    def __init__(self, document: dict[str, Any]) -> None:
        _nullable_to_json_schema(document.get("components", {}))
        _nullable_to_json_schema(document.get("paths", {}))
        self._doc = document
        self._validators = _Validators(document, _REST_URI)
        self._routes = self._compile_routes(document["paths"])

    @staticmethod
    def _compile_routes(paths: dict[str, Any]) -> list[tuple[int, re.Pattern[str], str, bool]]:
        """(literal length, regex, template, greedy) per template and matching mode.

        A parameter first matches one path segment. Only if no template matches that way may
        a ref, branch or file path parameter span segments; among matches the template with
        the most literal text wins (`pulls/comments` over `pulls/{number}`).
        """
        routes = []
        for template in paths:
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            for greedy in (False, True):
                regex = ""
                for part in re.split(r"(\{[^}]+\})", template):
                    if part.startswith("{"):
                        name = part[1:-1]
                        value = ".+" if greedy and name in _SLASHED else "[^/]+"
                        group = re.sub(r"\W", "_", name)
                        regex += f"(?P<{group}>{value})"
                    else:
                        regex += re.escape(part)
                routes.append((literal, re.compile(regex + r"\Z"), template, greedy))
        return routes

    def match(self, method: str, path: str) -> Operation | None:
        """The operation for `method` on `path` (no API prefix, no query), or None."""
        method = method.lower()
        for greedy in (False, True):
            best: tuple[int, re.Match[str], str] | None = None
            for literal, regex, template, is_greedy in self._routes:
                if is_greedy != greedy or method not in self._doc["paths"][template]:
                    continue
                found = regex.match(path)
                if found and (best is None or literal > best[0]):
                    best = (literal, found, template)
            if best is not None:
                _, found, template = best
                operation = self._doc["paths"][template][method]
                params = tuple(
                    (name, urllib.parse.unquote(value)) for name, value in found.groupdict().items()
                )
                return Operation(method.upper(), template, operation["operationId"], params)
        return None

    def _response_schema_pointer(self, op: Operation, status: int) -> tuple[str | None, bool]:
        """(pointer to the JSON schema or None for "no body", declared?) for a status."""
        responses = self._doc["paths"][op.template][op.method.lower()]["responses"]
        key = str(status)
        if key not in responses:
            return None, False
        response = responses[key]
        base = ("paths", op.template, op.method.lower(), "responses", key)
        if "$ref" in response:
            name = response["$ref"].rsplit("/", 1)[-1]
            response = self._doc["components"]["responses"][name]
            base = ("components", "responses", name)
        if "application/json" not in response.get("content", {}):
            return None, True
        return _pointer(*base, "content", "application/json", "schema"), True

    def validate_response(self, op: Operation, status: int, body: bytes) -> list[str]:
        """Violations of the description by one response (empty when it conforms)."""
        context = f"{op.method} {op.template} ({op.operation_id}) -> {status}"
        pointer, declared = self._response_schema_pointer(op, status)
        if not declared:
            if status < 400:
                return [f"{context}: status {status} is not declared for this operation"]
            # GitHub answers any operation with errors the description does not list for it
            # (403 for a token without permission, rate limits, 5xx): they are basic errors.
            pointer = _pointer("components", "schemas", "basic-error")
        if pointer is None:
            return [f"{context}: body sent where none is declared"] if body else []
        try:
            instance = json.loads(body)
        except ValueError:
            return [f"{context}: body is not JSON: {body[:80]!r}"]
        return self._validators.errors(pointer, instance, context)


class WebhookSpec:
    """The webhook description: validates event payloads."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._doc = document
        self._validators = _Validators(document, _WEBHOOK_URI)

    def key(self, event: str, action: str | None) -> str:
        """The description's name for an event and action, e.g. pull-request-opened."""
        name = event.removesuffix("_target")  # pull_request_target carries pull_request's
        return "-".join(part.replace("_", "-") for part in (name, action) if part)

    def validate(self, event: str, payload: dict[str, Any]) -> list[str]:
        """Violations of the description by an event payload (empty when it conforms)."""
        key = self.key(event, payload.get("action"))
        if key not in self._doc["webhooks"]:
            return [f"webhook {key}: no such event and action in the webhook description"]
        pointer = _pointer("webhooks", key, "post", "requestBody", "content", "application/json")
        return self._validators.errors(pointer + "/schema", payload, f"webhook {key}")


@functools.cache
def rest_spec() -> RestSpec:
    """The REST description, loaded and converted once per process."""
    return RestSpec(json.loads(spec_files().rest.read_bytes()))


@functools.cache
def webhook_spec() -> WebhookSpec:
    """The webhook description, loaded once per process."""
    return WebhookSpec(json.loads(spec_files().webhooks.read_bytes()))
