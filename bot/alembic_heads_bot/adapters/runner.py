"""The GitHub Actions runner's side of the action: inputs, outputs, job summary, workflow commands.

A shell module, kept small: it knows how the runner hands data to an action and takes it back,
and nothing about Alembic.

- Inputs arrive as `INPUT_<NAME>` variables: the name upper-cased, spaces turned into `_` and
  dashes KEPT (`github-token` -> `INPUT_GITHUB-TOKEN`), the way the runner builds them.
- Outputs are appended to the `GITHUB_OUTPUT` file in the heredoc form `name<<DELIM`, with a
  random delimiter that occurs nowhere in the value, so a value can never end early or forge
  another output.
- Workflow commands (`::error file=..,line=..::message`) are parsed by the runner from every
  line the action prints. Text that is not ours (file names, messages quoting file contents,
  git's stderr) is escaped with the runner's own rules, and free text is printed so that no
  line of it can be read as a command: see `WorkflowLog.untrusted`.
"""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO, TypeVar

from alembic_heads_bot.engine.errors import CannotJudge

Choice = TypeVar("Choice", bound=str)  # an input's allowed values, often a Literal

# The YAML 1.2 core schema's booleans, as @actions/core's getBooleanInput accepts them.
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_ANNOTATION_LEVELS = ("error", "warning", "notice")


class InputError(CannotJudge):
    """An input the action cannot work with; the message names the input and what it expects."""


# --- inputs ----------------------------------------------------------------------------------


def input_variable(name: str) -> str:
    """The environment variable that carries input `name` (dashes kept, as the runner does)."""
    return f"INPUT_{name.replace(' ', '_').upper()}"


def get_input(environ: Mapping[str, str], name: str, default: str = "") -> str:
    """The input's value, surrounding whitespace removed; `default` when unset or empty."""
    value = environ.get(input_variable(name), "").strip()
    return value or default


def get_choice(
    environ: Mapping[str, str], name: str, choices: Sequence[Choice], default: Choice
) -> Choice:
    """An enumerated input: one of `choices` (compared as written), else InputError."""
    value = get_input(environ, name, default)
    for choice in choices:
        if value == choice:
            return choice
    raise InputError(
        f"input {name}: {value!r} is not one of {', '.join(choices)} (default: {default})"
    )


def get_boolean(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean input: true/True/TRUE or false/False/FALSE, else InputError."""
    value = get_input(environ, name)
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"input {name}: {value!r} is not a boolean (use true or false)")


# --- files the runner reads back -------------------------------------------------------------


def heredoc_delimiter(*values: str) -> str:
    """A random delimiter that occurs in none of `values`."""
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if not any(delimiter in value for value in values):
            return delimiter


def format_output(name: str, value: str) -> str:
    """One output in the GITHUB_OUTPUT heredoc form."""
    if not _OUTPUT_NAME.match(name):
        raise ValueError(f"invalid output name {name!r}")
    delimiter = heredoc_delimiter(name, value)
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(path: str | Path, outputs: Mapping[str, str]) -> None:
    """Append `outputs` to the GITHUB_OUTPUT file."""
    text = "".join(format_output(name, value) for name, value in outputs.items())
    with Path(path).open("a", encoding="utf-8") as stream:
        stream.write(text)


def append_summary(path: str | Path, markdown: str) -> None:
    """Append Markdown to the GITHUB_STEP_SUMMARY file, as its own block."""
    with Path(path).open("a", encoding="utf-8") as stream:
        stream.write(markdown if markdown.endswith("\n") else markdown + "\n")


# --- workflow commands -----------------------------------------------------------------------


def escape_data(text: str) -> str:
    """A command's message, as the runner unescapes it: no line break survives."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command property's value: also no `:` (ends the properties) and no `,` (separates)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **properties: object) -> str:
    """One workflow command line, every part escaped; properties that are None are left out."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
) -> str:
    """An `::error`, `::warning` or `::notice` command, located when `file` is given."""
    if level not in _ANNOTATION_LEVELS:
        raise ValueError(f"annotation level {level!r}: expected one of {_ANNOTATION_LEVELS}")
    return command(level, message, file=file, line=line if file else None, title=title)


def could_be_command(text: str) -> bool:
    """Whether the runner might read a line of `text` as a command: a line starting with `::`
    after leading blanks, or the older `##[name]` form, which it finds anywhere in a line."""
    return "##[" in text or any(line.lstrip().startswith("::") for line in text.splitlines())


class WorkflowLog:
    """What the action prints to the job log, where the runner looks for workflow commands."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout

    def emit(self, line: str) -> None:
        """Print one line we built (a command, or text known to be plain)."""
        self.stream.write(line + "\n")
        self.stream.flush()

    def add_mask(self, secret: str) -> None:
        """Have the runner replace `secret` by *** in the log from now on."""
        if secret.strip():
            self.emit(f"::add-mask::{escape_data(secret)}")

    def annotate(
        self,
        level: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        title: str | None = None,
    ) -> None:
        self.emit(annotation(level, message, file=file, line=line, title=title))

    def error(self, message: str) -> None:
        self.emit(command("error", message))

    def notice(self, message: str) -> None:
        self.emit(command("notice", message))

    def untrusted(self, text: str) -> None:
        """Print free text that may hold anything: when some line could be read as a command,
        the block is wrapped in `::stop-commands::TOKEN` ... `::TOKEN::`, the runner's own
        way to print text verbatim; TOKEN is random and absent from the text."""
        body = text[:-1] if text.endswith("\n") else text
        if not could_be_command(body):
            self.emit(body)
            return
        token = secrets.token_hex(16)
        while token in body:
            token = secrets.token_hex(16)
        self.emit(f"::stop-commands::{token}")
        self.emit(body)
        self.emit(f"::{token}::")
