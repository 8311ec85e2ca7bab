"""Each escaping helper, against GitHub's own Markdown parser (cmark-gfm), Mermaid's entity
rules, a real bash, and the `regex` module's grapheme clusters: hostile text stays that text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import regex
from alembic_heads_bot.engine.report.escape import (
    BIDI_CONTROLS,
    code_block,
    cut,
    graphemes,
    html_comment_text,
    inline_code,
    link_text,
    markdown_link,
    mermaid_label,
    plain,
    prose,
    shell_command,
    table_cell,
    visible,
)
from hostile import INJECTIONS, Shell, in_markdown
from hypothesis import given, settings
from hypothesis import strategies as st
from rendered import Rendered, mermaid_text

MORE = (
    "\\", "\\|", "&lt;b&gt;", "*e* _e_ ~~s~~ $m$", "# heading", "1. item", "- item", "+ item",
    "> quote", "=====", "```", "~~~", "    indented", "www.e.test", "a@b.test", "mailto:a@b.test",
    "#12 and owner/repo#3", "<!-- c -->", "<http://e.test>", "![i](http://e.test/i.png)",
    "[^1]", "[t]: http://e.test", "a\r\nb\u2028c\x0bd", "\x1b[2Jclear", "SOME_NAME and _em_",
)  # fmt: skip
HOSTILE = (*INJECTIONS, *MORE, " ".join(INJECTIONS))


# --- Markdown -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_text_renders_as_exactly_that_text_wherever_a_line_starts(text: str) -> None:
    for prefix, tags in (("", {"p"}), ("> ", {"blockquote", "p"}), ("- ", {"ul", "li"})):
        page = Rendered(prefix + plain(text))
        assert set(page.tags) <= tags, (prefix, page.html)
        assert page.text() == in_markdown(text).strip()
        assert page.mentions() == []


@pytest.mark.parametrize("text", HOSTILE)
def test_inline_code_holds_any_backtick_run_and_nothing_escapes_it(text: str) -> None:
    page = Rendered(f"x {inline_code(text)} y")
    assert page.tags == ["p", "code"], page.html
    assert page.codes() == [in_markdown(text) or " "]


def test_link_text_cannot_end_the_link_or_nest_one() -> None:
    page = Rendered(markdown_link(link_text("a](http://evil.test) [b"), "https://e.test/x"))
    assert page.links() == ["https://e.test/x"]
    assert page.text() == "a](http://evil.test) [b"


@pytest.mark.parametrize("text", HOSTILE)
def test_a_table_keeps_its_cells_whatever_they_hold(text: str) -> None:
    cells = [plain(text), inline_code(text), prose(f"a `{text}` b")]
    row = "| " + " | ".join(table_cell(cell) for cell in cells) + " |"
    page = Rendered(f"| one | two | three |\n|---|---|---|\n{row}\n")
    [[header, body]] = page.tables()
    assert header == ["one", "two", "three"]
    assert len(body) == 3, page.html
    assert body[0].replace("\u200b", "").strip() == in_markdown(text).strip()
    assert body[1] == (in_markdown(text) or " ")
    assert page.unexpected_tags() == set() and page.links() == [] and page.mentions() == []


def test_prose_shows_the_engines_code_spans_and_nothing_else() -> None:
    message = "Run `alembic merge c d`, not `alembic merge heads`: <img src=x> @octocat [t](u)"
    page = Rendered(prose(message))
    assert page.codes() == ["alembic merge c d", "alembic merge heads"]
    assert page.text() == message.replace("`", "")
    assert page.tags == ["p", "code", "code"] and page.mentions() == []


def test_a_link_goes_where_the_bot_built_it_whatever_the_file_name() -> None:
    path = "m/v/a (1) <img src=x> 100%.py"
    page = Rendered(markdown_link(inline_code(path), f"https://e.test/blob/{path}#L3"))
    assert page.links() == [
        "https://e.test/blob/m/v/a%20%281%29%20%3Cimg%20src=x%3E%20100%25.py#L3"
    ]
    assert page.codes() == [path]
    assert markdown_link("x", "https://e.test/a%20b") == "[x](https://e.test/a%20b)"


def test_no_line_of_a_code_block_can_close_it() -> None:
    text = "a\n```\n<img src=x>\n````\n~~~\n@octocat"
    page = Rendered(code_block(text, "python") + "\nafter")
    assert page.code_block("python") == [text + "\n"]
    assert page.text().endswith("after")


@pytest.mark.parametrize("name", ["db --> x", "a--!>b", "<!-- c", "x\n<img src=x>", "-->"])
def test_html_comment_text_cannot_end_the_comment(name: str) -> None:
    text = html_comment_text(name)
    assert "--" not in text and not set(text) & set("<>!\n ")
    page = Rendered(f"<!-- marker={text} -->\nvisible")
    assert page.comments() == [f" marker={text} "]


# --- Mermaid --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_a_mermaid_label_stays_inside_its_quotes(text: str) -> None:
    label = mermaid_label(text)
    assert re.fullmatch(r'[^"\n\r%`<>\[\]{}|]*', label), label
    assert mermaid_text(label) == in_markdown(text)


# --- plain text and commands ------------------------------------------------------------------


def test_visible_shows_control_characters_and_keeps_emoji_sequences() -> None:
    assert visible("a\nb\r\t\x1b[2J\u202eok\u2028") == "a\\nb\\r\\t\\x1b[2J\\u202eok\\u2028"
    assert visible("👩\u200d💻 🇫🇷 é ok") == "👩\u200d💻 🇫🇷 é ok"


NASTY_WORDS = [
    "$(touch pwned)", "`touch pwned`", "a;touch pwned", "a|touch pwned", "a&&touch pwned",
    "a>pwned", "<pwned", "a'b", 'a"b', "a\\b", "*", "?", "[ab]", "{a,b}", "~", "$HOME", "#x",
    "!!", " ", "", "-m", "--env=x", "a\nb", "\x1b[2J", "\u202eevil", "👩\u200d💻",
]  # fmt: skip


def test_a_pasted_command_runs_with_its_arguments_and_nothing_else(tmp_path: Path) -> None:
    shell = Shell(tmp_path)
    line = shell_command(["alembic-heads-bot", "merge", *NASTY_WORDS])
    assert "\n" not in line
    [argv] = shell.paste(line)
    assert argv == ["alembic-heads-bot", "merge", *map(visible, NASTY_WORDS)]
    assert shell.side_effects() == []


printable = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=12)


@settings(max_examples=40, deadline=None)
@given(words=st.lists(printable, min_size=1, max_size=8))
def test_any_printable_arguments_paste_back_exactly(tmp_path_factory, words: list[str]) -> None:
    words = [w for w in words if not BIDI_CONTROLS & set(w)]  # shown as \u202e: tested above
    shell = Shell(tmp_path_factory.mktemp("paste"))
    assert shell.paste(shell_command(["git", *words])) == [["git", *words]]


# --- cutting ------------------------------------------------------------------------------------

PIECES = [
    "a", " ", "é", "e\u0301", "e\u0301\u0302", "👩\u200d💻", "👍🏽", "🇫🇷", "🇩", "❤\ufe0f",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "각", "\u1100\u1161\u11a8",
    "\r\n", "\n", "x\u20dd", "ｶﾞ", "\u202e",
]  # fmt: skip


@given(st.lists(st.sampled_from(PIECES), max_size=30), st.integers(0, 40))
def test_cutting_never_splits_a_grapheme(pieces: list[str], limit: int) -> None:
    text = "".join(pieces)
    shortened = cut(text, limit)
    assert len(shortened) <= limit
    if len(text) <= limit:
        assert shortened == text
        return
    kept = shortened.removesuffix("…")
    assert text.startswith(kept)
    # every place the cut may fall is a boundary of Unicode's extended grapheme clusters
    boundaries = {0}
    for cluster in regex.findall(r"\X", text):
        boundaries.add(max(boundaries) + len(cluster))
    clusters = list(graphemes(text))
    assert "".join(clusters) == text
    assert {sum(map(len, clusters[:n])) for n in range(len(clusters) + 1)} <= boundaries
    assert len(kept) in boundaries


def test_a_cut_keeps_whole_emoji_and_accents() -> None:
    assert cut("ab👩\u200d💻cd", 4) == "ab…"
    assert cut("ab👩\u200d💻cd", 6) == "ab👩\u200d💻…"
    assert cut("e\u0301e\u0301e\u0301", 4) == "e\u0301…"
    assert cut("🇫🇷🇩🇪", 3) == "🇫🇷…"
    assert cut("short", 5) == "short" and cut("longer", 1) == "…"
