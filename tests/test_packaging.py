"""The GitHub Action as shipped: the Dockerfile's install steps in a fresh virtualenv, action.yml
against the code that reads it, and the linters on the Dockerfile and every workflow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import yaml
from action_run import TOKEN, stale_two_heads
from alembic_heads_bot.adapters.runner import input_variable
from alembic_heads_bot.app.context import COMMENT, FAIL_ON, STATUS
from alembic_heads_bot.app.events import read_settings
from alembic_heads_bot.app.pull_request import outputs
from projects import path
from runner_model import RunnerModel, read_outputs

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SCRIPTS = Path(sysconfig.get_path("scripts"))


def tool(name: str) -> str:
    """A linter from the test extra, installed beside this interpreter."""
    found = shutil.which(name, path=str(SCRIPTS)) or shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def lint(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


# --- the image's install steps ---------------------------------------------------------------


def test_the_dockerfile_install_steps_give_a_working_entry_point(tmp_path: Path) -> None:
    """Lock file, then the package without dependencies, as the Dockerfile does, from a copy
    of what it COPYs; then the ENTRYPOINT on a comment event and on a pull request."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.lock"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "bot", source / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    lock = [*pip, "install", "--require-hashes", "--no-deps", "-r", "requirements.lock"]
    subprocess.run(lock, cwd=source, check=True)
    subprocess.run([*pip, "install", "--no-deps", "."], cwd=source, check=True)
    entry_point = [str(env_dir / "bin" / "alembic-heads-bot"), "action"]

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
    runs = action_metadata()["runs"]
    assert runs == {"using": "docker", "image": "Dockerfile"}


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
