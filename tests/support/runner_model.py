"""Shared test builders."""

from __future__ import annotations


class RunnerModel:
    """The runner's reading of a job log: which commands it would run, with what data."""

    def __init__(self) -> None:
        self.stop_token: str | None = None
        self.commands: list[tuple[str, dict[str, str], str]] = []

    def feed(self, text: str) -> list[tuple[str, dict[str, str], str]]:
        for line in text.split("\n"):
            self._line(line)
        return self.commands

    def _line(self, line: str) -> None:
        registered = REGISTERED | ({self.stop_token} if self.stop_token else set())
        parsed = _parse_v2(line, registered) or _parse_v1(line, registered)
        if parsed is None:
            return
        name, _, data = parsed
        if self.stop_token is not None:
            if name.lower() == self.stop_token.lower():
                self.stop_token = None
            return
        if name == "stop-commands":
            self.stop_token = data
            return
        self.commands.append(parsed)


def read_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIM` heredocs."""
    found: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            while lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            index += 1
            found[name] = "\n".join(value)
        else:
            name, value = line.split("=", 1)
            found[name] = value
    return found


# What actions/runner registers as commands (besides a stop token while stopped).
REGISTERED = {
    "add-mask", "add-matcher", "debug", "echo", "endgroup", "error", "group", "notice",
    "remove-matcher", "save-state", "set-env", "set-output", "stop-commands", "warning",
}  # fmt: skip


def _parse_v2(line: str, registered: set[str]) -> tuple[str, dict[str, str], str] | None:
    message = line.lstrip()
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    name, _, props = info.partition(" ")
    if name.lower() not in {r.lower() for r in registered}:
        return None
    properties = {}
    for item in props.strip().split(","):
        key, sep, value = item.partition("=")
        if sep and key and value:
            properties[key] = _unescape(value, property_value=True)
    return name, properties, _unescape(message[end + 2 :], property_value=False)


def _parse_v1(line: str, registered: set[str]) -> tuple[str, dict[str, str], str] | None:
    start = line.find("##[")
    end = line.find("]", start) if start >= 0 else -1
    if end < 0:
        return None
    name = line[start + 3 : end].split(" ")[0]
    if name.lower() not in {r.lower() for r in registered}:
        return None
    return name, {}, line[end + 1 :]


def _unescape(text: str, property_value: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")]
    if property_value:
        pairs += [("%3A", ":"), ("%2C", ",")]
    for escaped, plain in [*pairs, ("%25", "%")]:
        text = text.replace(escaped, plain)
    return text
