"""The `fake_github` pytest fixture. Enable it with `pytest_plugins = ["fakegithub.plugin"]`
in tests/conftest.py (or in a test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake import FakeGitHub


@pytest.fixture
def fake_github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGitHub]:
    """A started FakeGitHub; at teardown it stops and fails the test if any answer it sent
    broke GitHub's OpenAPI description (or a request matched no operation)."""
    with FakeGitHub(tmp_path_factory.mktemp("fakegithub")) as fake:
        yield fake
    fake.assert_valid()
