"""A broken base branch repaired by one fix pull request (issue 16), end to end: the Action's
entry point runs for `push` and `schedule` events against the fake GitHub, with real git, and
the fix is checked with real Alembic on SQLite.

One history serves every step, as it would unfold on GitHub: two pull requests merged back to
back, a re-run, another push while still broken, the heads joined by hand, the nightly run.
"""

from __future__ import annotations

import re
from pathlib import Path

from fakegithub import ACTIONS_LOGIN
from projects import path, revision
from shop import SHOP, ActionRun, Shop
from upgrade import upgrade_on_sqlite

FIX = "alembic-heads-bot/merge-heads/main"


def merge_pr(shop: Shop, number: int, branch: str) -> str:
    """Land pull request `number` as the merge button does; the tip before."""
    before = shop.fake.branch_sha(SHOP, "main")
    shop.src.checkout("main")
    shop.src.merge(branch, f"Merge pull request #{number} from octo/{branch}")
    shop.push()
    shop.fake.close_pr(SHOP, number, merged=True)
    return before


def pushed(shop: Shop, before: str) -> ActionRun:
    return shop.run(shop.fake.event_push(SHOP, "refs/heads/main", before=before))


def requests(run: ActionRun) -> list[str]:
    """The run's API requests, shas left out, the repository's prefix too."""
    prefix = f"/repos/{SHOP}"
    return [f"{m} {re.sub('[0-9a-f]{40}', 'SHA', p.removeprefix(prefix))}" for m, p in run.api]


# The fix commit on the tip: its file, its tree on the tip's, the commit on the tip.
FIX_COMMIT = [
    "POST /git/blobs",
    "GET /git/trees/SHA",
    "POST /git/trees",
    "GET /git/commits/SHA",
    "POST /git/commits",
]
RECHECK = ["GET /pulls"]  # the re-check of the open pull requests into main (app.recheck)


def fix_pulls(shop: Shop) -> list[int]:
    return [p.number for p in shop.fake.open_pulls(SHOP, head=FIX)]


def git(shop: Shop, *args: str) -> str:
    return shop.fake.repo(SHOP).bare.text(*args)


