"""The pull-request verdict, on real git repositories: what a reviewer would be told."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from alembic_heads_bot.adapters.git import GitTree
from alembic_heads_bot.engine.analysis import Verdict, judge_tree
from alembic_heads_bot.engine.bot_config import Policy
from alembic_heads_bot.engine.scan import scan_tree
from gitrepo import GitRepo
from projects import INI, chain, check, on_branches, path, project, revision
from versiondb import sqlite_database


def alembic_heads(repo: GitRepo, tree: str, tmp_path: Path) -> tuple[tuple[str, ...], ...]:
    """Alembic's own (heads, real heads) of a tree the test wrote: the oracle."""
    archive = repo.path / "tree.tar"
    repo.git("archive", "--output", str(archive), tree)
    target = tmp_path / f"tree-{tree[:8]}"
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    archive.unlink()
    revision_map = ScriptDirectory(str(target / "migrations")).revision_map
    return tuple(revision_map.heads), tuple(revision_map._real_heads)


# --- new heads -------------------------------------------------------------------------------


def test_a_branch_forked_before_the_base_moved_on_adds_a_colliding_head(tmp_path: Path) -> None:
    repo = project(tmp_path, chain("a", "b", "c"))
    on_branches(
        repo,
        {path("d"): revision("d", "c")},
        {path("e"): revision("e", "c"), path("f"): revision("f", "e")},
    )
    verdict = check(repo)
    env = verdict.environment("alembic.ini")

    assert not verdict.ok
    assert verdict.failed_rules == ("new-heads",)
    assert verdict.warned_rules == ("new-branch-points",)
    assert env.added == ("e", "f")
    assert (env.base_heads, env.heads) == (("d",), ("d", "f"))
    [new] = env.new_heads
    assert new.revision == "f"
    assert (new.path, new.line) == (path("f"), 7)
    assert new.parents == ("e",)
    assert new.collides_with == ("d",)
    assert new.common_ancestor == "c"
    assert env.new_branch_points == ("c",)
    assert env.merge_plan is not None
    assert (env.merge_plan.heads, env.merge_plan.note) == (("d", "f"), None)
    # d landed on main after the branch forked: the branch must take main in first.
    assert env.merge_plan.missing_on_head == ("d",)
    assert verdict.merge_plans == (env.merge_plan,)
    assert verdict.commits is not None
    assert verdict.commits.merge_base == repo.rev("main~1")
    assert alembic_heads(repo, verdict.commits.merged_tree or "", tmp_path)[0] == env.heads


def test_a_stale_branch_with_one_head_of_its_own_fails_once_merged(tmp_path: Path) -> None:
    repo = project(tmp_path, chain("a", "b"))
    on_branches(repo, {path("d"): revision("d", "b")}, {path("c"): revision("c", "b")})

    with repo.open() as handle:
        alone = judge_tree(scan_tree(GitTree(handle, "feature")), Policy())
    assert alone.ok
    assert alone.environments[0].heads == ("c",)

    verdict = check(repo)
    env = verdict.environments[0]
    assert verdict.failed_rules == ("new-heads",)
    assert env.heads == ("c", "d")
    assert [(h.revision, h.collides_with, h.common_ancestor) for h in env.new_heads] == [
        ("c", ("d",), "b")
    ]


def test_a_labelled_independent_stream_is_not_a_second_head(tmp_path: Path) -> None:
    repo = project(tmp_path, chain("a", "b", "c"))
    networking = {
        path("n1"): revision("n1", None, labels="networking", depends="b"),
        path("n2"): revision("n2", "n1"),
    }
    on_branches(repo, {}, networking)
    verdict = check(repo)
    env = verdict.environments[0]

    assert verdict.ok
    assert verdict.warned_rules == ()
    assert env.heads == ("c", "n2")
    assert env.unexplained_heads == ("c",)
    assert (env.new_heads, env.new_branch_points, env.merge_plan) == ((), (), None)
    assert verdict.commits is not None
    assert alembic_heads(repo, verdict.commits.merged_tree or "", tmp_path)[0] == env.heads


