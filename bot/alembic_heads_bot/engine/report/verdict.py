"""A verdict -> what people read: the text of `check`, and the Markdown of the PR comment.

Both say first whether the change is fine, then for each new head where it is, what it collides
with and the exact commands that fix it. Pure: the caller passes labels for the two sides
(branch names) and, for Markdown, a function that links a file and line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from alembic_heads_bot.engine.analysis import (
    Commits,
    DatabaseFinding,
    EnvironmentVerdict,
    FlaggedProblem,
    Hazard,
    MergePlan,
    NewHead,
    Outcome,
    Verdict,
)
from alembic_heads_bot.engine.model import Rule
from alembic_heads_bot.engine.report.escape import (
    code_block,
    code_list,
    inline_code,
    markdown_link,
    plain,
    prose,
    shell_command,
    table_cell,
    visible,
)
from alembic_heads_bot.engine.report.head_diagram import head_diagram_markdown
from alembic_heads_bot.engine.report.heads import problem_line

Linker = Callable[[str, int | None], str | None]


@dataclass(frozen=True)
class Sides:
    """How to name the two sides of the merge in advice: `base` is what `git merge` takes."""

    base: str = "the base branch"
    head: str = "this branch"
    # The pre-commit hook id that writes the fix, when the reader runs the check through
    # pre-commit and so may not have `alembic-heads-bot` on PATH.
    fix_hook: str | None = None


@dataclass(frozen=True)
class Finding:
    """One thing to point at in a file: a line annotation in the job log or the check run."""

    level: str  # "error" or "warning"
    message: str
    path: str | None  # None: about the repository, not one file
    line: int | None
    title: str


def merge_message(plan: MergePlan) -> str:
    return f"merge heads {', '.join(plan.heads)}"


def fix_commands(plan: MergePlan, sides: Sides) -> list[str]:
    """The commands that resolve a merge plan, in the order to run them: each argument quoted,
    so that pasting a line runs that command whatever the ids, branch and names hold."""
    steps = []
    if plan.missing_on_head:
        merge, rebase = (shell_command(["git", verb, sides.base]) for verb in ("merge", "rebase"))
        steps.append(f"{merge}    # or: {rebase}")
    env = ["--env", plan.env_name] if plan.env_name != "alembic.ini" else []
    if sides.fix_hook is not None:
        steps.append(shell_command(["pre-commit", "run", sides.fix_hook, "--hook-stage", "manual"]))
    else:
        steps.append(shell_command(["alembic-heads-bot", "merge", *env, "-m", merge_message(plan)]))
    steps.append(f"# or, with Alembic: {alembic_merge(plan)}")
    return steps


def alembic_merge(plan: MergePlan) -> str:
    """Alembic's own command for the plan: `alembic merge -m MESSAGE HEAD...`, quoted."""
    return shell_command(["alembic", "merge", "-m", merge_message(plan), *plan.heads])


def headline(verdict: Verdict, sides: Sides = Sides()) -> str:
    """What happened, in one line: the title of the comment, the check run and the job
    summary, and the commit status's description."""
    if not verdict.ok:
        grown = _grown(verdict, "failed")
        if grown is not None:
            return f"New Alembic head: {_head_change(grown, sides)}"
        if verdict.failed_rules == ("applied-revisions",):
            return "Rewrites a revision that a database has applied"
        return f"Failed: {', '.join(verdict.failed_rules)}"
    grown = _grown(verdict, "warned")
    if grown is not None:
        return f"New Alembic head, allowed by the policy: {_head_change(grown, sides)}"
    if verdict.warned_rules:
        return f"No new Alembic head, with warnings: {', '.join(verdict.warned_rules)}"
    return f"No new Alembic head: {_heads_kept(verdict, sides)}"


def _grown(verdict: Verdict, how: str) -> EnvironmentVerdict | None:
    """The first environment with a new head that `new-heads` failed or warned on."""
    for env in verdict.environments:
        rules = env.failed_rules if how == "failed" else env.warned_rules
        if env.new_heads and "new-heads" in rules:
            return env
    return None


def _head_change(env: EnvironmentVerdict, sides: Sides) -> str:
    """ "main's single head becomes 2 once merged" """
    if env.new_environment or not env.base_heads:
        return f"a new migration history starts with {len(env.heads)} heads"
    if len(env.base_heads) == 1:
        return f"{sides.base}'s single head becomes {len(env.heads)} once merged"
    return f"{sides.base}'s {len(env.base_heads)} heads become {len(env.heads)} once merged"


