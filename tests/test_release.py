"""The release: which image action.yml runs for a ref, the Docker action it writes for it, and
the release workflow's checks on a tag (scripts/select_image.py, scripts/release.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from alembic_heads_bot import __version__

ROOT = Path(__file__).resolve().parent.parent
SHA = "0123456789abcdef0123456789abcdef01234567"
DOCKERFILE = "/home/runner/work/_actions/Octo-Org/alembic-heads-bot/main/Dockerfile"


def script(name: str) -> ModuleType:
    """A script from scripts/, which runs on the runner outside the package."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


select_image = script("select_image")
release = script("release")
IMAGE = "docker://ghcr.io/octo-org/alembic-heads-bot:1.2.3"


@pytest.mark.parametrize(
    ("ref", "version", "image"),
    [
        ("v1.2.3", "1.2.3", IMAGE),  # the release tag
        ("v1", "1.2.3", IMAGE),  # the major tag, moved to the release: its exact image
        (SHA, "1.2.3", IMAGE),  # pinned by full sha: the files say which release
        ("main", "1.2.3", DOCKERFILE),  # a branch moves past the release
        (SHA[:7], "1.2.3", DOCKERFILE),  # a short id is no pin
        ("v1.2.2", "1.2.3", DOCKERFILE),  # a tag the files disagree with: build what is there
        ("v2", "1.2.3", DOCKERFILE),
        ("v1.2.3", "1.2.4.dev0", DOCKERFILE),  # nothing is published between releases
        (SHA, "1.2.4.dev0", DOCKERFILE),
        ("main", "1.2.4.dev0", DOCKERFILE),
        ("v1.2.3rc1", "1.2.3rc1", DOCKERFILE),  # pre-releases are not published
        ("", "1.2.3", DOCKERFILE),  # `uses: ./`: no ref at all
    ],
)
def test_a_released_version_runs_its_published_image_and_anything_else_builds(
    ref: str, version: str, image: str
) -> None:
    assert select_image.image_for(ref, "Octo-Org/alembic-heads-bot", version, DOCKERFILE) == image


def test_the_action_ref_comes_from_the_context_else_from_where_the_runner_unpacked_it() -> None:
    def ref(path: str, **context: str) -> tuple[str, str]:
        return select_image.action_ref({"GITHUB_ACTION_PATH": path, **context})

    unpacked = "/home/runner/work/_actions/octo/alembic-heads-bot"
    assert ref(f"{unpacked}/v1", ACTION_REPOSITORY="octo/fork", ACTION_REF=SHA) == (
        "octo/fork",
        SHA,
    )
    assert ref(f"{unpacked}/v1") == ("octo/alembic-heads-bot", "v1")
    assert ref(f"{unpacked}/release/v1") == ("octo/alembic-heads-bot", "release/v1")
    assert ref("/home/runner/work/shop/shop") == ("", "")  # `uses: ./`


def test_action_yml_writes_and_runs_a_docker_action_with_its_inputs_and_outputs(
    tmp_path: Path,
) -> None:
    """The first step of action.yml, run as the runner runs it: for `@v1` of a release, a Docker
    action with the published image and the same inputs and outputs as action.yml, which the
    second step runs with every input passed on."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    pick, run = action["runs"]["steps"]
    checkout = tmp_path / "_actions" / "octo" / "alembic-heads-bot" / "v1"
    (checkout / "bot" / "alembic_heads_bot").mkdir(parents=True)
    shutil.copytree(ROOT / "scripts", checkout / "scripts")
    (checkout / "bot" / "alembic_heads_bot" / "__init__.py").write_text('__version__ = "1.2.3"\n')
    workspace = tmp_path / "workspace"
    environ = {
        **os.environ,
        **{k: v for k, v in pick["env"].items() if "${{" not in v},
        "GITHUB_ACTION_PATH": str(checkout),
        "GITHUB_WORKSPACE": str(workspace),
    }
    command = pick["run"].replace("python3", sys.executable)
    done = subprocess.run(["bash", "-c", command], env=environ, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (
        0,
        "alembic-heads-bot: running docker://ghcr.io/octo/alembic-heads-bot:1.2.3\n",
    )
    generated = json.loads((workspace / run["uses"] / "action.yml").read_text())
    assert generated["runs"] == {
        "using": "docker",
        "image": "docker://ghcr.io/octo/alembic-heads-bot:1.2.3",
        "args": ["action"],
    }
    assert list(generated["inputs"]) == list(action["inputs"])
    assert run["with"] == {name: f"${{{{ inputs.{name} }}}}" for name in action["inputs"]}
    assert list(generated["outputs"]) == list(action["outputs"])
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.{run['id']}.outputs.{name} }}}}"
    # The context the runner fills in for `env` only (actions/runner#2473).
    assert pick["env"]["ACTION_REF"] == "${{ github.action_ref }}"
    assert pick["env"]["ACTION_REPOSITORY"] == "${{ github.action_repository }}"


def test_action_yml_fits_the_marketplace() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert len(action["description"]) < 125
    assert action["name"] == "Alembic Heads Bot"
    assert action["branding"] == {"icon": "git-merge", "color": "red"}


CHANGELOG = """# Changelog

## [Unreleased]

## [1.2.3] - 2026-12-04

### Fixed

- A thing.

## [1.2.2] - 2026-11-01

### Added

- Another.

[Unreleased]: https://github.com/o/r/compare/v1.2.3...HEAD
[1.2.3]: https://github.com/o/r/releases/tag/v1.2.3
"""


def test_a_release_tag_must_be_the_package_version_with_a_changelog_entry() -> None:
    assert release.check("v1.2.3", "1.2.3", CHANGELOG) == "1.2.3"
    assert release.changelog_entry(CHANGELOG, "1.2.3") == "### Fixed\n\n- A thing.\n"
    assert release.changelog_entry(CHANGELOG, "1.2.2") == "### Added\n\n- Another.\n"
    refused = {
        ("v1.2.4", "1.2.3", CHANGELOG): "tag v1.2.4 but the package says 1.2.3",
        ("v1.2", "1.2", CHANGELOG): "not a release tag",
        ("v1.2.3", "1.2.3", CHANGELOG.replace("## [1.2.3]", "## [1.2.1]")): "no entry",
        ("v1.2.3", "1.2.3", CHANGELOG.replace("- A thing.", "")): "is empty",
    }
    for (tag, version, changelog), reason in refused.items():
        with pytest.raises(release.ReleaseError, match=reason):
            release.check(tag, version, changelog)


def test_this_version_is_a_release_with_its_entry_or_a_dev_version() -> None:
    """What the release workflow will check on the tag `v<version>`, checked on every change:
    a final version has its CHANGELOG.md entry; between releases it is X.Y.Z.devN."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release.py"), "notes", f"v{__version__}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if ".dev" in __version__:
        assert done.returncode == 1, done.stdout
    else:
        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.startswith(("The first release.", "### "))
