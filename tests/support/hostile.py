"""Pull-request text that tries to become markup, a link, a mention, a command or a line.

`hostile_verdict` judges a real repository whose revision ids, file names, docstrings and
problem messages carry INJECTIONS; `paste` runs printed command lines in a real bash with
fake `alembic-heads-bot`, `alembic` and `git` first on PATH, which print their argv as JSON.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from alembic_heads_bot.app.pull_request import analyse
from alembic_heads_bot.engine.analysis import Verdict
from alembic_heads_bot.engine.report.verdict import Sides
from gitrepo import GitRepo
from rendered import Rendered, mermaid_text

# Each thing the issue names: a table pipe, code fences, raw HTML, an image, a link, a
# mention, Mermaid's label end, arrow, click and directive, a line break, an emoji sequence
# and a right-to-left override.
INJECTIONS = (
    "|", "`x`", "``", "<b>b</b>", "<img src=x>", "[t](http://e.test)", "@octocat", "]]",
    "-->", "click x call alert()", "%%{init}%%", "\n", "👩\u200d💻", "\u202e",
)  # fmt: skip
TEXT = " ".join(INJECTIONS)

# Ids Alembic loads (no @ - + :): everything else of the above, and a shell's metacharacters.
BASE_HEAD = "c|`x`<b>b</b><img src=x>]]\nclick c call alert()\n%%{init}%% 👩\u200d💻 \u202ec"
PR_HEAD = "d$(touch pwned)|`touch pwned`;<b>b</b>]]\nclick d call alert() %%{init}%% \u202ed"
# An id with the characters Alembic refuses: the problem message quotes it.
REFUSED = "e @octocat --> [t](http://e.test) <img src=x>"
PR_FILE = (
    "m/versions/d @octocat <img src=x> [t](http:e) |`x`| ]] --> %%{init}%% \u202e👩\u200d💻.py"
)
SIDES = Sides(base="main", head="feature @octocat <b>b</b> |")
LINK_PREFIX = "https://example.test/blob/"


def _revision(rev: str, down: str | None, doc: str = TEXT) -> str:
    return f'"""{doc}"""\nrevision = {rev!r}\ndown_revision = {down!r}\n'


def hostile_verdict(tmp_path: Path) -> Verdict:
    """main adds BASE_HEAD, the pull request adds PR_HEAD in PR_FILE and a file whose id
    Alembic refuses: three heads on `b`, a problem, and hostile docstrings everywhere."""
    pr_files = {PR_FILE: PR_HEAD, "m/versions/e.py": REFUSED}
    return _collision(tmp_path / "hostile", BASE_HEAD, pr_files)


# Printable ids full of shell syntax: a pasted command that names them runs nothing else.
SHELL_BASE_HEAD = "c;touch pwned1 && $(touch pwned2) | touch pwned3 > pwned4 & `touch pwned5`"
SHELL_PR_HEAD = "d'\"*?[ab]{x,y}~$HOME\\ #x !! <pwned6"
SHELL_SIDES = Sides(base="origin/main;touch pwned7", head="feature $(touch pwned8)")


def shell_verdict(tmp_path: Path) -> Verdict:
    """main adds SHELL_BASE_HEAD, the pull request SHELL_PR_HEAD, both on `b`."""
    return _collision(tmp_path / "shell", SHELL_BASE_HEAD, {"m/versions/d.py": SHELL_PR_HEAD})


def _collision(where: Path, base_head: str, pr_files: dict[str, str]) -> Verdict:
    repo = GitRepo.init(where)
    repo.write({"alembic.ini": "[alembic]\nscript_location = m\n"})
    repo.write({
        "m/versions/a.py": _revision("a", None, "a"),
        "m/versions/b.py": _revision("b", "a", "b"),
    })  # fmt: skip
    repo.commit("base")
    repo.branch("feature")
    repo.write({"m/versions/c.py": _revision(base_head, "b")})
    repo.commit("main's head")
    repo.checkout("feature")
    repo.write({path: _revision(rev, "b") for path, rev in pr_files.items()})
    repo.commit("the pull request's heads")
    return analyse(repo.path, "main", "feature")


def linker(path: str, line: int | None) -> str:
    return f"{LINK_PREFIX}{path}#L{line}"


# --- pasting commands ------------------------------------------------------------------------

_FAKE = """#!{python}
import json, sys
print(json.dumps([{name!r}, *sys.argv[1:]]))
"""


class Shell:
    """A bash in an empty directory, with fake commands that print what they were given."""

    def __init__(self, tmp_path: Path) -> None:
        self.bin = tmp_path / "bin"
        self.cwd = tmp_path / "cwd"
        self.bin.mkdir()
        self.cwd.mkdir()
        for name in ("alembic-heads-bot", "alembic", "git"):
            script = self.bin / name
            script.write_text(_FAKE.format(python=sys.executable, name=name))
            script.chmod(0o755)

    def paste(self, line: str) -> list[list[str]]:
        """The argv of each command the pasted line ran (stdout of the fakes)."""
        environ = {"PATH": f"{self.bin}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(self.cwd)}
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=self.cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0 and not done.stderr, (line, done.stderr)
        return [json.loads(row) for row in done.stdout.splitlines()]

    def side_effects(self) -> list[str]:
        """Whatever a pasted command left in the directory (a `touch pwned` that ran)."""
        return sorted(p.name for p in self.cwd.iterdir())


def in_markdown(text: str) -> str:
    """What a reader should see of `text` in Markdown: bidi marks dropped, white space runs one
    space, control characters the replacement character."""
    text = re.sub(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "\ufffd", text)


# The statements of the bot's Mermaid diagrams: nodes with a quoted label (a revision, a
# rounded box of several, the fix's merge migration), edges, classes.
_NODE = r"(?:r\d+|g\d+|m0)"
_MERMAID_LINE = re.compile(
    r'flowchart BT|    r\d+\["[^"]*"\]|    g\d+\(\["[^"]*"\]\)'
    r'|    m0\["the merge migration the fix adds"\]'
    rf"|    {_NODE} (-->|-\.->) {_NODE}"
    rf"|    classDef \w+ [\w:#,-]+( \d+)?|    class {_NODE}(,{_NODE})* \w+"
)


def mermaid_labels(diagram: str) -> list[str]:
    """The decoded labels of a diagram whose every line is one the bot writes (so no
    `click`, `%%` directive or comment, and no label that left its quotes)."""
    lines = diagram.rstrip("\n").split("\n")
    strays = [line for line in lines if not _MERMAID_LINE.fullmatch(line)]
    assert strays == [], strays
    assert "%%" not in diagram
    return [mermaid_text(label) for label in re.findall(r'\["([^"]*)"\]', diagram)]


def assert_renders_as_text(markdown: str, verdict: Verdict, *, links: tuple[str, ...] = ()) -> None:
    """The hostile verdict's report, as GitHub renders it: only the bot's own markup and
    links, no mention, the heads table whole with each id in its cell, the diagram's labels
    inside their quotes."""
    page = Rendered(markdown)
    assert page.unexpected_tags() == set(), page.unexpected_tags()
    assert [u for u in page.links() if not u.startswith((LINK_PREFIX, *links))] == []
    assert page.mentions() == []
    [env] = verdict.environments
    assert set(env.heads) == {BASE_HEAD, PR_HEAD, REFUSED}
    [heads] = [table for table in page.tables() if table[0] == ["", "heads"]]
    assert heads[1:] == [
        [f"on {SIDES.base}", in_markdown(BASE_HEAD)],
        ["after the merge", ", ".join(in_markdown(head) for head in env.heads)],
    ]
    for diagram in page.code_block("mermaid"):
        labels = mermaid_labels(diagram)
        for head in env.heads:
            assert any(label.startswith(in_markdown(head) + " (head)") for label in labels)
