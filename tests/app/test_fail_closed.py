"""Nothing to judge is never a pass, through the real entry points: the command as a subprocess
(exit 2 and one line saying what is missing and how to name it) and the Action against the fake
GitHub (a failing step, a failing check run that says "Not checked", and `ok=false`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic_heads_bot.engine.bot_config import BOT_CONFIG_PATH
from gitrepo import GitRepo
from projects import INI, chain, path, revision
from shop import SHOP, Shop, two_heads

ROOT = Path(__file__).resolve().parents[2]
ERROR = "alembic-heads-bot: error: "
NOTHING = "no Alembic environment found ("


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "bot"), "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(
        [sys.executable, "-m", "alembic_heads_bot", *argv],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`plain`: a folder that is no repository; `bare`: a git repository with no Alembic in
    it; `repo`: main a <- b, and `feature` adds c on a (a second head); `warned`: a folder
    whose bot config says `no-environment: warn`."""
    tmp = tmp_path_factory.mktemp("places")
    (tmp / "plain").mkdir()
    (tmp / "plain" / "README.md").write_text("hello\n")
    bare = GitRepo.init(tmp / "bare")
    bare.write({"README.md": "hello\n"})
    bare.commit("readme")
    repo = GitRepo.init(tmp / "repo")
    repo.write({"alembic.ini": INI, **chain("a", "b")})
    repo.commit("a, b")
    repo.git("checkout", "-q", "-b", "feature", "HEAD~0")
    repo.write({path("c"): revision("c", "a")})
    repo.commit("c on a")
    repo.checkout("main")
    (tmp / "warned" / ".github").mkdir(parents=True)
    (tmp / "warned" / BOT_CONFIG_PATH).write_text("no-environment: warn\n")
    return {name: str(tmp / name) for name in ("plain", "bare", "repo", "warned")}


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["check", "--repo", "{plain}"], NOTHING),
        (["check", "--repo", "{bare}", "--base", "HEAD"], NOTHING),
        (["heads", "{bare}", "--rev", "HEAD"], NOTHING),
        (["merge", "--repo", "{bare}"], NOTHING),
        (["check", "--repo", "{bare}", "--env", "app"], f"--env app: {NOTHING}"),
        (
            ["check", "--repo", "{repo}", "--base", "main", "--head", "feature", "--config",
             "nope.ini"],
            "config file nope.ini not found, so nothing was checked: --config ",
        ),
    ],
)  # fmt: skip
def test_nothing_to_judge_exits_2_with_one_line_that_says_how_to_name_it(
    places: dict[str, str], argv: list[str], start: str
) -> None:
    done = cli(*(arg.format(**places) for arg in argv))
    assert (done.returncode, done.stdout) == (2, "")  # no "OK", no "Nothing to merge"
    [line] = done.stderr.splitlines()
    assert line.startswith(ERROR + start), line
    if start.startswith(NOTHING):
        assert f"`environments:` in {BOT_CONFIG_PATH}" in line and "--config FILE" in line


def test_no_environment_warn_passes_with_the_warning(places: dict[str, str]) -> None:
    done = cli("check", "--repo", places["warned"])
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout and "[no-environment]" in done.stdout


def test_the_action_with_a_config_that_does_not_exist_fails_and_says_not_checked(
    shop: Shop,
) -> None:
    number = two_heads(shop)
    head = shop.fake.pull(SHOP, number).head_sha
    run = shop.run(shop.fake.event_pull_request(SHOP, number), config="nope.ini")
    assert run.code == 2, run.log
    [error] = run.errors()
    assert error.startswith("alembic-heads-bot: config file nope.ini not found, so nothing was")
    [check] = shop.fake.check_runs(SHOP, head)
    assert (check.status, check.conclusion) == ("completed", "failure")
    assert check.output["title"].startswith("Not checked")
    assert "config file nope.ini not found" in check.output["summary"]
    assert run.outputs["ok"] == "false"
    assert run.summary.startswith("**Not checked:**\n\n```text\nconfig file nope.ini not found")
