"""The shipped workflow on a hostile fork's pull request, end to end against the fake GitHub.

GitHub's rules are modelled in a few lines: under `pull_request` the workflow file comes from
the pull request (a fork's edit of it runs) and a fork's token is read-only; under
`pull_request_target` the workflow file comes from the default branch and the token has the
job's `permissions:`; a checkout without `ref` is the default branch. The job's steps then run
as GitHub would run them: `run:` steps in bash, the checkout (whose `with:` must not name the
pull request), and the bot as `alembic-heads-bot action` with the step's `with:` inputs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from alembic_heads_bot.engine.bot_config import BOT_CONFIG_PATH
from gitrepo import GitRepo
from hostile import PR_FILE, PR_HEAD
from projects import revision
from shop import ENTRY, SHOP, ActionRun, Job, Shop, fork_pull_request, own_comments

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ".github/workflows/alembic-heads.yml"
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


def hostile_fork(shop: Shop, marker: Path) -> int:
    """A stranger's fork opens PR #1: a second head on `a` whose id and file name carry
    markup and shell syntax, a revision file and an env.py that write `marker` when run, a
    workflow that writes it too, and a bot config that would let new heads pass."""
    write_marker = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
    shop.fake.create_repo("stranger/shop", fork_of=SHOP)
    fork = GitRepo(shop.src.path)
    fork.git("checkout", "--quiet", "-B", "idea", "main")
    fork.write({
        f"migrations/versions/{PurePosixPath(PR_FILE).name}":
            revision(PR_HEAD, "a", body="pass") + write_marker,
        "migrations/env.py": write_marker,
        WORKFLOW: (
            "name: alembic-heads\non: [pull_request, pull_request_target]\n"
            "jobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - run: touch {marker}\n"
        ),
        BOT_CONFIG_PATH: "policy:\n  new-heads: ignore\n",
    })  # fmt: skip
    fork.commit("a better idea")
    fork.checkout("main")
    shop.fake.push("stranger/shop", fork.path, ["+refs/heads/idea:refs/heads/idea"])
    return shop.fake.open_pr(SHOP, head="idea", head_repo="stranger/shop", author="stranger").number


def load(text: str) -> dict[Any, Any]:
    workflow: dict[Any, Any] = yaml.safe_load(text)
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as true
    return workflow


def pull_request_trigger(workflow: dict[Any, Any]) -> str:
    triggers = workflow["on"]
    [event] = [name for name in PULL_REQUEST_EVENTS if name in triggers]
    return event


def pull_request_job(workflow: dict[Any, Any], event: str) -> dict[str, Any]:
    """The job `event` runs. The jobs' conditions name the events they take (`== 'push'`) or
    the one they leave out (`!= 'issue_comment'`)."""

    def takes(job: dict[str, Any]) -> bool:
        condition = job.get("if", "")
        return f"== '{event}'" in condition or (
            "!= 'issue_comment'" in condition and event != "issue_comment"
        )

    [job] = [job for job in workflow["jobs"].values() if takes(job)]
    return job


def run_job(shop: Shop, workflow: dict[str, Any], event_name: str, number: int) -> ActionRun | None:
    """Each step of the pull request's job; the bot's run, if the job has the bot."""
    job = pull_request_job(workflow, event_name)
    event = shop.fake.event_pull_request(SHOP, number, target=event_name == "pull_request_target")
    fork_token = event_name == "pull_request"  # a fork gets a read-only token there
    token = shop.fake.make_token(read_only=fork_token, permissions=job.get("permissions"))
    bot_run = None
    for step in job["steps"]:
        if "run" in step:
            subprocess.run(["bash", "-c", step["run"]], cwd=shop.tmp, check=True)
        elif step["uses"].startswith("actions/checkout@"):
            assert not {"ref", "repository"} & set(step.get("with") or {}), step
        else:
            inputs = {k: str(v).lower() if isinstance(v, bool) else str(v)
                      for k, v in (step.get("with") or {}).items()}  # fmt: skip
            bot_run = shop.run(event, token=token, **inputs)
    return bot_run


def test_a_hostile_fork_pull_request_gets_its_check_and_comment_and_nothing_of_it_runs(
    shop: Shop,
) -> None:
    shipped = (ROOT / WORKFLOW).read_text()
    shop.commit_main({WORKFLOW: shipped})
    marker = shop.tmp / "pwned"
    number = hostile_fork(shop, marker)
    event_name = pull_request_trigger(load(shipped))
    # Under pull_request, GitHub runs the workflow as the pull request has it.
    fork_text = shop.src.git("show", f"idea:{WORKFLOW}")
    runs = load(fork_text if event_name == "pull_request" else shipped)

    run = run_job(shop, runs, event_name, number)

    assert not marker.exists()
    assert run is not None, "the pull request's job never ran the bot"
    assert run.code == 1, run.log
    head = shop.fake.pull(SHOP, number).head_sha
    [check] = shop.fake.check_runs(SHOP, head)
    assert (check.name, check.conclusion) == ("alembic-heads", "failure")
    hostile_file = f"migrations/versions/{PurePosixPath(PR_FILE).name}"
    assert [(a["path"], a["annotation_level"]) for a in check.annotations] == [
        (hostile_file, "failure")
    ]
    [comment] = own_comments(shop, number)
    assert "/merge-heads" in comment  # the fix it offers for the new head


def test_a_workflow_that_checks_out_the_forks_head_is_refused_and_the_check_says_why(
    shop: Shop,
) -> None:
    number = fork_pull_request(shop)
    head = shop.fake.pull(SHOP, number).head_sha
    event = shop.fake.event_pull_request(SHOP, number, target=True)
    env, output, summary = shop.job(event)
    workspace = env["GITHUB_WORKSPACE"]
    # what `actions/checkout` with `ref: ${{ github.event.pull_request.head.sha }}` would do
    for argv in (["fetch", "-q", "origin", f"refs/pull/{number}/head"], ["checkout", "-q", head]):
        subprocess.run(["git", "-C", workspace, *argv], env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [str(ENTRY), "action"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    run = shop.finish(Job(process, output, summary))
    assert run.code == 2, run.log
    [error] = run.errors()
    assert '"pwn request"' in error and "actions/checkout without `ref:`" in error
    [check] = shop.fake.check_runs(SHOP, head)
    assert check.conclusion == "failure" and check.output["title"].startswith("Not checked")
