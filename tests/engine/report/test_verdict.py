"""Reports from real verdicts: what the check prints and what the pull-request comment says."""

from __future__ import annotations

import re

from alembic_heads_bot.adapters.databases import DatabaseReader
from alembic_heads_bot.app.pull_request import analyse
from alembic_heads_bot.engine.analysis import MergePlan, judge_tree
from alembic_heads_bot.engine.bot_config import Policy
from alembic_heads_bot.engine.graph import build_graph
from alembic_heads_bot.engine.model import Problem
from alembic_heads_bot.engine.report.verdict import (
    Sides,
    findings,
    fix_commands,
    markdown_report,
    text_report,
)
from alembic_heads_bot.engine.scan import EnvironmentScan, TreeScan
from hostile import (
    PR_FILE,
    REFUSED,
    SHELL_BASE_HEAD,
    SHELL_PR_HEAD,
    SHELL_SIDES,
    SIDES,
    Shell,
    assert_renders_as_text,
    hostile_verdict,
    in_markdown,
    linker,
    shell_verdict,
)
from rendered import Rendered
from verdicts import classic
from versiondb import sqlite_database

INI = "[alembic]\nscript_location = m\n"


def test_markdown_says_it_fails_links_the_file_and_draws_the_collision(tmp_path, mermaid_parser):
    repo = classic(tmp_path)
    verdict = analyse(repo.path, "main", "feature")
    body = markdown_report(
        verdict,
        Sides(base="main", head="feature"),
        link=lambda path, line: f"https://example.test/blob/{path}#L{line}",
        command="/merge-heads",
    )
    assert body.startswith("### ❌ New Alembic head: main's single head becomes 2 once merged\n")
    assert "| on `main` | `c` |" in body
    assert "| after the merge | `c`, `d` |" in body
    assert "[`m/versions/d.py:3`](https://example.test/blob/m/versions/d.py#L3)" in body
    assert "collides with `c` (common ancestor `b`)" in body
    [diagram] = mermaid_parser.assert_blocks_parse(body)
    assert ['"b (branchpoint)' in diagram, '"a' in diagram] == [True, False]
    assert "comment `/merge-heads`" in body
    assert "git merge main    # or: git rebase main" in body


def test_a_clean_change_says_so_in_one_line(tmp_path):
    repo = classic(tmp_path)
    verdict = analyse(repo.path, "main", "main")
    assert markdown_report(verdict).splitlines()[0] == (
        "### ✅ No new Alembic head: the base branch's single head stays single"
    )
    assert text_report(verdict).startswith("alembic-heads-bot: OK")


def test_untrusted_text_cannot_open_html_or_mention_people():
    problem = Problem.of(
        "non-literal", "value <img src=x onerror=alert(1)> by @octocat", "m/x.py", 2
    )
    graph = build_graph([])
    env = EnvironmentScan(environment=_env(), files=(), graph=graph, problems=(problem,))
    verdict = judge_tree(TreeScan((env,)), Policy())
    body = markdown_report(verdict)
    assert "<img" not in body
    assert "&lt;img" in body
    assert "@octocat" not in body


def _env():
    from alembic_heads_bot.engine.model import Environment

    return Environment("alembic.ini", "alembic.ini", "alembic", "m", ("m/versions",))


def test_databases_are_listed_and_marked_in_the_diagram(tmp_path, mermaid_parser):
    repo = classic(tmp_path)
    repo.checkout("main")
    repo.write({".github/alembic-heads.yml": "databases: [{name: production, url_env: DB}]\n"})
    repo.commit("name the production database")
    reader = DatabaseReader({"DB": sqlite_database(tmp_path, "c")})
    verdict = analyse(repo.path, "main", "feature", databases=reader)
    sides = Sides(base="main", head="feature")

    body = markdown_report(verdict, sides)
    assert "| `production` | `c` | `d` | `d` |" in body
    [diagram] = mermaid_parser.assert_blocks_parse(body)
    assert '["c (head) (current: production)<br/>step c"]' in diagram
    applied = next(
        line
        for line in diagram.splitlines()
        if line.strip().startswith("class ") and line.endswith(" applied")
    )
    assert sorted(applied.split()[1].split(",")) == ["r1", "r2"]  # b and c; a is not drawn
    assert "applied in a database the bot reads" in body

    text = text_report(verdict, sides)
    assert "  database production (alembic_version): at c" in text
    assert "    not applied yet from feature: d" in text
    assert "    upgrade heads after the merge runs: d" in text