def test_a_broken_main_gets_one_fix_pull_request_kept_up_to_date_then_closed(
    shop: Shop, tmp_path: Path
) -> None:
    shop.branch("orders", {path("c"): revision("c", "b")})
    shop.branch("users", {path("d"): revision("d", "b")})
    orders = shop.fake.open_pr(SHOP, head="orders").number
    users = shop.fake.open_pr(SHOP, head="users").number

    # The first lands: main has one head; the re-check turns the other red. No fix yet.
    first = pushed(shop, merge_pr(shop, orders, "orders"))
    assert first.code == 0, first.log
    assert fix_pulls(shop) == []

    # The second lands right after, its check still green: main has two heads.
    broken = pushed(shop, merge_pr(shop, users, "users"))
    tip = shop.fake.branch_sha(SHOP, "main")
    assert broken.code == 1, broken.log
    heads = f"alembic-heads-bot: main ({tip[:12]}) has 2 Alembic heads: c, d"
    assert broken.errors()[0] == heads
    [check] = shop.fake.check_runs(SHOP, tip)
    assert (check.conclusion, check.output["title"]) == (
        "failure",
        "main has 2 Alembic heads: c, d",
    )
    server = shop.fake.server_url
    culprits = check.output["summary"]
    c_commit = git(shop, "rev-parse", "main^1")  # the merge of #orders
    assert (
        f"- `c` came with [`{c_commit[:12]}`]({server}/{SHOP}/commit/{c_commit}) in "
        f"[#{orders}]({server}/{SHOP}/pull/{orders})" in culprits
    )
    assert (
        f"- `d` came with [`{tip[:12]}`]({server}/{SHOP}/commit/{tip}) in "
        f"[#{users}]({server}/{SHOP}/pull/{users})" in culprits
    )

    [number] = fix_pulls(shop)
    fix = shop.fake.pull(SHOP, number)
    assert (fix.base_ref, fix.author, fix.title) == ("main", ACTIONS_LOGIN, check.output["title"])
    assert "```mermaid" in fix.body and f"[#{users}]({server}/{SHOP}/pull/{users})" in fix.body
    # One commit on the tip, adding only the merge migration; real Alembic then sees one head
    # and upgrades an empty SQLite database through both branches.
    assert git(shop, "rev-parse", f"{fix.head_sha}^1") == tip
    [fix_check] = shop.fake.check_runs(SHOP, fix.head_sha)
    assert (fix_check.name, fix_check.conclusion) == ("alembic-heads", "success")
    [added] = git(shop, "diff", "--name-only", tip, fix.head_sha).split()
    assert added.startswith("migrations/versions/") and "merge_heads_c_d" in added
    [merge] = upgrade_on_sqlite(shop, fix.head_sha, tmp_path)
    assert added.endswith(f"/{merge}_merge_heads_c_d.py")
    assert requests(broken) == [
        "POST /check-runs",
        "GET /pulls",  # head=octo:alembic-heads-bot/merge-heads/main: none open yet
        *FIX_COMMIT,
        "POST /git/refs",
        "POST /check-runs",  # the fix commit's own, green: no workflow runs on it
        "POST /pulls",
        *RECHECK,
    ]

    # The same event again (a re-run, an overlapping run): it finds its fix on this tip.
    again = pushed(shop, git(shop, "rev-parse", "main^1"))
    assert again.code == 1, again.log
    assert requests(again) == ["GET /pulls", *RECHECK]
    assert fix_pulls(shop) == [number] and shop.fake.pull(SHOP, number).head_sha == fix.head_sha

    # Main moves on and stays broken: the same pull request, its branch on the new tip.
    old_fix = fix.head_sha
    moved = pushed(shop, shop.land({path("e"): revision("e", "d")}, "Add e (#9)"))
    tip = shop.fake.branch_sha(SHOP, "main")
    assert moved.code == 1, moved.log
    assert fix_pulls(shop) == [number]
    fix = shop.fake.pull(SHOP, number)
    assert fix.head_sha != old_fix and git(shop, "rev-parse", f"{fix.head_sha}^1") == tip
    assert fix.title == "main has 2 Alembic heads: c, e"
    assert requests(moved) == [
        "GET /pulls",
        *FIX_COMMIT,
        f"GET /git/ref/heads/{FIX}",
        f"PATCH /git/refs/heads/{FIX}",  # forced: the bot's own branch, and only it
        "POST /check-runs",
        f"PATCH /pulls/{number}",  # the title and body name the new heads
        *RECHECK,
    ]

    # Nightly on a broken main: it fails, naming the heads; GitHub is asked only for the
    # collision forecasts of the open pull requests (the fix is the one adding a migration).
    nightly = shop.run(shop.fake.event_schedule(SHOP))
    assert nightly.code == 1, nightly.log
    assert requests(nightly) == ["GET /pulls", f"GET /issues/{number}/comments"]
    assert f"main ({tip[:12]}) has 2 Alembic heads: c, e" in nightly.errors()[0]

    # Someone joins the heads by hand: the fix pull request is closed, saying why.
    joined = pushed(shop, shop.land({path("m"): revision("m", ("c", "e"))}, "Merge heads by hand"))
    assert joined.code == 0, joined.log
    assert fix_pulls(shop) == []
    assert shop.fake.pull(SHOP, number).state == "closed"
    [closing] = [c.body for c in shop.fake.comments(SHOP, number)]
    assert "has one head per environment again" in closing
    assert requests(joined) == [
        "GET /pulls",
        f"POST /issues/{number}/comments",
        f"PATCH /pulls/{number}",
        *RECHECK,
    ]

    healthy = shop.run(shop.fake.event_schedule(SHOP))
    assert (healthy.code, requests(healthy)) == (0, ["GET /pulls"])
    assert "has one head per environment" in healthy.log


# --- collision forecast ----------------------------------------------------------------------


