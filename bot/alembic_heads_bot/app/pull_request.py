"""Judging a pull request: its commits in a local repository -> a verdict, and, in the Action,
the local reports (verdict file, outputs, job summary, annotations) before the GitHub side.

`analyse` turns two refs into the four trees (git) and hands them to the engine's one pipeline
(`engine.pipeline`). `handle` is the Action's handler for the events that name one target
(`pull_request`, `pull_request_target`, `merge_group`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from alembic_heads_bot.adapters.databases import DatabaseReader
from alembic_heads_bot.adapters.git import (
    GitError,
    GitTree,
    is_shallow,
    merge_base,
    merge_tree,
    open_repo,
    resolve,
    unshallow_command,
)
from alembic_heads_bot.adapters.runner import append_summary, write_outputs
from alembic_heads_bot.adapters.workers import multicore_cache
from alembic_heads_bot.app.context import (
    BASE_REF,
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_OK,
    HEAD_REF,
    ActionContext,
    ActionError,
    ActionResult,
    FailOn,
    Publisher,
    dig,
)
from alembic_heads_bot.engine.analysis import Commits, Verdict
from alembic_heads_bot.engine.bot_config import Policy
from alembic_heads_bot.engine.pipeline import Options, PullRequestTrees, judge_pull_request
from alembic_heads_bot.engine.report.escape import shell_command
from alembic_heads_bot.engine.report.verdict import (
    Linker,
    Sides,
    findings,
    text_report,
)
from alembic_heads_bot.engine.scan import ParseCache

if TYPE_CHECKING:
    import git

REPORT_FILE = "alembic-heads-report.json"


def analyse(
    repo_path: str | os.PathLike[str],
    base_ref: str,
    head_ref: str,
    *,
    config: str | None = None,
    env: str | None = None,
    policy_override: Policy | None = None,
    overrides: Mapping[str, str] | None = None,
    cache: ParseCache | None = None,
    databases: DatabaseReader | None = None,
) -> Verdict:
    """Judge merging `head_ref` into `base_ref`, without touching the checkout (see
    `engine.pipeline.Options` for the rest). Raises `CannotJudge` (unknown refs, unrelated
    histories, an environment that matches nothing)."""
    options = Options(config, env, policy_override, overrides or {}, databases)
    with open_repo(repo_path) as repo:
        base, head = resolve(repo, base_ref), resolve(repo, head_ref)
        fork = merge_base(repo, base, head)
        if fork is None:
            raise GitError(_unrelated(repo, base_ref, head_ref))
        merged = merge_tree(repo, base, head)
        base_tree = GitTree(repo, base)
        # A branch made from the base's current tip forks there: list that commit once.
        # The other trees share most files with the base tip: their listings are derived from it.
        fork_tree = base_tree if fork == base else GitTree(repo, fork, near=base_tree)
        head_tree = GitTree(repo, head, near=base_tree)
        # A branch holding every commit of the base merges into its own tree: scanned once.
        same = head_tree.object_id == merged.tree
        merged_tree = head_tree if same else GitTree(repo, merged.tree, near=base_tree)
        trees = PullRequestTrees(
            base_tree, fork_tree, head_tree, merged_tree, merged.conflicts,
            Commits(base, head, fork, merged.tree),
        )  # fmt: skip
        return judge_pull_request(trees, options, cache if cache is not None else multicore_cache())


def _unrelated(repo: git.Repo, base_ref: str, head_ref: str) -> str:
    """Why two tips share no commit: a shallow clone that stops short of their fork (with the
    fetch that completes it), or really unrelated histories."""
    if is_shallow(repo):
        fetch = shell_command(unshallow_command(repo, base_ref))
        return (
            f"{base_ref!r} and {head_ref!r} share no commit in this shallow clone, which has "
            f"only the newest commits: fetch the history with `{fetch}`, then run the same "
            "command again"
        )
    return (
        f"{base_ref!r} and {head_ref!r} have no common ancestor: a pull request between "
        "unrelated histories cannot be judged"
    )


# --- the Action ------------------------------------------------------------------------------


def handle(ctx: ActionContext, publish: Publisher | None) -> int:
    """Judge the event's target, write the local reports, then publish; the exit code."""
    result = evaluate(ctx)
    publish_local(ctx, result)
    if publish is not None and not publish(ctx, result):
        return EXIT_ERROR
    return result.exit_code


def evaluate(ctx: ActionContext, env: str | None = None) -> ActionResult:
    """Fetch the base tip and the head, judge the merge (of environment `env` only, when
    given). Raises CannotJudge, e.g. when `env` names no environment."""
    target = ctx.target
    assert target is not None, "evaluate runs only for an event with a target"
    git = ctx.git
    git.mark_safe(ctx.workspace, ctx.repository)
    refuse_untrusted_checkout(ctx)
    git.check_branch_name(target.base_branch)
    refspecs = (f"+refs/heads/{target.base_branch}:{BASE_REF}", f"+{target.head_ref}:{HEAD_REF}")
    what = ", ".join(r.split(":")[0].lstrip("+") for r in refspecs)
    git.fetch_deepening(refspecs, what, met=lambda: git.merge_base(BASE_REF, HEAD_REF) is not None)
    verdict = analyse(
        ctx.repository,
        BASE_REF,
        HEAD_REF,
        config=ctx.settings.config,
        env=env,
        databases=DatabaseReader(ctx.environ),
    )
    commits = verdict.commits or Commits()
    return result_for(ctx, verdict, target.sides, commits.base or "", commits.head or "")


