"""The status branch protection can require: a check run or a commit status on one commit.

A check run is created completed, with the first 50 annotations; GitHub takes at most 50 per
request, so further batches are added by updating it. Both calls return who wrote them, which
tells the bot its own login for free.

None of these writes may be repeated blindly when an answer is lost (a second check run, a
second status, every annotation of a batch twice), so each retry first looks for what the lost
attempt left: the check run by the `external_id` it was created with, a batch by the check
run's annotation count, a status by being the newest of its context with the same text.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from github.CheckRun import CheckRun
from github.CommitStatus import CommitStatus
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
    # Unique to this attempt on this head: the one check run a lost answer may have created.
    external_id = f"alembic-heads-bot:{sha[:12]}:{secrets.token_hex(8)}"

    def landed() -> CheckRun | None:
        runs = repo.get_commit(sha).get_check_runs(check_name=name)
        return next((run for run in runs if run.external_id == external_id), None)

    run = write(
        f"set the {name!r} check run on {sha[:12]}",
        lambda: repo.create_check_run(
            name=name,
            head_sha=sha,
            external_id=external_id,
            status="completed",
            conclusion=output.conclusion,
            output={**fields, "annotations": list(batches[0])},
            details_url=details_url or NotSet,  # NotSet: PyGithub leaves the field out
        ),
        "checks",
        settled=landed,
    )
    sent = len(batches[0])
    for batch in batches[1:]:
        sent += len(batch)
        _add_annotations(run, name, {**fields, "annotations": list(batch)}, sent)
    app = run.app
    return StatusOutcome(run.html_url, f"{app.slug}[bot]" if app is not None else None)


def _add_annotations(run: CheckRun, name: str, output: dict[str, object], total: int) -> None:
    """Append one batch; `total` is how many annotations the run holds once it is added."""

    def send() -> bool:
        run.edit(output=output)
        return True

    def landed() -> bool | None:
        return True if sum(1 for _ in run.get_annotations()) >= total else None

    write(f"add annotations to the {name!r} check run", send, "checks", settled=landed)


def set_commit_status(
    repo: Repository,
    name: str,
    sha: str,
    state: str,
    description: str,
    target_url: str | None,
) -> StatusOutcome:
    def landed() -> CommitStatus | None:
        # the combined status holds the latest status of each context: the one that counts
        for status in repo.get_commit(sha).get_combined_status().statuses:
            if status.context == name:
                same = (status.state, status.description) == (state, description)
                return status if same and (status.target_url or None) == target_url else None
        return None

    status = write(
        f"set the {name!r} commit status on {sha[:12]}",
        lambda: repo.get_commit(sha).create_status(
            state=state, description=description, context=name, target_url=target_url or NotSet
        ),
        "statuses",
        settled=landed,
    )
    # (a status found in the combined status does not name its creator)
    creator = status.creator
    return StatusOutcome(None, creator.login if creator is not None else None)
