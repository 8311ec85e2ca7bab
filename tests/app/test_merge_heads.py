"""`/merge-heads` and auto-fix end to end: the entry point runs against the fake GitHub, the fix
is committed through the Git Data API, and the result is checked in git and in real Alembic."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from alembic_heads_bot.app.context import ActionContext
from alembic_heads_bot.app.merge_heads import Outcome, handle_comment
from alembic_heads_bot.app.publish import Session
from alembic_heads_bot.engine.merge_command import TRAILER
from fakegithub import ACTIONS_LOGIN
from projects import path, revision
from runner_model import RunnerModel
from shop import SHOP, Shop, fork_pull_request, own_comments, two_heads
from upgrade import upgrade_on_sqlite
from versiondb import sqlite_database


def comment(shop: Shop, number: int, body: str, author: str = "maintainer") -> int:
    shop.fake.add_collaborator(SHOP, "maintainer", "maintain")
    return shop.fake.add_comment(SHOP, number, body, author=author).id


def command_run(shop: Shop, number: int, body: str, author: str = "maintainer", **inputs: str):
    comment_id = comment(shop, number, body, author)
    run = shop.run(shop.fake.event_issue_comment(SHOP, comment_id), **inputs)
    reactions = [r.content for r in _comment(shop, number, comment_id).reactions]
    return run, reactions


def _comment(shop: Shop, number: int, comment_id: int):
    return next(c for c in shop.fake.comments(SHOP, number) if c.id == comment_id)


def replies(shop: Shop, number: int) -> list[str]:
    """The bot's comments that are not the sticky one, without the hidden marker each reply
    ends with (its unique id, by which a retry finds a reply whose answer was lost)."""
    return [
        REPLY_MARKER.sub("", b)
        for b in own_comments(shop, number)
        if not b.startswith("<!-- alembic-heads-bot")
    ]


REPLY_MARKER = re.compile(r"\n\n<!-- alembic-heads-bot:reply=[0-9a-f]{16} -->\Z")


def git(shop: Shop, *args: str) -> str:
    bare = shop.fake.repo(SHOP).bare.path
    return subprocess.run(
        ["git", "--git-dir", str(bare), *args], check=True, capture_output=True, text=True
    ).stdout


# --- the command -----------------------------------------------------------------------------


def test_merge_heads_commits_the_base_and_a_merge_migration_and_turns_the_pr_green(
    shop: Shop, tmp_path: Path
) -> None:
    number = two_heads(shop)
    shop.run(shop.fake.event_pull_request(SHOP, number))  # red, with the sticky comment
    old_head, main = shop.fake.pull(SHOP, number).head_sha, shop.fake.branch_sha(SHOP, "main")
    run, reactions = command_run(shop, number, '/merge-heads -m "join c and d"')
    assert run.code == 0, run.log
    assert reactions == ["eyes", "rocket"]
    new_head = shop.fake.branch_sha(SHOP, "feature")
    assert git(shop, "rev-list", "--parents", "-n1", new_head).split() == [new_head, old_head, main]
    added = git(shop, "diff", "--name-only", old_head, new_head).split()
    assert path("c") in added and any("join_c_and_d" in p for p in added)
    message = git(shop, "log", "-1", "--format=%B", new_head)
    assert message.startswith("Merge main and add merge migration ")
    assert f"{TRAILER}: {old_head}" in message
    [merge_rev] = upgrade_on_sqlite(shop, new_head, tmp_path)
    assert merge_rev not in ("c", "d")
    assert [c.conclusion for c in shop.fake.check_runs(SHOP, new_head)] == ["success"]
    [sticky] = [b for b in own_comments(shop, number) if b.startswith("<!-- alembic-heads-bot")]
    assert "state=resolved" in sticky
    [reply] = replies(shop, number)
    assert f"/{SHOP}/commit/{new_head})" in reply and "with `main` merged in" in reply


def test_a_branch_that_holds_the_base_gets_a_one_parent_commit(shop: Shop, tmp_path: Path) -> None:
    shop.commit_main({path("c"): revision("c", "b")})
    shop.branch("feature", {path("d"): revision("d", "b")})  # from main: has c already
    number = shop.fake.open_pr(SHOP, head="feature").number
    old_head = shop.fake.branch_sha(SHOP, "feature")
    run, _ = command_run(shop, number, "/merge-heads")
    assert run.code == 0, run.log
    new_head = shop.fake.branch_sha(SHOP, "feature")
    assert git(shop, "rev-list", "--parents", "-n1", new_head).split() == [new_head, old_head]
    assert len(upgrade_on_sqlite(shop, new_head, tmp_path)) == 1


def test_the_rebase_strategy_re_parents_the_pull_requests_revision(
    shop: Shop, tmp_path: Path
) -> None:
    number = two_heads(shop)
    run, _ = command_run(shop, number, "/merge-heads --strategy=rebase")
    assert run.code == 0, run.log
    new_head = shop.fake.branch_sha(SHOP, "feature")
    assert upgrade_on_sqlite(shop, new_head, tmp_path) == ["d"]
    text = git(shop, "show", f"{new_head}:{path('d')}")
    assert "down_revision = 'c'" in text


def test_a_commenter_without_write_access_is_refused(shop: Shop) -> None:
    number = two_heads(shop)
    shop.fake.add_collaborator(SHOP, "reader", "triage")
    head = shop.fake.branch_sha(SHOP, "feature")
    run, reactions = command_run(shop, number, "/merge-heads", author="reader")
    assert (run.code, reactions) == (1, ["eyes", "-1"])
    [reply] = replies(shop, number)
    assert reply.startswith("@reader: only collaborators with write access")
    assert shop.fake.branch_sha(SHOP, "feature") == head


def test_comments_by_bots_edits_and_plain_issues_are_ignored_without_a_request(
    shop: Shop,
) -> None:
    number = two_heads(shop)
    by_bot = shop.fake.add_comment(SHOP, number, "/merge-heads", author="renovate[bot]")
    run = shop.run(shop.fake.event_issue_comment(SHOP, by_bot.id))
    assert (run.code, run.api) == (0, []) and "written by a bot" in run.log
    human = comment(shop, number, "/merge-heads")
    edited = shop.fake.event_issue_comment(SHOP, human)
    edited.payload["action"] = "edited"
    run = shop.run(edited)
    assert (run.code, run.api) == (0, []) and "the comment was edited" in run.log
    issue = shop.fake.open_issue(SHOP).number
    on_issue = shop.fake.add_comment(SHOP, issue, "/merge-heads", author="maintainer")
    run = shop.run(shop.fake.event_issue_comment(SHOP, on_issue.id))
    assert (run.code, run.api) == (0, []) and "not a pull request" in run.log
    mention = comment(shop, number, "should we /merge-heads?")
    assert shop.run(shop.fake.event_issue_comment(SHOP, mention)).api == []


def test_unknown_arguments_get_the_usage(shop: Shop) -> None:
    number = two_heads(shop)
    run, reactions = command_run(shop, number, "/merge-heads --force; rm -rf /")
    assert (run.code, reactions) == (1, ["eyes", "confused"])
    [reply] = replies(shop, number)
    assert reply.startswith("Cannot read this command: unknown argument `--force;`")
    assert 'Usage: `/merge-heads [-m "message"]' in reply


def test_nothing_to_merge_changes_nothing(shop: Shop) -> None:
    head = shop.branch("feature", {path("c"): revision("c", "b")})
    number = shop.fake.open_pr(SHOP, head="feature").number
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions) == (0, ["eyes", "+1"])
    assert shop.fake.branch_sha(SHOP, "feature") == head
    assert replies(shop, number) == ["Nothing to merge: one head per stream once merged."]


def test_a_fork_gets_the_file_to_commit_itself(shop: Shop) -> None:
    number = fork_pull_request(shop)
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions) == (1, ["eyes", "confused"])
    [reply] = replies(shop, number)
    assert reply.startswith("This pull request comes from a fork")
    assert (
        "down_revision: Union[str, Sequence[str], None] = ('b', 'd')" in reply
        and "git merge upstream/main" not in reply
    )


def test_a_branch_that_moves_during_the_fix_is_judged_again(shop: Shop, tmp_path: Path) -> None:
    number = two_heads(shop)

    def someone_pushes() -> None:
        shop.src.checkout("feature")
        shop.src.write({"README.md": "pushed meanwhile\n"})
        shop.src.commit("docs")
        shop.src.checkout("main")
        shop.push()

    shop.fake.before_next("POST", f"/repos/{SHOP}/git/commits", someone_pushes)
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions) == (0, ["eyes", "rocket"]), run.log
    new_head = shop.fake.branch_sha(SHOP, "feature")
    assert "README.md" in git(shop, "ls-tree", "--name-only", new_head)
    assert len(upgrade_on_sqlite(shop, new_head, tmp_path)) == 1
    assert "moved (attempt 1)" in run.log


def test_two_commands_in_a_row_make_one_merge_migration(shop: Shop) -> None:
    number = two_heads(shop)
    first, _ = command_run(shop, number, "/merge-heads")
    fixed = shop.fake.branch_sha(SHOP, "feature")
    second, reactions = command_run(shop, number, "/merge-heads")
    assert (first.code, second.code, reactions) == (0, 0, ["eyes", "+1"])
    assert shop.fake.branch_sha(SHOP, "feature") == fixed


def test_two_commands_racing_make_one_merge_migration(shop: Shop) -> None:
    number = two_heads(shop)
    old = shop.fake.branch_sha(SHOP, "feature")
    events = [shop.fake.event_issue_comment(SHOP, comment(shop, number, "/merge-heads"))]
    events.append(shop.fake.event_issue_comment(SHOP, comment(shop, number, "/merge-heads")))
    jobs = [shop.launch(event) for event in events]  # both run at once
    runs = [shop.finish(job) for job in jobs]
    assert sorted(run.code for run in runs) == [0, 0], [run.log for run in runs]
    commits = git(shop, "rev-list", "--first-parent", f"{old}..feature").split()
    assert len(commits) == 1  # one fix commit, whichever run made it
    closing = [
        _comment(shop, number, e.payload["comment"]["id"]).reactions[-1].content for e in events
    ]
    assert sorted(closing) == ["+1", "rocket"]


def test_a_textual_conflict_commits_nothing_and_says_what_conflicts(shop: Shop) -> None:
    shop.commit_main({"README.md": "main's words\n", path("c"): revision("c", "b")})
    shop.branch(
        "feature", {"README.md": "feature's words\n", path("d"): revision("d", "b")}, "main~1"
    )
    number = shop.fake.open_pr(SHOP, head="feature").number
    head = shop.fake.branch_sha(SHOP, "feature")
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions) == (1, ["eyes", "confused"])
    [reply] = replies(shop, number)
    assert "cannot merge main into this branch cleanly (`README.md`)" in reply
    assert shop.fake.branch_sha(SHOP, "feature") == head


# --- lost answers: one reply, one reaction ------------------------------------------------


def test_a_reply_whose_answer_was_lost_is_not_posted_twice(shop: Shop) -> None:
    shop.branch("feature", {path("c"): revision("c", "b")})
    number = shop.fake.open_pr(SHOP, head="feature").number
    shop.fake.fail_next("POST", f"/repos/{SHOP}/issues/{number}/comments", status=502, after=True)
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions, run.errors()) == (0, ["eyes", "+1"], []), run.log
    assert replies(shop, number) == ["Nothing to merge: one head per stream once merged."]
    assert run.api.count(("POST", f"/repos/{SHOP}/issues/{number}/comments")) == 1


@pytest.mark.parametrize("lost", [{"status": 502, "after": True}, {"drop": True, "after": True}])
def test_a_reaction_whose_answer_was_lost_is_looked_up_not_sent_again(
    shop: Shop, lost: dict[str, object]
) -> None:
    shop.branch("feature", {path("c"): revision("c", "b")})
    number = shop.fake.open_pr(SHOP, head="feature").number
    shop.fake.fail_next("POST", f"/repos/{SHOP}/issues/comments/*/reactions", **lost)
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions, run.errors()) == (0, ["eyes", "+1"], []), run.log
    posted = [p for m, p in run.api if m == "POST" and p.endswith("/reactions")]
    assert len(posted) == 2  # 👀 once (found by the bot's login), then 👍


# --- no silent end: every failure is a reply and 😕 -----------------------------------------

GITHUB_FAILS = {
    "blob": ("POST", f"/repos/{SHOP}/git/blobs", 502, 2, "cannot upload a file: GitHub answered"),
    "tree": ("POST", f"/repos/{SHOP}/git/trees", 502, 2, "cannot create the fix's tree"),
    "commit": ("POST", f"/repos/{SHOP}/git/commits", 502, 2, "cannot create the fix commit"),
    "ref": (
        "PATCH", f"/repos/{SHOP}/git/refs/heads/feature", 502, 2,
        "cannot move feature to the fix commit: GitHub answered 502 Bad Gateway (also when",
    ),
    "ref 409": (
        "PATCH", f"/repos/{SHOP}/git/refs/heads/feature", 409, 1,
        "cannot move feature to the fix commit: GitHub answered 409 Conflict",
    ),
    "ref 422": (  # refused though nobody pushed (a rule, a protected branch): not "moved"
        "PATCH", f"/repos/{SHOP}/git/refs/heads/feature", 422, 1,
        "cannot move feature to the fix commit: GitHub answered 422",
    ),
}  # fmt: skip


@pytest.mark.parametrize("where", GITHUB_FAILS)
def test_github_failing_on_the_fix_ends_with_a_reply_saying_what_failed(
    shop: Shop, where: str
) -> None:
    method, failing, status, times, said = GITHUB_FAILS[where]
    number = two_heads(shop)
    head = shop.fake.branch_sha(SHOP, "feature")
    shop.fake.fail_next(method, failing, status=status, times=times)
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions) == (2, ["eyes", "confused"]), run.log
    [reply] = replies(shop, number)
    assert reply.startswith("`/merge-heads` failed:\n\n```text\n")
    assert said in reply
    [error] = run.errors()
    assert said in error
    assert shop.fake.branch_sha(SHOP, "feature") == head


def test_git_failing_ends_with_a_reply_saying_what_failed(shop: Shop) -> None:
    number = two_heads(shop)
    shop.fake.repo(SHOP).bare.git("update-ref", "-d", "refs/heads/feature")  # gone mid-review
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions) == (2, ["eyes", "confused"]), run.log
    [reply] = replies(shop, number)
    assert "git fetch of refs/heads/main, refs/heads/feature from origin failed" in reply


def test_an_internal_error_ends_with_a_reply_saying_what_failed(shop: Shop) -> None:
    number = two_heads(shop)
    comment_id = comment(shop, number, "/merge-heads")

    def broken(ctx: ActionContext, session: Session, body: str) -> Outcome:
        raise KeyError("a bug, injected")

    handlers = {"issue_comment": partial(handle_comment, command=broken)}
    run = shop.run_here(shop.fake.event_issue_comment(SHOP, comment_id), handlers=handlers)
    assert run.code == 2
    reactions = [r.content for r in _comment(shop, number, comment_id).reactions]
    assert reactions == ["eyes", "confused"]
    [reply] = replies(shop, number)
    assert (
        reply
        == "`/merge-heads` failed:\n\n```text\ninternal error: KeyError: 'a bug, injected'\n```"
    )
    assert len(run.errors()) == 1


def test_a_failure_after_the_commit_still_says_what_was_committed(shop: Shop) -> None:
    shop.commit_main({"alembic-heads-report.json/keep": ""})  # the verdict file cannot be written
    number = two_heads(shop)
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions) == (2, ["eyes", "rocket"]), run.log
    new_head = shop.fake.branch_sha(SHOP, "feature")
    [reply] = replies(shop, number)
    assert reply.startswith(f"Committed [{new_head[:12]}](")
    assert "But the bot could not set the new commit's status and comment:" in reply
    assert "Is a directory" in reply


def test_an_env_that_names_no_environment_is_an_error_not_nothing_to_merge(shop: Shop) -> None:
    number = two_heads(shop)
    head = shop.fake.branch_sha(SHOP, "feature")
    run, reactions = command_run(shop, number, "/merge-heads --env nope")
    assert (run.code, reactions) == (1, ["eyes", "confused"]), run.log
    [reply] = replies(shop, number)
    assert reply.startswith("Cannot fix this:")
    assert "no single Alembic environment matches 'nope'" in reply
    assert shop.fake.branch_sha(SHOP, "feature") == head


def test_an_env_that_designates_the_environment_is_fixed(shop: Shop) -> None:
    number = two_heads(shop)
    run, reactions = command_run(shop, number, "/merge-heads --env migrations")
    assert (run.code, reactions) == (0, ["eyes", "rocket"]), run.log


def test_a_reply_too_long_for_github_is_shortened_not_dropped(shop: Shop) -> None:
    names = [f"conflicts/{'x' * 180}{i:03}.txt" for i in range(400)]  # 400 x 190 characters
    shop.commit_main({**dict.fromkeys(names, "main's words\n"), path("c"): revision("c", "b")})
    feature = {**dict.fromkeys(names, "feature's words\n"), path("d"): revision("d", "b")}
    shop.branch("feature", feature, "main~1")
    number = shop.fake.open_pr(SHOP, head="feature").number
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions) == (1, ["eyes", "confused"]), run.log
    [body] = own_comments(shop, number)
    assert len(body) <= 65_536
    [reply] = replies(shop, number)
    assert reply.startswith("Git cannot merge main into this branch cleanly (`conflicts/")
    assert reply.endswith("… (shortened to fit in a GitHub comment; the job log has all of it)")
    assert names[-1] in run.log  # all of it, escaped into the one error line


# --- auto-fix --------------------------------------------------------------------------------


def test_auto_fix_commits_once_and_never_fixes_its_own_fix(shop: Shop, tmp_path: Path) -> None:
    number = two_heads(shop)
    run = shop.run(shop.fake.event_pull_request(SHOP, number), auto_fix="true")
    assert run.code == 1  # the judged head has two heads; the fix is a new commit
    fixed = shop.fake.branch_sha(SHOP, "feature")
    assert TRAILER in git(shop, "log", "-1", "--format=%B", fixed)
    assert [c.conclusion for c in shop.fake.check_runs(SHOP, fixed)] == ["success"]
    assert len(upgrade_on_sqlite(shop, fixed, tmp_path)) == 1
    again = shop.run(shop.fake.event_pull_request(SHOP, number, "synchronize"), auto_fix="true")
    assert again.code == 0 and shop.fake.branch_sha(SHOP, "feature") == fixed
    assert not any(m == "POST" and "/git/" in p for m, p in again.api)
    assert [c.author for c in shop.fake.comments(SHOP, number)] == [ACTIONS_LOGIN]


def test_the_rebase_strategy_refuses_to_re_parent_what_staging_applied(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = "databases: [{name: staging, url_env: STAGING_DATABASE_URL}]\n"
    shop.commit_main({".github/alembic-heads.yml": config})
    number = two_heads(shop)
    # Staging was deployed from the branch: it ran d, the revision a rebase would move.
    monkeypatch.setenv("STAGING_DATABASE_URL", sqlite_database(tmp_path, "d", name="staging"))
    head = shop.fake.branch_sha(SHOP, "feature")
    run, reactions = command_run(shop, number, "/merge-heads --strategy=rebase")
    assert (run.code, reactions) == (1, ["eyes", "confused"]), run.log
    [reply] = replies(shop, number)
    assert "d is applied in staging: re-parenting it would rewrite the history" in reply
    assert "Use the merge strategy" in reply
    assert shop.fake.branch_sha(SHOP, "feature") == head
    run, _ = command_run(shop, number, "/merge-heads")
    assert run.code == 0, run.log
    assert shop.fake.branch_sha(SHOP, "feature") != head


# --- hostile input -----------------------------------------------------------------------------

MARKER = "alembic_heads_bot_ran_code"
# An id Alembic accepts that closes the merge file's docstring and runs a statement.
BREAKOUT = f'x"""\nopen({MARKER!r}, "w").close()\n"""'
HOSTILE = f'"""a pull request\'s revision"""\nrevision = {BREAKOUT!r}\ndown_revision = "b"\n'


