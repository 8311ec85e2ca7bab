"""Re-checking open pull requests on a push to their base branch, end to end against the fake
GitHub: `alembic-heads-bot action` runs for a `push` event as a runner would run it.

Each scenario checks what the pull requests' authors see (check runs, sticky comments) and what
it cost: one list request, then requests only for pull requests whose verdict changed.
"""

from __future__ import annotations

import dataclasses

from projects import INI, path, revision
from shop import SHOP, ActionRun, Shop, own_comments

ZERO = "0" * 40
LIST = ("GET", f"/repos/{SHOP}/pulls")


def after_push(shop: Shop, before: str, branch: str = "main", **inputs: str) -> ActionRun:
    return shop.run(shop.fake.event_push(SHOP, f"refs/heads/{branch}", before=before), **inputs)


def open_pr(
    shop: Shop, name: str, files: dict[str, str | None], base: str = "main", start: str = ""
) -> int:
    shop.branch(name, files, start=start or base)
    return shop.fake.open_pr(SHOP, head=name, base=base).number


def conclusions(shop: Shop, number: int) -> list[str | None]:
    head = shop.fake.pull(SHOP, number).head_sha
    return [c.conclusion for c in shop.fake.check_runs(SHOP, head)]


def test_a_landed_migration_turns_the_colliding_pull_request_red_and_only_that_one(
    shop: Shop,
) -> None:
    orders = open_pr(shop, "orders", {path("d"): revision("d", "b")})
    docs = open_pr(shop, "docs", {"README.md": "# shop\n"})
    tuned = open_pr(shop, "tuned", {"alembic.ini": INI + "# tuned\n"})
    before = shop.land({path("c"): revision("c", "b")}, "Add c (#7)")
    landed = shop.fake.branch_sha(SHOP, "main")
    run = after_push(shop, before)
    assert run.code == 0, run.log
    assert conclusions(shop, orders) == ["failure"]
    [body] = own_comments(shop, orders)
    server = shop.fake.server_url
    assert (
        f"`main` moved on since this pull request was checked: `c` came with "
        f"[`{landed[:12]}`]({server}/{SHOP}/commit/{landed}) ([#7]({server}/{SHOP}/pull/7))"
    ) in body
    assert "comment `/merge-heads`" in body
    assert "alembic merge -m 'merge heads c, d' c d" in body
    assert conclusions(shop, docs) == conclusions(shop, tuned) == []
    assert own_comments(shop, docs) == own_comments(shop, tuned) == []
    # one list, then three requests for the one pull request that changed; none for the others
    assert run.api == [
        LIST,
        ("POST", f"/repos/{SHOP}/check-runs"),
        ("GET", f"/repos/{SHOP}/issues/{orders}/comments"),
        ("POST", f"/repos/{SHOP}/issues/{orders}/comments"),
    ]
    assert f"#{orders}: was passing, now failing (new-heads)" in run.log
    assert f"#{tuned}: unchanged, still passing" in run.log
    # a progress line per pull request re-checked, counted over all open ones
    progress = [line for line in run.log.splitlines() if "re-checking #" in line]
    assert progress == [
        f"alembic-heads-bot: re-checking #{n} ({i} of 3)"
        for i, n in enumerate(sorted([orders, docs, tuned]), start=1)
        if n != docs
    ]
    assert f"changing no migration or config, left alone: #{docs}" in run.log


def test_a_push_that_takes_the_other_head_back_resolves_the_red_pull_request(shop: Shop) -> None:
    shop.commit_main({path("c"): revision("c", "b")})
    orders = open_pr(shop, "orders", {path("d"): revision("d", "b")}, start="main~1")
    assert shop.run(shop.fake.event_pull_request(SHOP, orders)).code == 1
    [red] = shop.fake.comments(SHOP, orders)
    before = shop.land({path("c"): None}, 'Revert "Add c" (#9)')
    run = after_push(shop, before)
    assert run.code == 0, run.log
    assert conclusions(shop, orders) == ["failure", "success"]
    [comment] = shop.fake.comments(SHOP, orders)
    assert comment.id == red.id
    assert "**Resolved:**" in comment.body
    assert "moved on" not in comment.body
    assert run.writes == [
        ("POST", f"/repos/{SHOP}/check-runs"),
        ("PATCH", f"/repos/{SHOP}/issues/comments/{red.id}"),
    ]
    assert f"#{orders}: was failing (new-heads), now passing" in run.log


