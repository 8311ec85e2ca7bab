"""The re-check decisions: which pushes and pull requests matter, when a verdict changed, and
the note that names the base commit that brought the other head."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from alembic_heads_bot.engine.alembic_config import discover
from alembic_heads_bot.engine.analysis import judge_tree
from alembic_heads_bot.engine.bot_config import Policy
from alembic_heads_bot.engine.recheck import (
    Arrival,
    Layout,
    Push,
    arrival_note,
    changed,
    colliding_revisions,
    layout_of,
    pull_number,
    read_push,
    touches_migrations,
)
from alembic_heads_bot.engine.report.verdict import Sides, markdown_report
from alembic_heads_bot.engine.scan import TreeScan
from memtree import MemoryTree
from projects import INI, chain, check, on_branches, path, project, revision
from rendered import Rendered

SHA = "a" * 40
URL = "https://github.com/octo/shop"


# --- the push ----------------------------------------------------------------------------


def test_a_branch_push_is_re_checked_from_its_old_tip() -> None:
    payload = {"ref": "refs/heads/release/2.x", "before": SHA, "after": "b" * 40}
    assert read_push(payload) == Push("release/2.x", SHA, "b" * 40)


def test_a_new_branch_has_no_old_tip_to_compare_with() -> None:
    payload = {"ref": "refs/heads/main", "before": "0" * 40, "after": SHA, "created": True}
    assert read_push(payload) == Push("main", None, SHA)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ({"ref": "refs/tags/v1", "before": SHA, "after": SHA}, "refs/tags/v1 is not a branch"),
        (
            {"ref": "refs/heads/old", "before": SHA, "after": "0" * 40, "deleted": True},
            "branch old was deleted",
        ),
        ({"ref": "refs/heads/main"}, "the push event payload has no ref or after"),
    ],
)
def test_deletions_tags_and_broken_payloads_are_not_re_checked(payload: dict, why: str) -> None:
    notice = read_push(payload)
    assert isinstance(notice, str) and why in notice


# --- what matters ------------------------------------------------------------------------


def layout(files: dict[str, str], config: str | None = None) -> Layout:
    return layout_of(discover(MemoryTree(files)).environments, config)


def test_changes_to_revisions_and_configs_matter_and_the_rest_does_not() -> None:
    where = layout({
        "db/alembic.ini": "[alembic]\nscript_location = migrations\n"
                          "version_locations = migrations/versions extra\n",
        "db/migrations/env.py": "",
        "db/migrations/versions/a_step.py": revision("a"),
    })  # fmt: skip
    for changed_path in (
        "db/migrations/versions/b_step.py",
        "db/extra/c_step.py",
        "db/alembic.ini",
        "services/new/alembic.ini",  # a new environment
        "pyproject.toml",
        ".github/alembic-heads.yml",
        "db/migrations/env.py",
    ):
        assert touches_migrations(["README.md", changed_path], where), changed_path
    assert not touches_migrations(["README.md", "db/models.py", "db/migrations2/x.py"], where)


def test_the_config_input_names_one_more_config_file() -> None:
    where = layout({"alembic.ini": INI, **chain("a")}, config="deploy/prod.cfg")
    assert touches_migrations(["deploy/prod.cfg"], where)


# --- whether a verdict changed -----------------------------------------------------------


def test_a_base_that_moves_on_without_touching_the_pull_requests_heads_changes_nothing(
    tmp_path: Path,
) -> None:
    repo = project(tmp_path, chain("a", "b"))
    on_branches(repo, {}, {path("c"): revision("c", "b")})
    before = check(repo)
    repo.write({"README.md": "docs\n", path("b"): revision("b", "a", body="op.f()")})
    repo.commit("edit b's body")
    assert not changed(before, check(repo))


def test_a_colliding_head_landing_on_the_base_changes_the_verdict(tmp_path: Path) -> None:
    repo = project(tmp_path, chain("a", "b"))
    on_branches(repo, {}, {path("d"): revision("d", "b")})
    before = check(repo)
    repo.write({path("c"): revision("c", "b")})
    repo.commit("add c")
    after = check(repo)
    assert changed(before, after)
    assert colliding_revisions(after) == {"c": path("c")}
    repo.write({path("e"): revision("e", "c")})
    repo.commit("add e on c")
    # still red, but now colliding with e: the comment's fix must name e
    assert changed(after, check(repo))


def test_an_unknown_old_verdict_counts_as_changed(tmp_path: Path) -> None:
    repo = project(tmp_path, chain("a"))
    on_branches(repo, {}, {path("b"): revision("b", "a")})
    assert changed(None, check(repo))


# --- the base commit that brought the other head -----------------------------------------


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("Add the orders table (#123)", 123),
        ("Merge pull request #45 from octo/orders", 45),
        ("Add the orders table (see #12 for why)", None),
        ("Add the orders table", None),
    ],
)
def test_the_pull_request_a_commit_landed_is_read_from_githubs_subjects(
    subject: str, number: int | None
) -> None:
    assert pull_number(subject) == number


def test_the_note_links_each_commit_and_its_pull_request_and_says_how_to_fix_it() -> None:
    note = arrival_note("main", [Arrival("c", SHA, 7), Arrival("e", "e" * 40, None)], URL)
    assert note == (
        f"`main` moved on since this pull request was checked: `c` came with "
        f"[`aaaaaaaaaaaa`]({URL}/commit/{SHA}) ([#7]({URL}/pull/7)), `e` came with "
        f"[`eeeeeeeeeeee`]({URL}/commit/{'e' * 40}). To fix it, comment `/merge-heads` to have "
        "the bot commit a merge migration, or merge the heads as shown below."
    )
    assert arrival_note("main", [], URL) is None
    without = arrival_note("a`b", [Arrival("c", SHA, None)], URL, command=None)
    assert without is not None and without.startswith("``a`b`` moved on")
    assert without.endswith("To fix it, merge the heads as shown below.")


def test_a_hostile_revision_in_the_note_stays_code_while_the_links_stay_links() -> None:
    hostile = "c`<img src=x>` @octocat [t](http://e.test) |"
    note = arrival_note("main`<b>x</b>`", [Arrival(hostile, SHA, 7)], URL)
    assert note is not None
    body = markdown_report(
        replace(judge_tree(TreeScan(()), Policy()), notes=(note,)), Sides(base="main")
    )
    page = Rendered(body)
    assert page.unexpected_tags() == set() and page.mentions() == []
    assert page.links() == [f"{URL}/commit/{SHA}", f"{URL}/pull/7"]
    assert page.codes()[:3] == ["main`<b>x</b>`", hostile, "a" * 12]
