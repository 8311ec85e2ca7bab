"""The status branch protection can require: a check run or a commit status on one commit.

A check run is created completed, with the first 50 annotations; GitHub takes at most 50 per
request, so further batches are added by updating it. Both calls return who wrote them, which
tells the bot its own login for free.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from github.GithubObject import NotSet
from github.Repository import Repository

from alembic_heads_bot.adapters.github.client import write
from alembic_heads_bot.engine.report.check_run import CheckOutput


@dataclass(frozen=True)
class StatusOutcome:
    url: str | None  # the check run's page, when there is one
    login: str | None  # the account GitHub says wrote it: the bot itself


def set_check_run(
    repo: Repository, name: str, sha: str, output: CheckOutput, details_url: str | None
) -> StatusOutcome:
    batches = list(output.batches())
    fields = {"title": output.title, "summary": output.summary}
    what = f"set the {name!r} check run on {sha[:12]}"
    run = write(
        what,
        lambda: repo.create_check_run(
            name=name,
            head_sha=sha,
            status="completed",
            conclusion=output.conclusion,
            output={**fields, "annotations": list(batches[0])},
            details_url=details_url or NotSet,  # NotSet: PyGithub leaves the field out
        ),
        "checks",
    )
    for batch in batches[1:]:
        write(
            f"add annotations to the {name!r} check run",
            partial(run.edit, output={**fields, "annotations": list(batch)}),
            "checks",
        )
    app = run.app
    return StatusOutcome(run.html_url, f"{app.slug}[bot]" if app is not None else None)


def set_commit_status(
    repo: Repository,
    name: str,
    sha: str,
    state: str,
    description: str,
    target_url: str | None,
) -> StatusOutcome:
    status = write(
        f"set the {name!r} commit status on {sha[:12]}",
        lambda: repo.get_commit(sha).create_status(
            state=state, description=description, context=name, target_url=target_url or NotSet
        ),
        "statuses",
    )
    creator = status.creator
    return StatusOutcome(None, creator.login if creator is not None else None)