def test_two_pull_requests_on_the_same_parent_are_told_of_each_other_until_one_closes(
    shop: Shop,
) -> None:
    shop.branch("orders", {path("c"): revision("c", "b")})
    shop.branch("users", {path("d"): revision("d", "b")})
    shop.branch("docs", {"README.md": "# shop\n"})
    orders = shop.fake.open_pr(SHOP, head="orders").number
    users = shop.fake.open_pr(SHOP, head="users").number
    shop.fake.open_pr(SHOP, head="docs")
    server = shop.fake.server_url

    def forecast(number: int) -> str:
        [body] = [c.body for c in shop.fake.comments(SHOP, number) if c.author == ACTIONS_LOGIN]
        _, _, section = body.partition("<!-- alembic-heads-bot:forecast -->\n")
        return section

    def told(other: int) -> str:
        return (
            f"- [#{other}]({server}/{SHOP}/pull/{other}) also builds on `b`: whichever merges "
            "second will need `/merge-heads` (or `alembic merge -m 'merge heads c, d' c d`)."
        )

    run = shop.run(shop.fake.event_pull_request(SHOP, orders))
    assert run.code == 0, run.log
    assert told(users) in forecast(orders)
    assert told(orders) in forecast(users)  # opened there: it had no comment yet
    assert requests(run) == [
        "GET /pulls",  # the open pull requests into main: one request per 100
        "POST /check-runs",
        f"GET /issues/{orders}/comments",
        f"POST /issues/{orders}/comments",
        f"GET /issues/{users}/comments",
        f"POST /issues/{users}/comments",
    ]

    # The other one's own run: its comment gets its report; #orders' forecast is unchanged.
    run = shop.run(shop.fake.event_pull_request(SHOP, users))
    assert run.code == 0, run.log
    assert told(orders) in forecast(users)
    assert "<!-- alembic-heads-bot:state=ok -->\n###" in shop.fake.comments(SHOP, users)[0].body
    assert requests(run) == [
        "GET /pulls",
        "POST /check-runs",
        f"GET /issues/{users}/comments",
        f"PATCH /issues/comments/{shop.fake.comments(SHOP, users)[0].id}",
        f"GET /issues/{orders}/comments",
        "GET /user",  # whose comment it is (a GITHUB_TOKEN may not ask: 403, so the app's)
        # unchanged: no write
    ]

    # #orders is closed; the nightly run refreshes the forecasts: #users' goes away.
    shop.fake.close_pr(SHOP, orders)
    nightly = shop.run(shop.fake.event_schedule(SHOP))
    assert nightly.code == 0, nightly.log
    assert forecast(users) == ""
    assert requests(nightly) == [
        "GET /pulls",
        f"GET /issues/{users}/comments",
        "GET /user",
        f"PATCH /issues/comments/{shop.fake.comments(SHOP, users)[0].id}",
    ]


# --- overlapping runs, fix-base ------------------------------------------------------------


def break_main(shop: Shop, config: str | None = None) -> str:
    """c and d both on b, landed in one push; the tip before it."""
    files = {path("c"): revision("c", "b")}
    if config is not None:
        files[".github/alembic-heads.yml"] = config
    before = shop.land(files, "Add c (#1)")
    shop.land({path("d"): revision("d", "b")}, "Add d (#2)")
    return before


def test_a_run_racing_another_never_opens_a_second_fix_pull_request(shop: Shop) -> None:
    before = break_main(shop)

    def other_run_opens_it() -> None:  # between this run's look and its create
        shop.fake.open_pr(SHOP, head=FIX, author=ACTIONS_LOGIN, title="opened by the other run")

    shop.fake.before_next("POST", f"/repos/{SHOP}/pulls", other_run_opens_it)
    # The branch is created but the answer is lost: the retry finds it there, sends nothing.
    shop.fake.fail_next("POST", f"/repos/{SHOP}/git/refs", status=502, after=True)
    run = pushed(shop, before)
    assert run.code == 1, run.log
    assert len(run.errors()) == 1  # the heads, nothing failed
    [number] = fix_pulls(shop)
    assert shop.fake.pull(SHOP, number).title == "main has 2 Alembic heads: c, d"
    assert requests(run)[-7:] == [
        "POST /git/refs",  # 502, though the branch was made
        f"GET /git/ref/heads/{FIX}",  # the retry looks first: there, at the fix; not resent
        "POST /check-runs",
        "POST /pulls",  # 422: a pull request from the branch exists already
        "GET /pulls",  # found: the other run's
        f"PATCH /pulls/{number}",  # this run's title and body
        *RECHECK,
    ]


def test_comment_only_sets_the_failing_check_with_the_command_and_opens_nothing(
    shop: Shop,
) -> None:
    before = break_main(shop, "fix-base: comment-only\n")
    run = pushed(shop, before)
    assert run.code == 1, run.log
    [check] = shop.fake.check_runs(SHOP, shop.fake.branch_sha(SHOP, "main"))
    assert check.conclusion == "failure"
    assert "    alembic merge -m 'merge heads c, d' c d" in check.output["summary"]
    assert "[#2](" in check.output["summary"]  # d came with the squash of #2
    assert fix_pulls(shop) == []
    assert requests(run) == ["POST /check-runs", *RECHECK]
