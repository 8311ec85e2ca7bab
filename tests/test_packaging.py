"""The GitHub Action as shipped: the Dockerfile's install steps in a fresh virtualenv, action.yml
against the code that reads it, and the linters on the Dockerfile and every workflow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import yaml
from action_run import TOKEN, stale_two_heads
from alembic_heads_bot import __version__
from alembic_heads_bot.adapters.runner import input_variable
from alembic_heads_bot.app.context import COMMENT, FAIL_ON, STATUS
from alembic_heads_bot.app.events import read_settings
from alembic_heads_bot.app.pull_request import outputs
from projects import path
from runner_model import RunnerModel, read_outputs

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SCRIPTS = Path(sysconfig.get_path("scripts"))
LOCKS = ("requirements-build.lock", "requirements.lock")
# What .dockerignore keeps out of the build context, as shutil patterns.
IGNORED = [
    line.rstrip("/").removeprefix("**/") for line in (ROOT / ".dockerignore").read_text().split()
]


def tool(name: str) -> str:
    """A linter from the test extra, installed beside this interpreter."""
    found = shutil.which(name, path=str(SCRIPTS)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def lint(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


# --- the package and the image's install steps ----------------------------------------------


def dockerfile_builder() -> tuple[list[str], list[str]]:
    """The builder stage of the Dockerfile: the sources its COPYs take from the repository,
    and its RUN commands, each as the shell string the build runs."""
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    instructions = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    stage = [i for i in instructions if i[0] in ("FROM", "COPY", "RUN")]
    first, second = [n for n, i in enumerate(stage) if i[0] == "FROM"][:2]
    assert stage[first][1].endswith(" AS builder")
    builder = stage[first + 1 : second]
    sources = [word for i in builder if i[0] == "COPY" for word in i[1].split()[:-1]]
    return sources, [i[1] for i in builder if i[0] == "RUN"]


def fetched(pip_output: str) -> list[str]:
    """Each thing pip obtained (from an index, a cache or a file), as the line saying so."""
    return [
        line for line in pip_output.splitlines() if line.startswith(("Collecting ", "Processing "))
    ]


def installed(pip_output: str) -> set[str]:
    """Every `name-version` pip installed."""
    said = [line for line in pip_output.splitlines() if line.startswith("Successfully installed ")]
    return {name for line in said for name in line.split()[2:]}


def locked(lock: str) -> set[str]:
    """The lock's pins, as pip names what it installed: `name-version`."""
    pins = [line.split()[0] for line in (ROOT / lock).read_text().splitlines() if "==" in line]
    return {pin.replace("==", "-") for pin in pins}