def test_an_unlabelled_second_head_in_a_labelled_stream_fails(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        {
            **chain("a", "b", "c"),
            path("n1"): revision("n1", None, labels="networking"),
            path("n2"): revision("n2", "n1"),
        },
    )
    on_branches(repo, {}, {path("n3"): revision("n3", "n1")})
    verdict = check(repo)
    env = verdict.environments[0]

    assert env.base_unexplained_heads == ("c",)
    assert env.unexplained_heads == ("c", "n2", "n3")
    assert verdict.failed_rules == ("new-heads",)
    [new] = env.new_heads
    assert (new.revision, new.collides_with, new.common_ancestor) == ("n3", ("c", "n2"), "n1")
    assert env.merge_plan is not None
    assert env.merge_plan.heads == ("c", "n2", "n3")


def test_a_lineage_sharing_nothing_with_the_base_has_no_common_ancestor(tmp_path: Path) -> None:
    repo = project(tmp_path, chain("a", "b"))
    on_branches(repo, {}, {path("x"): revision("x")})
    env = check(repo).environments[0]
    [new] = env.new_heads
    assert (new.revision, new.parents, new.common_ancestor) == ("x", (), None)


def test_an_effective_head_is_joined_explicitly_because_merge_heads_skips_it(
    tmp_path: Path,
) -> None:
    repo = project(tmp_path, chain("a", "b", "c"))
    on_branches(repo, {}, {path("n"): revision("n", None, depends="c")})
    verdict = check(repo)
    env = verdict.environments[0]

    assert verdict.failed_rules == ("new-heads",)
    assert env.heads == ("c", "n")
    assert env.merge_plan is not None
    assert env.merge_plan.heads == ("n", "c")
    assert env.merge_plan.note == (
        "Run `alembic merge n c`, not `alembic merge heads`: c is only an effective head "
        "(reached only through depends_on), which `alembic merge heads` leaves out."
    )
    assert verdict.commits is not None
    heads, real_heads = alembic_heads(repo, verdict.commits.merged_tree or "", tmp_path)
    assert (heads, real_heads) == (env.heads, ("n",))


def test_a_merge_plan_leaves_labelled_streams_alone(tmp_path: Path) -> None:
    repo = project(
        tmp_path, {**chain("a", "b"), path("n1"): revision("n1", None, labels="networking")}
    )
    on_branches(repo, {path("c"): revision("c", "b")}, {path("d"): revision("d", "b")})
    env = check(repo).environments[0]
    assert env.merge_plan is not None
    assert env.merge_plan.heads == ("c", "d")
    assert env.merge_plan.note == (
        "Run `alembic merge c d`, not `alembic merge heads`: `alembic merge heads` would also "
        "join the labelled branch head n1, which is meant to stay separate."
    )


def test_a_pull_request_merging_the_base_heads_passes_and_says_so(tmp_path: Path) -> None:
    repo = project(
        tmp_path, {**chain("a", "b"), path("c"): revision("c", "b"), path("d"): revision("d", "b")}
    )
    on_branches(repo, {}, {path("m"): revision("m", ("c", "d"))})
    verdict = check(repo)
    env = verdict.environments[0]

    assert verdict.ok
    assert (env.base_unexplained_heads, env.heads) == (("c", "d"), ("m",))
    assert env.merge_plan is None
    assert env.notes == ("This pull request joins the base branch's 2 heads (c, d) into one.",)


def test_heads_already_on_the_base_are_not_blamed_on_the_pull_request(tmp_path: Path) -> None:
    repo = project(
        tmp_path, {**chain("a", "b"), path("c"): revision("c", "b"), path("d"): revision("d", "b")}
    )
    on_branches(repo, {}, {path("e"): revision("e", "c")})
    verdict = check(repo)
    env = verdict.environments[0]

    assert verdict.ok
    assert env.rules[0].rule == "new-heads"
    assert env.rules[0].outcome == "pass"
    assert env.unexplained_heads == ("d", "e")
    assert env.merge_plan is not None  # still worth fixing, just not this pull request's fault
    assert env.merge_plan.heads == ("d", "e")


# --- hazards ---------------------------------------------------------------------------------


