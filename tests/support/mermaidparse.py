"""Mermaid's real parser for the tests: the `mermaid_parser` fixture, one node process per test
session (per xdist worker), that every test which produces a diagram asks for a verdict.

GitHub renders a ```mermaid block with the npm `mermaid` package; a diagram it cannot parse
(a label that ends early, more than 500 edges) shows as an error bomb instead of a picture.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("mermaid_parse.mjs")
_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.MULTILINE | re.DOTALL)


class MermaidParser:
    def __init__(self) -> None:
        self._process = subprocess.Popen(
            ["node", str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def error(self, diagram: str) -> str | None:
        """Mermaid's parse error for `diagram`, None when it parses."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(diagram) + "\n")
        self._process.stdin.flush()
        answer = json.loads(self._process.stdout.readline())
        return None if answer["ok"] else str(answer["error"])

    def assert_parses(self, diagram: str) -> None:
        error = self.error(diagram)
        assert error is None, f"Mermaid cannot parse this diagram: {error}\n{diagram}"

    def assert_blocks_parse(self, markdown: str) -> list[str]:
        """Every ```mermaid block of `markdown` parses; returns the blocks."""
        blocks = mermaid_blocks(markdown)
        for block in blocks:
            self.assert_parses(block)
        return blocks

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)


def mermaid_blocks(markdown: str) -> list[str]:
    return _BLOCK.findall(markdown)


@pytest.fixture(scope="session")
def mermaid_parser() -> Iterator[MermaidParser]:
    parser = MermaidParser()
    yield parser
    parser.close()