def test_an_unreadable_database_is_a_warning_in_both_reports(tmp_path):
    repo = classic(tmp_path)
    repo.checkout("main")
    repo.write({".github/alembic-heads.yml": "databases: [{name: staging, url_env: DB}]\n"})
    repo.commit("name the staging database")
    verdict = analyse(repo.path, "main", "feature", databases=DatabaseReader({}))
    assert "| `staging` | ⚠️ not read | | |" in markdown_report(verdict)
    assert "> ⚠️ `staging`: the variable DB is not set." in markdown_report(verdict)
    assert "database staging (alembic_version): warning: the variable DB is not set" in (
        text_report(verdict)
    )


# --- hostile text ------------------------------------------------------------------------------


def test_hostile_ids_file_names_and_messages_render_as_text_in_the_job_summary(
    tmp_path, mermaid_parser
):
    verdict = hostile_verdict(tmp_path)
    summary = markdown_report(verdict, SIDES, link=linker)  # what the Action appends
    assert_renders_as_text(summary, verdict)
    assert len(mermaid_parser.assert_blocks_parse(summary)) == 1
    page = Rendered(summary)
    assert f"{in_markdown(PR_FILE)}:4" in page.codes()  # the file's link label, whole
    assert any(REFUSED in text and "not allowed" in text for text in page.text().split("\n"))


def test_the_text_report_keeps_one_line_per_line_whatever_the_ids_hold(tmp_path):
    verdict = hostile_verdict(tmp_path)
    text = text_report(verdict, SIDES)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]", text)
    assert [line for line in text.splitlines() if line.startswith("click")] == []
    assert "  heads on main: c|`x`<b>b</b><img src=x>]]\\nclick c call alert()\\n" in text


def test_every_printed_fix_command_pastes_as_the_arguments_it_shows(tmp_path):
    verdict = shell_verdict(tmp_path)
    [env] = verdict.environments
    assert env.merge_plan is not None
    heads, base = env.merge_plan.heads, SHELL_SIDES.base
    assert set(heads) == {SHELL_BASE_HEAD, SHELL_PR_HEAD}
    message = f"merge heads {', '.join(heads)}"
    # what pasting the line runs, and what pasting the alternative after its "# or" runs
    expected = {
        "git merge": ([["git", "merge", base]], [["git", "rebase", base]]),
        "alembic-heads-bot": ([["alembic-heads-bot", "merge", "-m", message]], None),
        "# or, with Alembic": ([], [["alembic", "merge", "-m", message, *heads]]),
        "alembic merge": ([["alembic", "merge", "-m", message, *heads]], None),
    }
    text = text_report(verdict, SHELL_SIDES).split("  fix:\n")[1]
    [block] = Rendered(markdown_report(verdict, SHELL_SIDES)).code_block("sh")
    [annotation] = [f.message for f in findings(verdict, SHELL_SIDES)]
    printed = [
        *(line.strip() for line in text.splitlines()[1:]),
        *block.splitlines(),
        annotation.split("e.g. ", 1)[1],
    ]
    shell = Shell(tmp_path)
    for line in printed:
        [(whole, alternative)] = [v for k, v in expected.items() if line.startswith(k)]
        assert shell.paste(line) == whole, line
        if alternative is not None:
            assert shell.paste(line.split("# or", 1)[1].split(": ", 1)[1]) == alternative
    assert len(printed) == 7 and shell.side_effects() == []


def test_the_env_option_and_every_id_are_quoted_too(tmp_path):
    plan = MergePlan("db $(touch pwned).ini", ("a;touch pwned", "b|touch pwned"), None, ("x",))
    commands = fix_commands(plan, Sides(base="main&&touch pwned"))
    shell = Shell(tmp_path)
    assert [shell.paste(line) for line in commands] == [
        [["git", "merge", "main&&touch pwned"]],
        [["alembic-heads-bot", "merge", "--env", "db $(touch pwned).ini", "-m",
          "merge heads a;touch pwned, b|touch pwned"]],
        [],
    ]  # fmt: skip
    assert shell.side_effects() == []