def test_re_parenting_a_revision_already_on_the_base_is_a_hazard(tmp_path: Path) -> None:
    repo = project(tmp_path, chain("a", "b"))
    # The base gained c while the branch added e on b; the branch merged the base and then
    # "fixed" the two heads by moving c onto e instead of adding a merge revision.
    on_branches(repo, {path("c"): revision("c", "b")}, {path("e"): revision("e", "b")})
    repo.checkout("feature")
    repo.merge("main")
    repo.write({path("c"): revision("c", "e")})
    repo.commit("move c onto e")
    repo.checkout("main")
    verdict = check(repo)
    env = verdict.environments[0]

    assert verdict.failed_rules == ("hazards",)
    assert (env.added, env.modified, env.heads) == (("e",), ("c",), ("c",))
    [hazard] = env.hazards
    assert (hazard.code, hazard.revision, hazard.path, hazard.line) == (
        "reparented-revision",
        "c",
        path("c"),
        7,
    )
    assert "changes the down_revision of c, which is on the base branch, from 'b' to 'e'" in (
        hazard.message
    )


@pytest.mark.parametrize(
    ("feature", "code", "where", "fragment"),
    [
        ({path("c"): None}, "deleted-revision", (path("c"), 6), "deletes revision c"),
        (
            {path("c"): revision("c2", "b")},
            "renamed-revision",
            (path("c"), 6),
            "from c, which is on the base branch, to c2",
        ),
        (
            {path("c"): revision("c", "b", depends="a")},
            "changed-dependencies",
            (path("c"), 9),
            "depends_on of c, which is on the base branch, from None to 'a'",
        ),
    ],
)
def test_rewriting_history_the_base_has_released_is_a_hazard(
    tmp_path: Path,
    feature: dict[str, str | None],
    code: str,
    where: tuple[str, int],
    fragment: str,
) -> None:
    repo = project(tmp_path, chain("a", "b", "c"))
    on_branches(repo, {}, feature)
    verdict = check(repo)
    [hazard] = verdict.environments[0].hazards
    assert verdict.failed_rules == ("hazards",)
    assert (hazard.code, (hazard.path, hazard.line)) == (code, where)
    assert fragment in hazard.message


def test_editing_a_revision_body_or_reordering_merge_parents_is_no_hazard(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        {
            **chain("a", "b"),
            path("c"): revision("c", "b"),
            path("m"): revision("m", ("b", "c")),
        },
    )
    on_branches(
        repo,
        {},
        {path("a"): revision("a", body="print('x')"), path("m"): revision("m", ("c", "b"))},
    )
    verdict = check(repo)
    env = verdict.environments[0]
    assert verdict.ok
    assert env.hazards == ()
    assert env.modified == ("m",)  # a's body changed, not what makes it a revision


# --- deployed databases ------------------------------------------------------------------------

PRODUCTION = ".github/alembic-heads.yml", "databases:\n  - {name: production, url_env: PROD_URL}\n"


def deployed(tmp_path: Path, feature: dict[str, str | None], *rows: str) -> Verdict:
    """The base has a <- b <- c and a production database at `rows`; the branch does `feature`."""
    repo = project(tmp_path, {**chain("a", "b", "c"), PRODUCTION[0]: PRODUCTION[1]})
    on_branches(repo, {}, feature)
    return check(repo, environ={"PROD_URL": sqlite_database(tmp_path, *rows)})


def test_a_database_shows_what_the_pull_request_adds_and_what_upgrade_would_run(
    tmp_path: Path,
) -> None:
    verdict = deployed(tmp_path, {path("d"): revision("d", "c")}, "b")
    [database] = verdict.environments[0].databases
    assert verdict.ok
    assert (database.name, database.error, database.current) == ("production", None, ("b",))
    assert (database.pending, database.upgrade, database.unknown) == (("d",), ("c", "d"), ())
    assert verdict.as_dict()["environments"][0]["databases"][0]["upgrade"] == ["c", "d"]


