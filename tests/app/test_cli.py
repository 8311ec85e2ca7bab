"""The command line, end to end on real directories and git repositories.

The differential test writes random environments to disk in the forms real projects use and
checks every field of `heads --json` against what Alembic computes from the same files.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from alembic_heads_bot.app.cli import main
from alembic_heads_bot.engine.model import Revision
from gitrepo import GitRepo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import environments, script_directory_view

FORMS = {
    "plain": (
        "revision = {rev}\ndown_revision = {down}\nbranch_labels = {labels}\ndepends_on = {deps}\n"
    ),
    "annotated": (
        "from typing import Sequence, Union\n\n"
        "revision: str = {rev}\n"
        "down_revision: Union[str, Sequence[str], None] = {down}\n"
        "branch_labels: Union[str, Sequence[str], None] = {labels}\n"
        "depends_on: Union[str, Sequence[str], None] = {deps}\n"
    ),
    "pep604": (
        "revision: str = {rev}\n"
        "down_revision: str | tuple[str, ...] | None = {down}\n"
        "branch_labels: tuple[str] | None = {labels}\n"
        "depends_on: str | None = {deps}\n"
    ),
}


def literal(ids: tuple[str, ...], container: str) -> str:
    if not ids:
        return "None"
    if len(ids) == 1 and container == "scalar":
        return repr(ids[0])
    items = ", ".join(repr(i) for i in ids)
    return f"[{items}]" if container == "list" else f"({items},)"


def revision_file(rev: Revision, form: str, container: str) -> str:
    body = FORMS[form].format(
        rev=repr(rev.revision),
        down=literal(rev.down_revision, container),
        labels=literal(rev.branch_labels, container),
        deps=literal(rev.depends_on, container),
    )
    return f'"""{rev.revision}\n\nRevises: whatever the docstring says\n"""\n{body}'


def write_environment(root: Path, revisions: list[Revision], draw) -> list[Path]:
    """alembic.ini plus the revision files spread over 1-3 version locations."""
    locations = [root / "migrations" / "versions", root / "other", root / "more" / "deep"]
    locations = locations[: draw(st.integers(1, 3))]
    for location in locations:
        location.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text("# never run\n")
    for rev in revisions:
        form = draw(st.sampled_from(sorted(FORMS)))
        container = draw(st.sampled_from(["scalar", "tuple", "list"]))
        prefix = draw(st.sampled_from(["", "2024_01_02_", "zz_"]))
        where = draw(st.sampled_from(locations))
        (where / f"{prefix}{rev.revision}_step.py").write_text(revision_file(rev, form, container))
    spelled = " ".join("%(here)s/" + str(loc.relative_to(root)) for loc in locations)
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\n"
        f"version_locations = {spelled}\npath_separator = space\n"
    )
    return locations


def heads_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["heads", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(environments(), st.data())
def test_heads_json_equals_alembic_on_files_it_reads_itself(capsys, revisions, data):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        locations = write_environment(root, revisions, data.draw)
        expected = script_directory_view(str(root / "migrations"), [str(p) for p in locations])
        code, out = heads_json(capsys, str(root))
    (env,) = out["environments"]
    if expected.error is not None:
        assert code == 1
        assert expected.error in {p["code"] for p in env["problems"]} | {
            "missing-dependency-or-label"
        }
        return
    assert code == 0, env["problems"]
    fields = expected.fields
    assert env["heads"] == list(fields["heads"])
    assert env["real_heads"] == list(fields["real_heads"])
    assert env["bases"] == list(fields["bases"])
    assert env["branchpoints"] == list(fields["branchpoints"])
    assert env["mergepoints"] == list(fields["mergepoints"])
    assert env["labels"] == {k: list(v) for k, v in fields["labels"].items()}
    assert env["revisions"] == len(revisions)
    assert env["version_locations"] == [str(p.relative_to(root)) for p in locations]


# --- named behaviour -------------------------------------------------------------------------

REV = '"""{doc}"""\nrevision = {rev!r}\ndown_revision = {down!r}\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    for rev, down in [("a1", None), ("b2", "a1"), ("c3", "b2"), ("d4", "c3"), ("e5", "c3")]:
        (versions / f"{rev}_x.py").write_text(REV.format(doc=f"step {rev}", rev=rev, down=down))
    return tmp_path


def test_heads_text_lists_each_head_like_alembic(project, capsys):
    assert main(["heads", str(project)]) == 0
    assert capsys.readouterr().out == "d4 (head)\ne5 (head)\n"


def test_heads_shape_of_the_json(project, capsys):
    code, out = heads_json(capsys, str(project))
    assert code == 0
    (env,) = out["environments"]
    assert env == {
        "name": "alembic.ini",
        "config": "alembic.ini",
        "script_location": "migrations",
        "version_locations": ["migrations/versions"],
        "resolved_from": "config-dir",
        "revisions": 5,
        "heads": ["d4", "e5"],
        "real_heads": ["d4", "e5"],
        "bases": ["a1"],
        "branchpoints": ["c3"],
        "mergepoints": [],
        "labels": {},
        "problems": [],
    }


def test_a_broken_file_is_reported_with_file_and_line_and_the_rest_still_counts(project, capsys):
    (project / "migrations" / "versions" / "f6_bad.py").write_text(
        'revision = "f6"\ndown_revision = compute_parent()\n'
    )
    (project / "migrations" / "versions" / "g7_lost.py").write_text(
        'revision = "g7"\ndown_revision = "nowhere"\n'
    )
    assert main(["heads", str(project)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["d4 (head)", "e5 (head)", "f6 (head)", "g7 (head)"]
    assert "migrations/versions/f6_bad.py:2: error:" in captured.err
    assert "[non-literal]" in captured.err
    assert (
        "migrations/versions/g7_lost.py:2: error: Revision nowhere referenced from g7"
        in captured.err
    )


def test_heads_of_a_commit_that_is_not_checked_out(tmp_path, capsys):
    repo = GitRepo.init(tmp_path / "repo")
    repo.write({"alembic.ini": "[alembic]\nscript_location = m\n"})
    repo.write({"m/versions/a1_x.py": REV.format(doc="a", rev="a1", down=None)})
    first = repo.commit("first")
    repo.write({"m/versions/b2_x.py": REV.format(doc="b", rev="b2", down="a1")})
    repo.commit("second")
    assert main(["heads", str(repo.path), "--rev", first]) == 0
    assert capsys.readouterr().out == "a1 (head)\n"
    assert main(["heads", str(repo.path / "m"), "--rev", "HEAD"]) == 0
    assert capsys.readouterr().out == "b2 (head)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["heads", "/nonexistent/dir"], "not a directory"),
        (["heads", ".", "--rev", "HEAD"], "not a git repository"),
        (
            ["heads", "{project}", "--env", "nosuch"],
            "no single Alembic environment matches 'nosuch'",
        ),
    ],
)
def test_unusable_input_exits_2_with_one_clear_line(project, capsys, monkeypatch, args, message):
    monkeypatch.chdir(project)
    args = [a.format(project=project) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("alembic-heads-bot: error:")
    assert message in err.lower() or message in err
    assert "Traceback" not in err


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["heads", "--no-such-flag"])
    assert exited.value.code == 2


def test_several_environments_get_a_header_each(project, capsys):
    (project / "billing").mkdir()
    (project / "billing" / "pyproject.toml").write_text(
        '[tool.alembic]\nscript_location = "%(here)s/db"\n'
    )
    (project / "billing" / "db" / "versions").mkdir(parents=True)
    (project / "billing" / "db" / "versions" / "x.py").write_text(
        REV.format(doc="x", rev="x1", down=None)
    )
    assert main(["heads", str(project)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "# alembic.ini (migrations)",
        "d4 (head)",
        "e5 (head)",
        "# billing/pyproject.toml (billing/db)",
        "x1 (head)",
    ]
    assert main(["heads", str(project), "--env", "billing/pyproject.toml"]) == 0
    assert capsys.readouterr().out == "x1 (head)\n"


def test_graph_text_is_newest_first_with_markers(project, capsys):
    assert main(["graph", str(project)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "c3 -> d4 (head), step d4",
        "c3 -> e5 (head), step e5",
        "b2 -> c3 (branchpoint), step c3",
        "a1 -> b2, step b2",
        "<base> -> a1, step a1",
    ]


def test_graph_mermaid_and_dot_mark_heads(project, capsys, mermaid_parser):
    assert main(["graph", str(project), "--format", "mermaid"]) == 0
    mermaid = capsys.readouterr().out
    mermaid_parser.assert_parses(mermaid)
    assert mermaid.startswith("flowchart BT\n")
    assert 'r3["d4 (head)<br/>step d4"]' in mermaid
    assert "r3 --> r2" in mermaid
    assert "class r3,r4 head" in mermaid
    assert main(["graph", str(project), "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert '"d4" -> "c3";' in dot
    assert '"d4" [label="d4 (head)\\nstep d4", style=filled' in dot


def test_graph_condenses_what_mermaid_would_refuse_unless_full(tmp_path, capsys, mermaid_parser):
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    for i in range(520):
        down = f"r{i - 1}" if i else None
        (versions / f"r{i}.py").write_text(REV.format(doc=f"step {i}", rev=f"r{i}", down=down))
    assert main(["graph", str(tmp_path), "--format", "mermaid"]) == 0
    condensed = capsys.readouterr().out
    mermaid_parser.assert_parses(condensed)
    assert condensed.splitlines()[:3] == [
        "flowchart BT",
        "%% condensed to fit Mermaid's limits: 520 revisions in 5 boxes; --full draws each one",
        '    r467["r519 (head)<br/>step 519"]',  # r<load position>: files load by name
    ]
    assert '    g2(["516 revisions<br/>r2 … r517"])' in condensed
    assert main(["graph", str(tmp_path), "--format", "mermaid", "--full"]) == 0
    full = capsys.readouterr().out
    assert full.count(" --> ") == 519
    assert "Edge limit exceeded" in (mermaid_parser.error(full) or "")


def test_demo_fails_the_check_fixes_it_and_passes(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    steps = out.split("\n== ")[1:]
    assert [step.splitlines()[0] for step in steps] == [
        "heads of feature alone: one head, so its own CI is green",
        "check feature as merged into main",
        "merge: refused while feature lacks D",
        "current: what production has applied, without running env.py",
        "merge: writes the merge migration",
        "check again",
        "the graph now",
    ]
    assert steps[0].rstrip().endswith("6f0f0f0f0f0f (head)\n(exit 0)")
    assert "new head 6f0f0f0f0f0f" in steps[1]
    assert "database production (alembic_version): at 4d0d0d0d0d0d" in steps[1]
    assert steps[1].rstrip().endswith("(exit 1)")
    assert "(exit 1)" in steps[2]
    assert steps[3].splitlines()[2:] == ["4d0d0d0d0d0d (head)", "(exit 0)"]
    assert "_merge_payments_and_coupons.py" in steps[4]
    assert "alembic-heads-bot: OK" in steps[5]
    assert "(head) (mergepoint), merge payments and coupons" in steps[6]


def test_heads_does_not_import_pygithub_sqlalchemy_or_gitpython(project):
    import subprocess
    import sys

    code = (
        "import sys; from alembic_heads_bot.app.cli import main; main(['heads', sys.argv[1]]);"
        "print(sorted(m for m in ('github', 'sqlalchemy', 'git', 'mako') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(project)], capture_output=True, text=True
    )
    assert done.stdout.splitlines()[-1] == "[]"


def test_pyyaml_is_imported_only_when_a_bot_config_file_is_read(project, tmp_path_factory):
    # Importing PyYAML costs a cold process 10-15 ms; most repositories have no bot config.
    import shutil
    import subprocess
    import sys

    configured = tmp_path_factory.mktemp("configured") / "repo"
    shutil.copytree(project, configured)
    (configured / ".github").mkdir()
    (configured / ".github" / "alembic-heads.yml").write_text("policy:\n  new-heads: warn\n")
    code = (
        "import sys; from alembic_heads_bot.app.cli import main\n"
        "for tree in sys.argv[1:]:\n"
        "    print(main(['heads', tree]), 'yaml' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(project), str(configured)],
        capture_output=True,
        text=True,
    )
    assert (done.stderr, done.stdout.splitlines()) == (
        "",
        ["d4 (head)", "e5 (head)", "0 False", "d4 (head)", "e5 (head)", "0 True"],
    )