def test_pull_requests_into_other_branches_are_left_alone(shop: Shop) -> None:
    shop.src.branch("release", "main")
    shop.push()
    backport = open_pr(shop, "backport", {path("d"): revision("d", "b")}, base="release")
    before = shop.land({path("c"): revision("c", "b")}, "Add c (#7)")
    run = after_push(shop, before)
    assert run.code == 0, run.log
    assert run.api == [LIST]
    [listing] = [r for r in run.requests if r.operation == "pulls/list"]
    assert "base=main" in listing.query
    assert conclusions(shop, backport) == []
    assert "no open pull request into main" in run.log


def test_a_pull_request_that_no_longer_merges_cleanly_is_told_where(shop: Shop) -> None:
    edited = open_pr(shop, "edit-b", {path("b"): revision("b", "a", body="op.drop_table('x')")})
    before = shop.land({path("b"): revision("b", "a", body="op.drop_table('y')")}, "Fix b")
    run = after_push(shop, before)
    assert run.code == 0, run.log
    assert conclusions(shop, edited) == ["failure"]
    [body] = own_comments(shop, edited)
    assert f"Git cannot merge this change cleanly: `{path('b')}`." in body
    assert "moved on" not in body  # no other head: nothing came with the base


def test_a_push_that_changes_no_migration_costs_no_request(shop: Shop) -> None:
    open_pr(shop, "orders", {path("d"): revision("d", "b")})
    before = shop.land({"README.md": "# shop\n"}, "Docs (#3)")
    run = after_push(shop, before)
    assert (run.code, run.api) == (0, [])
    assert "changes no migration and no Alembic or bot config" in run.log


def test_a_force_push_whose_old_tip_is_gone_posts_every_pull_request_touching_migrations(
    shop: Shop,
) -> None:
    orders = open_pr(shop, "orders", {path("d"): revision("d", "c")})
    before = shop.land({path("c"): revision("c", "b")}, "Add c (#7)")
    pushed = shop.fake.event_push(SHOP, "refs/heads/main", before=before)
    gone = "1" * 40  # a commit the server does not have (any more)
    run = shop.run(dataclasses.replace(pushed, payload={**pushed.payload, "before": gone}))
    assert run.code == 0, run.log
    assert conclusions(shop, orders) == ["success"]
    assert "cannot be fetched" in run.log


def test_deleted_branches_and_tags_are_not_re_checked(shop: Shop) -> None:
    open_pr(shop, "orders", {path("d"): revision("d", "b")})
    tip = shop.fake.branch_sha(SHOP, "main")
    pushed = shop.fake.event_push(SHOP, "refs/heads/main", before=tip)
    deleted = dataclasses.replace(
        pushed, payload={**pushed.payload, "deleted": True, "after": ZERO}
    )
    tag = dataclasses.replace(pushed, payload={**pushed.payload, "ref": "refs/tags/v1"})
    for event, why in ((deleted, "branch main was deleted"), (tag, "refs/tags/v1 is not a branch")):
        run = shop.run(event)
        assert (run.code, run.api) == (0, []), run.log
        assert why in run.log


def test_a_listing_github_refuses_is_one_error_line(shop: Shop) -> None:
    open_pr(shop, "orders", {path("d"): revision("d", "b")})
    before = shop.land({path("c"): revision("c", "b")}, "Add c (#7)")
    shop.fake.fail_next("GET", f"/repos/{SHOP}/pulls", status=404)
    run = after_push(shop, before)
    assert run.code == 2
    assert run.errors() == [
        "alembic-heads-bot: cannot list the open pull requests into main: GitHub answered 404 "
        "Not Found"
    ]


def test_a_pull_request_that_cannot_be_judged_is_a_warning_and_the_others_go_on(
    shop: Shop,
) -> None:
    orders = open_pr(shop, "orders", {path("d"): revision("d", "b")})
    shop.src.git("checkout", "--quiet", "--orphan", "lonely")
    shop.src.write({"alembic.ini": INI, path("z"): revision("z", None)})
    shop.src.commit("an unrelated history")
    shop.src.checkout("main")
    shop.push()
    lonely = shop.fake.open_pr(SHOP, head="lonely", base="main").number
    before = shop.land({path("c"): revision("c", "b")}, "Add c (#7)")
    run = after_push(shop, before)
    assert run.code == 0, run.log
    assert f"::warning::alembic-heads-bot: #{lonely} cannot be judged: " in run.log
    assert "no common ancestor" in run.log and "internal error" not in run.log
    assert conclusions(shop, orders) == ["failure"]