@pytest.mark.parametrize(
    ("feature", "code"),
    [
        ({path("b"): revision("b", "a", body="op.drop_table('users')")}, "edited-revision"),
        ({path("b"): None, path("c"): revision("c", "a")}, "deleted-revision"),
        ({path("c"): revision("c", None)}, "reparented-revision"),
    ],
)
def test_changing_an_applied_revision_fails_and_names_the_database(
    tmp_path: Path, feature: dict[str, str | None], code: str
) -> None:
    verdict = deployed(tmp_path, feature, "c")
    hazards = [h for h in verdict.environments[0].hazards if h.code == code]
    assert "applied-revisions" in verdict.failed_rules
    assert [h.databases for h in hazards] == [("production",)]
    assert "production" in hazards[0].message
    assert verdict.environments[0].applied_in["a"] == ("production",)


def test_an_edit_above_what_the_database_applied_is_no_hazard(tmp_path: Path) -> None:
    verdict = deployed(tmp_path, {path("c"): revision("c", "b", body="op.f()")}, "b")
    assert verdict.ok
    assert verdict.environments[0].hazards == ()
    assert verdict.environments[0].databases[0].upgrade == ("c",)


def test_the_applied_revisions_rule_follows_its_own_policy(tmp_path: Path) -> None:
    repo = project(tmp_path, {**chain("a", "b"), PRODUCTION[0]: PRODUCTION[1]})
    on_branches(repo, {}, {path("b"): revision("b", "a", body="op.f()")})
    url = sqlite_database(tmp_path, "b")
    relaxed = check(repo, environ={"PROD_URL": url}, overrides={"applied-revisions": "warn"})
    strict = check(repo, environ={"PROD_URL": url})
    assert (strict.failed_rules, relaxed.failed_rules) == (("applied-revisions",), ())
    assert relaxed.warned_rules == ("applied-revisions",)


def test_a_row_the_code_does_not_have_is_reported_as_unknown(tmp_path: Path) -> None:
    verdict = deployed(tmp_path, {path("d"): revision("d", "c")}, "c", "0ld")
    database = verdict.environments[0].databases[0]
    assert database.unknown == ("0ld",)
    assert database.current == ("c", "0ld")


def test_a_revision_staging_applied_from_the_branch_counts_as_applied(tmp_path: Path) -> None:
    verdict = deployed(
        tmp_path, {path("d"): revision("d", "c"), path("e"): revision("e", "d")}, "d"
    )
    database = verdict.environments[0].databases[0]
    assert (database.pending, database.upgrade, database.unknown) == (("e",), ("e",), ())


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({}, "the variable PROD_URL is not set"),
        ({"PROD_URL": "sqlite:////nonexistent/dir/prod.db"}, "cannot read it: "),
    ],
)
def test_an_unreadable_database_is_a_note_not_a_failure(
    tmp_path: Path, environ: dict[str, str], fragment: str
) -> None:
    repo = project(tmp_path, {**chain("a", "b"), PRODUCTION[0]: PRODUCTION[1]})
    on_branches(repo, {}, {path("b"): revision("b", "a", body="op.f()")})
    verdict = check(repo, environ=environ)
    [database] = verdict.environments[0].databases
    assert verdict.ok
    assert fragment in (database.error or "")
    assert database.current is None
    assert "nonexistent" not in json.dumps(verdict.as_dict())


def test_a_database_of_no_known_environment_is_a_verdict_note(tmp_path: Path) -> None:
    config = "databases:\n  - {name: prod, url_env: PROD_URL, environment: billing}\n"
    repo = project(tmp_path, {**chain("a"), PRODUCTION[0]: config})
    on_branches(repo, {}, {path("b"): revision("b", "a")})
    verdict = check(repo, environ={"PROD_URL": sqlite_database(tmp_path, "a")})
    assert verdict.environments[0].databases == ()
    assert verdict.notes == (
        "The database prod is not checked: no single Alembic environment matches 'billing' "
        "(alembic.ini).",
    )


# --- problems --------------------------------------------------------------------------------


def broken_dependency(tmp_path: Path) -> GitRepo:
    """The base has a missing-dependency error on x; the branch adds another one on y."""
    repo = project(tmp_path, {**chain("a", "b"), path("x"): revision("x", "b", depends="gone")})
    on_branches(repo, {}, {path("y"): revision("y", "x", depends="lost")})
    return repo