def _heads_kept(verdict: Verdict, sides: Sides) -> str:
    if verdict.mode != "pull-request":
        return "one head per migration history"
    counts = {(len(env.base_heads), len(env.heads)) for env in verdict.environments}
    if counts == {(1, 1)}:
        return f"{sides.base}'s single head stays single"
    return f"{sides.base}'s heads stay as they are"


# --- findings ------------------------------------------------------------------------------


def findings(verdict: Verdict, sides: Sides = Sides()) -> list[Finding]:
    """Each new head (on its down_revision line), hazard and introduced error problem, at the
    level its rule's outcome gives; a rule that passes or is ignored gives none."""
    found: list[Finding] = []
    problems = list(verdict.problems)
    for env in verdict.environments:
        outcome = {r.rule: r.outcome for r in env.rules}
        level = _LEVELS.get(outcome.get("new-heads", "pass"))
        if level is not None:
            found += [_head_finding(level, head, env.merge_plan, sides) for head in env.new_heads]
        for hazard in env.hazards:
            level = _hazard_level(hazard, outcome)
            if level:
                found.append(Finding(level, hazard.message, hazard.path, hazard.line, hazard.code))
        problems += env.problems
    outcome = {r.rule: r.outcome for r in verdict.rules}
    level = _LEVELS.get(outcome.get("problems", "pass"))
    if level is not None:
        found += [
            Finding(level, f.problem.message, f.problem.path, f.problem.line, f.problem.code)
            for f in problems
            if f.introduced and f.problem.severity == "error"
        ]
    return found


def _head_finding(level: str, head: NewHead, plan: MergePlan | None, sides: Sides) -> Finding:
    message = _new_head_message(head, plan, sides)
    return Finding(level, message, head.path, head.line, f"New head {head.revision}")


_LEVELS = {"fail": "error", "warn": "warning"}


def _hazard_level(hazard: Hazard, outcome: Mapping[Rule, Outcome]) -> str | None:
    """The stronger of the rules the hazard violates: `hazards` (every rewrite but an edit)
    and `applied-revisions` (when a named database applied the revision)."""
    rules: list[Rule] = [] if hazard.code == "edited-revision" else ["hazards"]
    rules += ["applied-revisions"] if hazard.databases else []
    levels = {_LEVELS.get(outcome.get(rule, "pass")) for rule in rules}
    return "error" if "error" in levels else "warning" if "warning" in levels else None


def _new_head_message(head: NewHead, plan: MergePlan | None, sides: Sides) -> str:
    ancestor = head.common_ancestor or "none"
    message = (
        f"{head.revision} becomes a second Alembic head once merged into {sides.base}: it "
        f"collides with {_some(head.collides_with)} (common ancestor {ancestor})."
    )
    if plan is None:
        return message
    first = f"merge {sides.base} into the branch, then " if plan.missing_on_head else ""
    return f"{message} Fix: {first}add a merge migration, e.g. {alembic_merge(plan)}"


# --- text ------------------------------------------------------------------------------------


def compared_line(head: str, base: str | None, commits: Commits | None) -> str:
    """What was judged, said first: "feature @ abc123 merged into origin/main @ def456", or
    which tree was judged alone because no base was found."""
    if base is None:
        return f"{head} alone: no base found"
    known = commits or Commits()
    return f"{head} @ {_short(known.head)} merged into {base} @ {_short(known.base)}"


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "?"


def text_report(verdict: Verdict, sides: Sides = Sides(), compared: str | None = None) -> str:
    """The report; `compared` (see `compared_line`) is its first line when given."""
    lines = [compared] if compared is not None else []
    lines.append(f"alembic-heads-bot: {'OK' if verdict.ok else 'FAIL'}: {headline(verdict, sides)}")
    if verdict.conflicts:
        lines.append(f"git cannot merge cleanly: {', '.join(verdict.conflicts)}")
    lines += [f"note: {note}" for note in verdict.notes]
    lines += [f"  {problem_line(f.problem)}" for f in verdict.problems]
    for env in verdict.environments:
        lines += ["", *_environment_text(env, verdict, sides)]
    # Ids, paths and messages are the pull request's: no control character, bidi mark or line
    # break of theirs reaches the terminal, so every line of the report is one the bot wrote.
    return "\n".join(visible(line) for line in lines) + "\n"