def hostile_pull_request(shop: Shop) -> int:
    """PR #1 adds a head on b whose id would become code, while main has c on b."""
    shop.commit_main({path("c"): revision("c", "b")})
    shop.branch("feature", {path("evil"): HOSTILE}, start="main~1")
    return shop.fake.open_pr(SHOP, head="feature").number


def test_merge_heads_refuses_a_head_id_that_would_become_code(shop: Shop) -> None:
    number = hostile_pull_request(shop)
    head = shop.fake.branch_sha(SHOP, "feature")
    run, reactions = command_run(shop, number, "/merge-heads")
    assert (run.code, reactions) == (1, ["eyes", "confused"]), run.log
    [reply] = replies(shop, number)
    assert reply.startswith(
        "Cannot fix this:\n\n```text\n[alembic.ini] migrations/versions/evil_step.py line 2: "
        "revision id "
    )
    assert "has characters the bot never writes into a migration file" in reply
    assert shop.fake.branch_sha(SHOP, "feature") == head


def test_auto_fix_commits_nothing_for_a_head_id_that_would_become_code(shop: Shop) -> None:
    number = hostile_pull_request(shop)
    head = shop.fake.branch_sha(SHOP, "feature")
    run = shop.run(shop.fake.event_pull_request(SHOP, number), auto_fix="true")
    assert run.code != 0
    assert "auto-fix: Cannot fix this:" in run.log
    assert "[alembic.ini] migrations/versions/evil_step.py line 2: revision id " in run.log
    assert shop.fake.branch_sha(SHOP, "feature") == head
    assert not any(m == "POST" and "/git/" in p for m, p in run.api)