def test_a_problem_already_on_the_base_is_not_blamed_on_the_pull_request(tmp_path: Path) -> None:
    repo = broken_dependency(tmp_path)
    verdict = check(repo)
    flagged = {
        (f.problem.code, f.problem.path): f.introduced for f in verdict.environments[0].problems
    }
    assert flagged == {
        ("missing-dependency", path("x")): False,
        ("missing-dependency", path("y")): True,
    }
    assert verdict.failed_rules == ("problems",)

    repo.checkout("feature")
    repo.write({path("y"): revision("y", "x")})
    repo.commit("fix y")
    repo.checkout("main")
    verdict = check(repo)
    assert verdict.ok
    [old] = verdict.environments[0].problems
    assert (old.problem.code, old.problem.path, old.introduced) == (
        "missing-dependency",
        path("x"),
        False,
    )


def test_ignored_problem_codes_vanish_from_the_verdict(tmp_path: Path) -> None:
    repo = broken_dependency(tmp_path)
    ignoring = check(repo, policy_override=Policy(ignore_codes=frozenset({"missing-dependency"})))
    assert ignoring.ok
    assert ignoring.environments[0].problems == ()
    assert ignoring.as_dict()["rules"][2] == {  # type: ignore[index]
        "rule": "problems",
        "violated": False,
        "policy": "fail",
        "outcome": "pass",
    }


def test_a_conflicted_revision_file_is_reported_and_the_rest_still_judged(
    tmp_path: Path,
) -> None:
    repo = project(tmp_path, chain("a", "b", "c"))
    on_branches(
        repo,
        {path("a"): revision("a", body="print('main')")},
        {path("a"): revision("a", body="print('feature')"), path("x"): revision("x", "b")},
    )
    verdict = check(repo)
    env = verdict.environments[0]

    assert verdict.conflicts == (path("a"),)
    assert env.conflicts == (path("a"),)
    assert env.notes[0].startswith(f"git cannot merge {path('a')} cleanly")
    assert {(f.problem.code, f.problem.path, f.introduced) for f in env.problems} == {
        ("syntax-error", path("a"), True),
        ("missing-parent", path("b"), True),
    }
    # The conflicted file hides revision a, but the new head x is still found.
    assert env.heads == ("c", "x")
    assert [h.revision for h in env.new_heads] == ["x"]
    assert env.hazards == ()  # a's file is still there, only unreadable
    assert verdict.failed_rules == ("new-heads", "problems")


# --- several environments, policy ------------------------------------------------------------