def _environment_text(env: EnvironmentVerdict, verdict: Verdict, sides: Sides) -> list[str]:
    lines = [f"[{env.name}] {'ok' if env.ok else 'FAIL'}"]
    if verdict.mode == "pull-request":
        lines.append(f"  heads on {sides.base}: {_ids(env.base_heads)}")
        lines.append(f"  heads after the merge: {_ids(env.heads)}")
    else:
        lines.append(f"  heads: {_ids(env.heads)}")
    for head in env.new_heads:
        lines += _new_head_text(head, sides)
    for hazard in env.hazards:
        where = f"{hazard.path}:{hazard.line}" if hazard.line else hazard.path
        lines.append(f"  hazard: {where}: {hazard.message} [{hazard.code}]")
    lines += [f"  {_flagged(f)}" for f in env.problems]
    if env.new_branch_points:
        lines.append(f"  new branch point: {_ids(env.new_branch_points)}")
    lines += [f"  note: {note}" for note in env.notes]
    for database in env.databases:
        lines += _database_text(database, sides)
    if env.merge_plan is not None and "new-heads" in env.failed_rules + env.warned_rules:
        lines += _fix_text(env.merge_plan, sides)
    return lines


def _database_text(database: DatabaseFinding, sides: Sides) -> list[str]:
    head = f"  database {database.name} ({database.table})"
    if database.error is not None:
        return [f"{head}: warning: {database.error}"]
    if database.current is None:
        return [f"{head}: no version table: Alembic has not run there; upgrade runs everything"]
    lines = [f"{head}: at {_ids(database.current)}"]
    if database.unknown:
        lines.append(f"    warning: {_unknown_text(database)}")
    if database.pending:
        lines.append(f"    not applied yet from {sides.head}: {_ids(database.pending)}")
    lines.append(f"    upgrade heads after the merge runs: {_ids(database.upgrade)}")
    return lines


def _unknown_text(database: DatabaseFinding) -> str:
    return (
        f"it records {_ids(database.unknown)}, which the code does not have: every Alembic "
        'command there fails with "Can\'t locate revision" until the code has '
        f"{'them' if len(database.unknown) > 1 else 'it'} again"
    )


def _new_head_text(head: NewHead, sides: Sides) -> list[str]:
    where = f"{head.path}:{head.line}" if head.line else head.path
    lines = [f"  new head {head.revision} ({where})", f"    parent: {_ids(head.parents)}"]
    if head.collides_with:
        ancestor = head.common_ancestor or "none (separate lineages)"
        lines.append(f"    collides with: {_ids(head.collides_with)}; common ancestor: {ancestor}")
    return lines


def _fix_text(plan: MergePlan, sides: Sides) -> list[str]:
    lines = ["  fix:"]
    if plan.missing_on_head:
        lines.append(
            f"    {sides.head} does not contain {_ids(plan.missing_on_head)} yet: "
            f"bring {sides.base} in first, then add a merge migration:"
        )
    lines += [f"    {step}" for step in fix_commands(plan, sides)]
    if plan.note:
        lines.append(f"    note: {plan.note}")
    return lines


def _flagged(flagged: FlaggedProblem) -> str:
    origin = "" if flagged.introduced else " (already on the base branch)"
    return problem_line(flagged.problem) + origin


def _ids(ids: tuple[str, ...]) -> str:
    return ", ".join(ids) or "none"


# --- markdown --------------------------------------------------------------------------------


def markdown_report(
    verdict: Verdict,
    sides: Sides = Sides(),
    link: Linker | None = None,
    command: str | None = None,
    *,
    diagrams: bool = True,
    details: bool = True,
) -> str:
    """The pull-request comment body. `command` is the comment command that applies the fix
    (e.g. "/merge-heads"), when the bot can apply it. Leaving out the diagrams and the
    collapsed details makes a shorter report for where size is limited."""
    icon = "✅" if verdict.ok else "❌"
    parts = [f"### {icon} {plain(headline(verdict, sides))}"]
    if verdict.conflicts:
        conflicted = code_list(verdict.conflicts)
        parts.append(f"Git cannot merge this change cleanly: {conflicted}.")
    parts += [f"> {prose(note)}" for note in verdict.notes]
    for env in verdict.environments:
        parts.append(
            _environment_markdown(env, verdict, sides, link or _no_link, command, diagrams)
        )
    listed = _details_markdown(verdict, link or _no_link) if details else ""
    if listed:
        parts.append(listed)
    return "\n\n".join(parts) + "\n"


def _environment_markdown(
    env: EnvironmentVerdict,
    verdict: Verdict,
    sides: Sides,
    link: Linker,
    command: str | None,
    diagrams: bool,
) -> str:
    lines = [f"#### {inline_code(env.name)}"]
    if verdict.mode == "pull-request":
        lines += [
            "| | heads |\n|---|---|",
            _row(f"on {inline_code(sides.base)}", code_list(env.base_heads)),
            _row("after the merge", code_list(env.heads)) + "\n",  # the table ends here
        ]
    else:
        lines.append(f"Heads: {code_list(env.heads)}")
    for head in env.new_heads:
        lines.append(_new_head_markdown(head, link))
    if diagrams and env.graph is not None and env.new_heads:
        lines.append(head_diagram_markdown(env.graph, env, env.applied_in, sides.base, sides.head))
    if env.merge_plan is not None and "new-heads" in env.failed_rules + env.warned_rules:
        lines.append(_fix_markdown(env.merge_plan, sides, command))
    if env.databases:
        lines.append("\n" + _databases_markdown(env.databases, sides))  # a table of its own
    return "\n".join(lines)


