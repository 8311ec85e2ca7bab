"""A watched branch that itself has several heads (two pull requests merged back to back, a
direct push): what the bot says about it and the fix pull request it opens. Pure.

`app.fix_base` judges the pushed tip and the tip before the push on their own
(`pipeline.judge_alone`), asks `broken_heads` what each has, and when the push made it worse
sets a failing check (`base_check_output`) and opens or updates one pull request from the
bot's own branch (`fix_branch`) holding the merge migration (`engine.fix.plan`). The culprits
are the commits that added each head's file, with the pull request their subject names
(`engine.recheck.pull_number`), shown as `Arrival`s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.recheck import Arrival
from alembic_heads_bot.engine.report.check_run import OUTPUT_LIMIT, CheckOutput
from alembic_heads_bot.engine.report.escape import cut, inline_code, markdown_link
from alembic_heads_bot.engine.report.verdict import Linker, Sides, alembic_merge, markdown_report

FIX_BRANCH_PREFIX = "alembic-heads-bot/merge-heads/"
# Marks the bot's own fix pull request body: the one it updates and closes.
FIX_MARKER = "<!-- alembic-heads-bot:fix-base -->"
_TITLE_LIMIT = 255

# Environment name -> its unexplained heads, only for environments with several.
Heads = Mapping[str, tuple[str, ...]]


def fix_branch(branch: str) -> str:
    """The bot's own branch holding the fix for `branch` (the only branch it force-updates)."""
    return f"{FIX_BRANCH_PREFIX}{branch}"


def broken_heads(verdict: Verdict) -> dict[str, tuple[str, ...]]:
    """Each environment with several unexplained heads, and those heads."""
    return {
        env.name: env.unexplained_heads
        for env in verdict.environments
        if len(env.unexplained_heads) > 1
    }


def head_count(heads: Heads) -> int:
    return sum(len(ids) for ids in heads.values())


def got_worse(tip: Heads, before: Heads | None) -> bool:
    """Whether the push left more unexplained heads than the tip before it had (None: the old
    tip is unknown, so any head count over one per environment counts)."""
    return bool(tip) and (before is None or head_count(tip) > head_count(before))


def heads_line(heads: Heads) -> str:
    """ "c, d" or, with several environments, "[billing] c, d; [shop] e, f"."""
    if len(heads) == 1:
        return ", ".join(next(iter(heads.values())))
    return "; ".join(f"[{name}] {', '.join(ids)}" for name, ids in heads.items())


def title(branch: str, heads: Heads) -> str:
    """The check run's title and the fix pull request's."""
    return cut(f"{branch} has {head_count(heads)} Alembic heads: {heads_line(heads)}", _TITLE_LIMIT)


def culprits_markdown(branch: str, arrivals: Sequence[Arrival], repository_url: str) -> str:
    """Which commit (and pull request) brought each head, one line each. Commit subjects are
    left out: they are the words of whoever wrote them."""
    if not arrivals:
        return f"The commits that brought the heads to {inline_code(branch)} are not known."
    lines = [f"How the heads came to {inline_code(branch)}:"]
    for arrival in arrivals:
        commit = markdown_link(
            inline_code(arrival.sha[:12]), f"{repository_url}/commit/{arrival.sha}"
        )
        line = f"- {inline_code(arrival.revision)} came with {commit}"
        if arrival.number is not None:
            line += " in " + markdown_link(
                f"#{arrival.number}", f"{repository_url}/pull/{arrival.number}"
            )
        lines.append(line)
    return "\n".join(lines)


def _report(verdict: Verdict, branch: str, link: Linker | None) -> str:
    return markdown_report(verdict, Sides(base=branch, head=branch), link)


def _commands(verdict: Verdict) -> str:
    commands = [alembic_merge(e.merge_plan) for e in verdict.environments if e.merge_plan]
    return "\n".join(f"    {command}" for command in commands)


def base_check_output(
    branch: str,
    verdict: Verdict,
    arrivals: Sequence[Arrival],
    repository_url: str,
    link: Linker | None = None,
    fix_pull: str | None = None,
) -> CheckOutput:
    """The failing check run on the pushed commit: the heads, who brought them, the fix."""
    heads = broken_heads(verdict)
    fix = (
        f"The bot opens a pull request with the merge migration ({fix_pull})."
        if fix_pull
        else "Join them with a merge migration:\n\n" + _commands(verdict)
    )
    summary = "\n\n".join(
        [
            f"{inline_code(branch)} now has {head_count(heads)} unexplained Alembic heads, "
            "so `alembic upgrade head` fails on it.",
            culprits_markdown(branch, arrivals, repository_url),
            fix,
            _report(verdict, branch, link),
        ]
    )
    return CheckOutput("failure", title(branch, heads), cut(summary, OUTPUT_LIMIT), ())


def fix_pull_body(
    branch: str,
    verdict: Verdict,
    arrivals: Sequence[Arrival],
    repository_url: str,
    files: Sequence[str],
    tip: str,
    link: Linker | None = None,
) -> str:
    """The fix pull request's body: what happened, who brought the heads, what it adds."""
    heads = broken_heads(verdict)
    tip_link = markdown_link(inline_code(tip[:12]), f"{repository_url}/commit/{tip}")
    added = ", ".join(inline_code(path) for path in files)
    body = "\n\n".join(
        [
            f"{inline_code(branch)} has {head_count(heads)} unexplained Alembic heads at "
            f"{tip_link} ({inline_code(heads_line(heads))}), so `alembic upgrade head` fails "
            "on it. Pull requests that each passed on their own were merged one after the "
            "other, or a change reached the branch without the check.",
            culprits_markdown(branch, arrivals, repository_url),
            f"This pull request adds {added}: the merge migration `alembic merge` would write, "
            f"rendered from {inline_code(branch)}'s own `script.py.mako` and configuration "
            "(Alembic's generic template where it has none). Merging it leaves one head. The "
            "bot updates it while the branch stays broken and closes it when the heads are "
            "joined another way.",
            _report(verdict, branch, link),
            FIX_MARKER,
        ]
    )
    return cut(body, OUTPUT_LIMIT)


def commit_message(branch: str, heads: Heads, files: Sequence[str]) -> str:
    return (
        f"Merge the Alembic heads of {branch}: {heads_line(heads)}\n\n"
        f"Adds {', '.join(files)}, the merge migration `alembic merge` would write.\n"
    )


def closing_comment(branch: str, tip: str, repository_url: str) -> str:
    tip_link = markdown_link(inline_code(tip[:12]), f"{repository_url}/commit/{tip}")
    return (
        f"{inline_code(branch)} has one head per environment again at {tip_link}: the heads "
        "were joined another way, so this fix is no longer needed. Closing it."
    )
