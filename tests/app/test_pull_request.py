"""Judging a pull request in a local repository: refs in, verdict out, checkout untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic_heads_bot.adapters.git import GitError, UnknownRevision
from alembic_heads_bot.app.pull_request import analyse
from alembic_heads_bot.engine.bot_config import Policy
from alembic_heads_bot.engine.scan import EnvironmentNotFound
from gitrepo import GitRepo
from projects import INI, chain, on_branches, path, project, revision

BOT_CONFIG = ".github/alembic-heads.yml"


def two_heads(
    tmp_path: Path, main: dict[str, str | None], feature: dict[str, str | None]
) -> GitRepo:
    """The branch adds d on b while the base adds c on b: a second head once merged."""
    repo = project(tmp_path, chain("a", "b"))
    on_branches(
        repo, {path("c"): revision("c", "b"), **main}, {path("d"): revision("d", "b"), **feature}
    )
    return repo


def test_the_policy_comes_from_the_base_branch_never_from_the_pull_request(
    tmp_path: Path,
) -> None:
    repo = two_heads(
        tmp_path,
        {BOT_CONFIG: "policy:\n  new-heads: warn\n"},
        {BOT_CONFIG: "policy:\n  new-heads: ignore\n  hazards: ignore\n"},
    )
    verdict = analyse(repo.path, "main", "feature")
    assert verdict.ok
    assert verdict.warned_rules == ("new-heads", "new-branch-points")

    repo.write({BOT_CONFIG: None})
    repo.commit("the base drops its config")
    assert analyse(repo.path, "main", "feature").failed_rules == ("new-heads",)


def test_an_override_replaces_the_configured_policy(tmp_path: Path) -> None:
    repo = two_heads(tmp_path, {BOT_CONFIG: "policy:\n  new-heads: warn\n"}, {})
    verdict = analyse(repo.path, "main", "feature", policy_override=Policy())
    assert verdict.failed_rules == ("new-heads",)


def test_mistakes_in_the_base_bot_config_are_reported_but_not_blamed(tmp_path: Path) -> None:
    repo = two_heads(tmp_path, {BOT_CONFIG: "policy:\n  new-heads: sometimes\n"}, {})
    verdict = analyse(repo.path, "main", "feature")
    [flagged] = verdict.problems
    assert (flagged.problem.code, flagged.problem.path, flagged.problem.line) == (
        "config-error",
        BOT_CONFIG,
        2,
    )
    assert not flagged.introduced
    assert verdict.failed_rules == ("new-heads",)  # the valid rest (defaults) still applies


def test_an_environment_the_pull_request_adds_or_removes(tmp_path: Path) -> None:
    repo = project(tmp_path, chain("a", "b"))
    on_branches(
        repo,
        {},
        {
            "alembic.ini": None,
            # the revision files go too: a folder of them left behind is still an environment
            **dict.fromkeys(chain("a", "b")),
            "svc/alembic.ini": INI,
            **chain("x", "y", root="svc/migrations"),
        },
    )
    verdict = analyse(repo.path, "main", "feature")
    [env] = verdict.environments
    assert (env.name, env.new_environment, env.added) == ("svc/alembic.ini", True, ("x", "y"))
    assert verdict.removed_environments == ("alembic.ini",)
    assert verdict.notes == (
        "The environment alembic.ini is on the base branch but not in the merged tree (its "
        "config was removed or renamed); it is not checked.",
    )
    assert verdict.ok

    only = analyse(repo.path, "main", "feature", env="svc/alembic.ini")
    assert [e.name for e in only.environments] == ["svc/alembic.ini"]
    assert only.environments[0].new_environment
    with pytest.raises(EnvironmentNotFound):
        analyse(repo.path, "main", "feature", env="alembic.ini")


def test_an_explicit_config_file_is_read_in_every_tree(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    repo.write({"deploy/db.ini": "[alembic]\nscript_location = ../migrations\n", **chain("a")})
    repo.commit("base")
    on_branches(repo, {path("b"): revision("b", "a")}, {path("c"): revision("c", "a")})
    verdict = analyse(repo.path, "main", "feature", config="deploy/db.ini")
    [env] = verdict.environments
    assert (env.name, env.heads) == ("deploy/db.ini", ("b", "c"))
    assert verdict.failed_rules == ("new-heads",)


def test_analysing_leaves_the_checkout_and_refs_alone(tmp_path: Path) -> None:
    repo = two_heads(tmp_path, {}, {path("a"): revision("a", body="print('conflict')")})
    repo.write({path("a"): revision("a", body="print('uncommitted')")})
    refs = repo.git("for-each-ref")
    before = (refs, repo.status(), (repo.path / path("a")).read_text())
    verdict = analyse(repo.path / "migrations", "main", "feature")  # from a subdirectory
    assert verdict.environments[0].heads == ("c", "d")
    assert (repo.git("for-each-ref"), repo.status(), (repo.path / path("a")).read_text()) == before


def test_refs_that_cannot_be_judged_are_clear_errors(tmp_path: Path) -> None:
    repo = two_heads(tmp_path, {}, {})
    with pytest.raises(UnknownRevision, match="unknown revision 'nope'"):
        analyse(repo.path, "main", "nope")
    repo.git("checkout", "--quiet", "--orphan", "unrelated")
    repo.commit("a history of its own")
    with pytest.raises(GitError) as raised:
        analyse(repo.path, "main", "unrelated")
    assert str(raised.value) == (
        "'main' and 'unrelated' have no common ancestor: a pull request between unrelated "
        "histories cannot be judged"
    )


def test_a_file_the_pull_request_adds_is_compiled_as_alembic_would(tmp_path: Path) -> None:
    # ast.parse accepts this file; compiling it (as Alembic's import does) fails.
    broken = revision("c", "b") + "\n\ndef helper():\n    x = 1\n    global x\n"
    repo = project(tmp_path, chain("a", "b"))
    on_branches(repo, {}, {path("c"): broken})
    verdict = analyse(repo.path, "main", "feature")
    assert verdict.failed_rules == ("problems",)
    [flagged] = verdict.environments[0].problems
    assert flagged.introduced
    assert (flagged.problem.code, flagged.problem.path, flagged.problem.line) == (
        "syntax-error",
        path("c"),
        len(broken.splitlines()),
    )
    assert "assigned to before global declaration" in flagged.problem.message


def test_a_long_history_gets_the_same_verdict_on_one_core_and_on_several(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,200 revision files: enough for the parse to be split between processes
    (`adapters.workers`), whose records must make the very verdict one process makes."""
    revs = [f"r{i:04}" for i in range(1_200)]
    repo = project(tmp_path, chain(*revs))
    on_branches(repo, {path("m"): revision("m", revs[-1])}, {path("f"): revision("f", revs[-1])})
    verdicts = []
    for workers in ("1", "2"):
        monkeypatch.setenv("ALEMBIC_HEADS_BOT_WORKERS", workers)
        verdicts.append(analyse(repo.path, "main", "feature"))
    assert verdicts[0] == verdicts[1]
    assert verdicts[1].failed_rules == ("new-heads",)