def _databases_markdown(databases: tuple[DatabaseFinding, ...], sides: Sides) -> str:
    lines = [
        _row(
            "database",
            "at",
            f"not applied from {plain(sides.head)}",
            "`upgrade heads` after the merge runs",
        ),
        "|---|---|---|---|",
    ]
    warnings = []
    for database in databases:
        name = inline_code(database.name)
        if database.error is not None:
            lines.append(_row(name, "⚠️ not read", "", ""))
            warnings.append(f"> ⚠️ {name}: {prose(database.error)}")
            continue
        at = "no version table" if database.current is None else code_list(database.current)
        upgrade = _some_ids(database.upgrade) if database.upgrade else "nothing"
        lines.append(_row(name, at, _some_ids(database.pending), upgrade))
        if database.unknown:
            warnings.append(f"> ⚠️ {name}: {prose(_unknown_text(database))}.")
    return "\n".join(lines + warnings)


def _new_head_markdown(head: NewHead, link: Linker) -> str:
    where = _linked(head.path, head.line, link)
    text = (
        f"- **New head {inline_code(head.revision)}** in {where}, "
        f"on top of {code_list(head.parents)}"
    )
    if head.collides_with:
        ancestor = (
            inline_code(head.common_ancestor) if head.common_ancestor else "no common ancestor"
        )
        text += f"; collides with {_some_ids(head.collides_with)} (common ancestor {ancestor})"
    return text + "."


def _fix_markdown(plan: MergePlan, sides: Sides, command: str | None) -> str:
    lines = ["**Fix**"]
    if command:
        lines.append(
            f"- comment {inline_code(command)} and the bot commits the merge migration, or"
        )
    lines.append("- run locally:")
    lines.append(code_block("\n".join(fix_commands(plan, sides)), "sh"))
    if plan.note:
        lines.append(f"> {prose(plan.note)}")
    return "\n".join(lines)


def _details_markdown(verdict: Verdict, link: Linker) -> str:
    rows = [f"- {_problem_markdown(f, link)}" for f in verdict.problems]
    for env in verdict.environments:
        rows += [
            f"- **hazard** {inline_code(h.code)} in {_linked(h.path, h.line, link)}: "
            f"{prose(h.message)}"
            for h in env.hazards
        ]
        rows += [f"- {_problem_markdown(f, link)}" for f in env.problems]
        if env.new_branch_points:
            points = code_list(env.new_branch_points)
            rows.append(f"- new branch point {points} in {inline_code(env.name)}")
        rows += [f"- {prose(note)}" for note in env.notes]
    if not rows:
        return ""
    summary = f"Problems, hazards and notes ({len(rows)})"
    return f"<details><summary>{summary}</summary>\n\n" + "\n".join(rows) + "\n\n</details>"


def _problem_markdown(flagged: FlaggedProblem, link: Linker) -> str:
    problem = flagged.problem
    where = _linked(problem.path, problem.line, link) if problem.path else "repository"
    origin = "" if flagged.introduced else " _(already on the base branch)_"
    what = f"**{plain(problem.severity)}** {inline_code(problem.code)}"
    return f"{what} in {where}: {prose(problem.message)}{origin}"


def _linked(path: str, line: int | None, linker: Linker) -> str:
    label = inline_code(f"{path}:{line}" if line else path)
    url = linker(path, line)
    return markdown_link(label, url) if url else label


def _no_link(path: str, line: int | None) -> str | None:
    return None


def _row(*cells: str) -> str:
    """A table row of Markdown cells: no `|` inside one can split it."""
    return "|" + "|".join(f" {table_cell(cell)} " if cell else " " for cell in cells) + "|"


def _some_ids(ids: tuple[str, ...], shown: int = 5) -> str:
    """The first few ids: with many new heads, each one collides with all the others."""
    return code_list(ids[:shown]) + _more(ids, shown)


def _some(ids: tuple[str, ...], shown: int = 5) -> str:
    return ", ".join(ids[:shown]) + _more(ids, shown)


def _more(ids: tuple[str, ...], shown: int) -> str:
    return f" and {len(ids) - shown} more" if len(ids) > shown else ""