def test_each_environment_of_a_repository_is_judged_on_its_own(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write(
        {
            "billing/alembic.ini": INI,
            "users/alembic.ini": INI,
            **chain("a", "b", root="billing/migrations"),
            **chain("a", "b", root="users/migrations"),
        }
    )
    repo.commit("two services")
    on_branches(
        repo,
        {path("c", "users/migrations"): revision("c", "b")},
        {
            path("c", "billing/migrations"): revision("c", "b"),
            path("d", "users/migrations"): revision("d", "b"),
        },
    )
    verdict = check(repo)
    by_name = {env.name: env for env in verdict.environments}

    assert set(by_name) == {"billing/alembic.ini", "users/alembic.ini"}
    assert by_name["billing/alembic.ini"].ok
    assert by_name["billing/alembic.ini"].heads == ("c",)
    assert by_name["users/alembic.ini"].failed_rules == ("new-heads",)
    assert by_name["users/alembic.ini"].heads == ("c", "d")
    assert verdict.failed_rules == ("new-heads",)

    one = check(repo, env="billing/alembic.ini")
    assert [env.name for env in one.environments] == ["billing/alembic.ini"]
    assert one.ok


@pytest.mark.parametrize(
    ("policy", "ok", "failed", "warned", "outcome"),
    [
        (Policy(), False, ("new-heads",), ("new-branch-points",), "fail"),
        (Policy(new_heads="warn"), True, (), ("new-heads", "new-branch-points"), "warn"),
        (
            Policy(new_heads="ignore", new_branch_points="fail"),
            False,
            ("new-branch-points",),
            (),
            "ignored",
        ),
        (Policy(new_heads="ignore", new_branch_points="ignore"), True, (), (), "ignored"),
    ],
)
def test_the_policy_decides_what_each_violated_rule_does(
    tmp_path: Path,
    policy: Policy,
    ok: bool,
    failed: tuple[str, ...],
    warned: tuple[str, ...],
    outcome: str,
) -> None:
    repo = project(tmp_path, chain("a", "b"))
    on_branches(repo, {path("c"): revision("c", "b")}, {path("d"): revision("d", "b")})
    verdict = check(repo, policy_override=policy)
    assert (verdict.ok, verdict.failed_rules, verdict.warned_rules) == (ok, failed, warned)
    new_heads = verdict.as_dict()["rules"][0]  # type: ignore[index]
    assert new_heads == {
        "rule": "new-heads",
        "violated": True,
        "policy": policy.new_heads,
        "outcome": outcome,
    }
    assert verdict.environments[0].new_heads  # the finding stays visible whatever the policy


# --- the JSON shape, single-tree mode --------------------------------------------------------


def test_the_json_form_has_stable_snake_case_keys(tmp_path: Path) -> None:
    repo = project(tmp_path, chain("a", "b"))
    on_branches(repo, {path("c"): revision("c", "b")}, {path("d"): revision("d", "b")})
    data = json.loads(json.dumps(check(repo).as_dict()))

    assert list(data) == [
        "ok", "mode", "failed_rules", "warned_rules", "commits", "conflicts",
        "removed_environments", "notes", "problems", "rules", "environments",
    ]  # fmt: skip
    [env] = data["environments"]
    assert env["new_heads"][0] == {
        "revision": "d",
        "path": path("d"),
        "line": 7,
        "parents": ["b"],
        "collides_with": ["c"],
        "common_ancestor": "b",
    }
    assert env["merge_plan"] == {
        "env_name": "alembic.ini",
        "heads": ["c", "d"],
        "note": None,
        "missing_on_head": ["c"],
    }
    keys = _keys(data)
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", key) for key in keys), keys


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_one_tree_alone_fails_on_several_unexplained_heads_or_errors(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        {
            **chain("a", "b"),
            path("c"): revision("c", "a"),
            path("n"): revision("n", None, labels="networking"),
        },
    )
    with repo.open() as handle:
        verdict = judge_tree(scan_tree(GitTree(handle, "HEAD")), Policy())
    env = verdict.environments[0]
    assert (verdict.mode, verdict.failed_rules) == ("tree", ("new-heads",))
    assert [r.rule for r in verdict.rules] == ["new-heads", "problems"]
    assert env.unexplained_heads == ("b", "c")
    assert [(h.revision, h.collides_with, h.common_ancestor) for h in env.new_heads] == [
        ("b", ("c",), "a"),
        ("c", ("b",), "a"),
    ]
    assert (env.added, env.hazards, env.new_branch_points) == ((), (), ())

    repo.write({path("c"): revision("c", "b", depends="gone")})
    repo.commit("one head, one broken dependency")
    with repo.open() as handle:
        verdict = judge_tree(scan_tree(GitTree(handle, "HEAD")), Policy())
    assert verdict.failed_rules == ("problems",)
    [broken] = verdict.environments[0].problems
    assert (broken.problem.code, broken.introduced) == ("missing-dependency", True)


def test_with_env_only_that_environments_databases_are_read(tmp_path: Path) -> None:
    config = (
        "databases:\n"
        "  - {name: billing-db, url_env: BILLING, environment: billing/alembic.ini}\n"
        "  - {name: shop-db, url_env: SHOP, environment: shop/alembic.ini}\n"
    )
    repo = GitRepo.init(tmp_path / "repo")
    for name in ("billing", "shop"):
        repo.write({f"{name}/alembic.ini": INI, **chain("a", root=f"{name}/migrations")})
    repo.write({PRODUCTION[0]: config})
    repo.commit("base")
    on_branches(repo, {}, {path("b", "shop/migrations"): revision("b", "a")})
    environ = {"SHOP": sqlite_database(tmp_path, "a")}  # BILLING unset: it must not matter
    verdict = check(repo, environ=environ, env="shop/alembic.ini")
    assert verdict.notes == ()
    [env] = verdict.environments
    assert [(d.name, d.pending) for d in env.databases] == [("shop-db", ("b",))]