def test_the_package_builds_and_the_image_steps_install_it_from_the_locks(tmp_path: Path) -> None:
    """The Dockerfile's builder stage, command for command, outside a container: what it COPYs,
    then its RUNs with its paths in a temporary directory. It builds the sdist and the wheel
    (which must pass `twine check`) from the hashed build lock, installs the runtime lock and
    the wheel into a fresh virtualenv, and pip fetches nothing else. Then that virtualenv's
    entry point runs as the image's does: on a comment event and on a pull request."""
    sources, commands = dockerfile_builder()
    source = tmp_path / "src"
    source.mkdir()
    for name in sources:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns(*IGNORED))
        else:
            shutil.copy(ROOT / name, source / name)
    image_env = {
        # Nothing of this interpreter's path: an egg-info there would pass for an install.
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "SRC": str(source), "BUILD_VENV": str(tmp_path / "build"), "VENV": str(tmp_path / "venv"),
        # `python` is an interpreter with pip, like the base image's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }  # fmt: skip
    output = ""
    for command in commands:
        done = subprocess.run(
            ["sh", "-c", command], env=image_env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, command + "\n" + done.stdout + done.stderr
        output += done.stdout
    # Everything pip obtained is a line of a lock (checked against its hashes) or the wheel just
    # built, installed with no index at all: no build backend fetched behind the locks' back.
    version = __version__
    wheel = f"alembic_heads_bot-{version}-py3-none-any.whl"
    from_locks = tuple(f"(from -r {source / lock} (line " for lock in LOCKS)
    for line in fetched(output):
        assert (
            line == f"Processing {source / 'dist' / wheel}"
            or from_locks[0] in line
            or (from_locks[1] in line)
        ), line
    assert installed(output) == {
        *locked(LOCKS[0]),
        *locked(LOCKS[1]),
        f"alembic-heads-bot-{version}",
    }
    assert "Installing build dependencies" not in output
    dist = sorted(p.name for p in (source / "dist").iterdir())
    assert dist == [wheel, f"alembic_heads_bot-{version}.tar.gz"]
    twine = lint(tool("twine"), "check", "--strict", *map(str, (source / "dist").iterdir()))
    assert twine.returncode == 0, twine.stdout + twine.stderr
    bin_dir = tmp_path / "venv" / "bin"
    assert not (bin_dir / "pip").exists()  # the image's virtualenv holds the runtime only
    shown = subprocess.run(
        [str(bin_dir / "alembic-heads-bot"), "--version"], capture_output=True, text=True
    )
    assert (shown.returncode, shown.stdout) == (0, f"alembic-heads-bot {version}\n")
    entry_point = [str(bin_dir / "alembic-heads-bot"), "action"]

    def action(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            entry_point, env=environ, cwd=tmp_path, capture_output=True, text=True, check=False
        )

    project, payload = stale_two_heads(tmp_path)
    closed = action(project.environ("pull_request", {**payload, "action": "closed"}))
    assert (closed.returncode, closed.stderr) == (0, "")
    [(name, _, notice)] = RunnerModel().feed(closed.stdout)[2:]
    assert (name, notice.split(" (")[0]) == (
        "notice",
        "alembic-heads-bot: nothing to check for pull_request 'closed'",
    )

    environ = project.environ("pull_request", payload)
    judged = action(environ)
    assert (judged.returncode, judged.stderr) == (1, "")
    assert read_outputs(Path(environ["GITHUB_OUTPUT"]).read_text())["new-heads"] == '["c"]'
    [(name, where, _)] = [c for c in RunnerModel().feed(judged.stdout) if c[0] == "error"]
    assert (name, where["file"]) == ("error", path("c"))
    assert TOKEN not in judged.stdout.split("\n", 2)[2]


# --- action.yml against the code -------------------------------------------------------------


def action_metadata() -> dict[str, dict[str, dict[str, str]]]:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def test_action_yml_defaults_are_the_defaults_the_code_applies() -> None:
    inputs = action_metadata()["inputs"]
    environ = {
        input_variable(name): spec["default"]
        for name, spec in inputs.items()
        if name != "github-token"
    }
    assert read_settings(environ) == read_settings({})
    assert inputs["github-token"]["default"] == "${{ github.token }}"
    for name, choices in (("fail-on", FAIL_ON), ("comment", COMMENT), ("status", STATUS)):
        described = inputs[name]["description"]
        assert all(f"`{choice}`" in described for choice in choices), name
    for name, spec in inputs.items():
        assert "Default: " in spec["description"], name
        if spec["default"] not in ("", ".", "${{ github.token }}"):
            assert f"Default: {spec['default']}." in spec["description"], name


def test_action_yml_declares_exactly_the_outputs_the_action_writes() -> None:
    from alembic_heads_bot.engine.analysis import Verdict

    empty = Verdict("pull-request", None, (), (), (), (), ())
    assert set(action_metadata()["outputs"]) == set(outputs(empty, "report.json"))


# --- linters ---------------------------------------------------------------------------------


def test_the_dockerfile_passes_hadolint() -> None:
    done = lint(tool("hadolint"), "Dockerfile")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_workflow_passes_actionlint() -> None:
    assert WORKFLOWS
    done = lint(tool("actionlint"), "-shellcheck=", "-pyflakes=", *map(str, WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_workflow_and_the_action_pass_zizmor() -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    done = subprocess.run(
        [tool("zizmor"), "--offline", "--format", "json", ".github/workflows", "action.yml"],
        cwd=ROOT, env=environ, capture_output=True, text=True, check=False,
    )  # fmt: skip
    findings = json.loads(done.stdout or "[]")
    assert (done.returncode, findings) == (0, []), done.stdout + done.stderr