def refuse_untrusted_checkout(ctx: ActionContext) -> None:
    """ActionError when, under `pull_request_target`, the workspace holds a fork's pull request
    (its head or merge commit checked out): GitHub's "pwn request", a job with a write token
    next to code from a stranger. Whatever ran before this step cannot be undone, but the
    check fails ("Not checked") and the steps after it do not run, until the workflow is
    fixed."""
    target = ctx.target
    if ctx.event_name != "pull_request_target" or not ctx.is_fork or target is None:
        return
    done = ctx.git.run("rev-parse", "--verify", "--quiet", "HEAD", check=False)
    merge = dig(ctx.payload, "pull_request", "merge_commit_sha")
    if done.status == 0 and done.text.strip() in {target.event_head_sha, merge} - {None}:
        raise ActionError(
            "the workspace holds this fork's pull request, checked out under "
            'pull_request_target, whose job has a write token: the "pwn request" GitHub '
            "warns of. Check out the default branch (actions/checkout without `ref:`); the bot "
            "fetches the pull request itself and reads it as data"
        )


def result_for(
    ctx: ActionContext, verdict: Verdict, sides: Sides, base_sha: str, head_sha: str
) -> ActionResult:
    """What the Action reports for `verdict`: exit code, report file, links to the files."""
    report_path, report_output = report_location(ctx)
    return ActionResult(
        verdict=verdict,
        sides=sides,
        base_sha=base_sha,
        head_sha=head_sha,
        report_path=report_path,
        report_output=report_output,
        exit_code=exit_code(verdict, ctx.settings.fail_on),
        link=file_linker(ctx, verdict, base_sha, head_sha),
    )


def report_location(ctx: ActionContext) -> tuple[Path, str]:
    """Where the verdict file goes and the `report` output naming it: under RUNNER_TEMP, so
    that the checkout gets no untracked file, when that directory is there; else in the
    workspace, named relative to it. A container action gets the host's RUNNER_TEMP path,
    which is not mounted in the container: then the workspace is the one place the steps
    after this one see."""
    temp = ctx.environ.get("RUNNER_TEMP", "").strip()
    if temp and Path(temp).is_absolute() and Path(temp).is_dir():
        path = Path(temp) / REPORT_FILE
        return path, str(path)
    return ctx.workspace / REPORT_FILE, REPORT_FILE


def publish_local(ctx: ActionContext, result: ActionResult) -> None:
    """What needs no API: the verdict file, the outputs, the job summary, the annotations and
    the text report in the log."""
    verdict = result.verdict
    # See `report_location` for where the verdict file goes.
    result.report_path.write_text(json.dumps(verdict.as_dict(), indent=2) + "\n", "utf-8")
    output_file = ctx.environ.get("GITHUB_OUTPUT")
    if output_file:
        write_outputs(output_file, outputs(verdict, result.report_output))
    summary_file = ctx.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        append_summary(summary_file, result.markdown)
    ctx.log.untrusted(text_report(verdict, result.sides))
    for found in result.findings:
        ctx.log.annotate(
            found.level, found.message, file=found.path, line=found.line, title=found.title
        )


def file_linker(ctx: ActionContext, verdict: Verdict, base_sha: str, head_sha: str) -> Linker:
    """Links to a file and line on GitHub: at the judged head, or at the base tip for a file
    the head no longer has (a deleted revision)."""
    paths = sorted({f.path for f in findings(verdict) if f.path})
    at_head = set(ctx.git.ls_tree(head_sha or HEAD_REF, *paths)) if paths else set()
    repository_url = ctx.repository_url

    def link(path: str, line: int | None) -> str | None:
        if not ctx.repository_name:
            return None
        sha = head_sha if path in at_head or not base_sha else base_sha
        anchor = f"#L{line}" if line else ""
        return f"{repository_url}/blob/{sha}/{quote(path)}{anchor}"

    return link


def exit_code(verdict: Verdict, fail_on: FailOn) -> int:
    """new-heads: fail when the verdict fails; problems: only when a rule about broken files or
    rewritten history (problems, hazards, applied-revisions) fails; never: 0."""
    if fail_on == "never":
        return EXIT_OK
    failed = set(verdict.failed_rules)
    if fail_on == "problems":
        failed &= {"problems", "hazards", "applied-revisions"}
    return EXIT_FAILED if failed else EXIT_OK


def outputs(verdict: Verdict, report: str) -> dict[str, str]:
    """The action's outputs: ok, heads and new-heads (JSON lists of revision ids), report."""
    heads = dict.fromkeys(h for env in verdict.environments for h in env.heads)
    new = dict.fromkeys(h.revision for env in verdict.environments for h in env.new_heads)
    return {
        "ok": "true" if verdict.ok else "false",
        "heads": json.dumps(list(heads)),
        "new-heads": json.dumps(list(new)),
        "report": report,
    }