def test_a_hostile_message_is_committed_as_text_that_runs_nothing(
    shop: Shop, tmp_path: Path
) -> None:
    number = two_heads(shop)
    old_head = shop.fake.branch_sha(SHOP, "feature")
    message = f'join""" ; open("{MARKER}", "w").close() ; """'  # valid Python after `"""`
    body = f"/merge-heads -m {shlex.quote(message)}"
    run, reactions = command_run(shop, number, body)
    assert (run.code, reactions) == (0, ["eyes", "rocket"]), run.log
    new_head = shop.fake.branch_sha(SHOP, "feature")
    [added] = [
        p for p in git(shop, "diff", "--name-only", old_head, new_head).split() if "join" in p
    ]
    where = tmp_path / "import-here"
    where.mkdir()
    (where / "merge.py").write_text(git(shop, "show", f"{new_head}:{added}"))
    code = "import runpy, sys; runpy.run_path(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", code, "merge.py"], cwd=where, capture_output=True, check=False
    )
    assert (done.returncode, (where / MARKER).exists()) == (0, False), done.stderr
    assert len(upgrade_on_sqlite(shop, new_head, tmp_path)) == 1


def test_auto_fix_on_a_conflict_says_why_in_one_error_line_that_forges_no_command(
    shop: Shop,
) -> None:
    hostile = "notes\n::warning::forged\n::set-output name=ok::true\n.txt"
    shop.commit_main({hostile: "main's words\n", path("c"): revision("c", "b")})
    shop.branch("feature", {hostile: "feature's words\n", path("d"): revision("d", "b")}, "main~1")
    number = shop.fake.open_pr(SHOP, head="feature").number
    head = shop.fake.branch_sha(SHOP, "feature")
    run = shop.run(shop.fake.event_pull_request(SHOP, number), auto_fix="true")
    assert run.code == 2
    [error] = run.errors()
    assert error.startswith("alembic-heads-bot: auto-fix: Git cannot merge main into this branch")
    commands = RunnerModel().feed(run.log)
    assert not [c for c in commands if c[0] in ("warning", "set-output")]
    assert not any("forged" in data for name, _, data in commands if name != "error")
    assert shop.fake.branch_sha(SHOP, "feature") == head
