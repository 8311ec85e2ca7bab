"""Untrusted text -> text that stays text, one function per place the bot writes it. Pure.

Revision ids, file names, docstrings, branch and database names and messages that quote file
contents are chosen by whoever wrote the pull request. Wherever the bot prints or posts them
they must read as what they are: never a mention that notifies someone, an image that loads,
a link, raw HTML, a table cell or a line of their own, a Mermaid directive, or a shell command
that runs something when a reader pastes it. Every renderer goes through these helpers; the
runner's workflow commands have theirs in `adapters.runner` (`escape_data`, `WorkflowLog`).

Contexts:
- `inline_code`: an id or a path in Markdown, shown as code.
- `plain`: Markdown text: no markup, no HTML, no autolink, @mentions and #references inert.
- `prose`: a message the engine wrote with `code` spans around ids, rendered as Markdown.
- `table_cell`: Markdown already made safe by the above, put in a GFM table cell.
- `markdown_link` / `link_text`: a Markdown link to a URL the bot built.
- `code_block`: a fenced block no line of the content can close.
- `html_comment_text`: what may stand inside the bot's hidden `<!-- ... -->` markers.
- `mermaid_label`: the text of a quoted Mermaid node label.
- `dot_string`: a Graphviz DOT quoted string.
- `shell_command`: a command line to print, each argument `shlex.quote`d.
- `visible`: text for a terminal or a log: control and bidi characters shown as escapes.
- `cut`: shortening that never splits a character (a combining mark, an emoji sequence).
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Iterable, Iterator
from urllib.parse import quote

# Right-to-left and isolate marks reorder what a reader sees ("Trojan Source").
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # Arabic letter mark, left-to-right and right-to-left marks
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
# Not a mention, an email or a link once this follows `@`, `#` or sits inside `://`, `www.`:
# GitHub renders it as nothing, and its mention, reference and autolink patterns no longer match.
ZERO_WIDTH_SPACE = "\u200b"

_WHITESPACE = re.compile(r"\s+")


class Markdown(str):
    """Markdown the engine built from parts these helpers escaped (a note with links): `plain`
    and `prose` put it in as it is. Anything typed `str` is untrusted text."""

    __slots__ = ()


# --- characters and graphemes ---------------------------------------------------------------


_NO_BIDI = str.maketrans(dict.fromkeys(map(ord, BIDI_CONTROLS)))
# Control characters (category Cc) and lone surrogates (Cs): what a regex can find at once.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def strip_bidi(text: str) -> str:
    """`text` without the characters that reorder how it is displayed."""
    return text.translate(_NO_BIDI)


def _one_line(text: str) -> str:
    """Untrusted text for a Markdown or Mermaid line: bidi marks dropped, every run of white
    space (newlines included) one space, other control characters and lone surrogates the
    replacement character."""
    return _CONTROL.sub("\ufffd", _WHITESPACE.sub(" ", strip_bidi(text)))


def visible(text: str) -> str:
    """Text for a terminal, a log or a plain-text field: control characters, line breaks,
    bidi marks and lone surrogates shown as `\\n`, `\\x1b`, `\\u202e`; the rest unchanged."""
    return "".join(_shown_char(ch) for ch in text)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown_char(ch: str) -> str:
    if ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
        return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
    return ch


def graphemes(text: str) -> Iterator[str]:
    """The user-perceived characters of `text`, close to Unicode's extended grapheme clusters:
    a base with its combining marks, variation selectors and skin tones, emoji joined by ZWJ,
    flag pairs, Hangul syllable parts, CR LF, and surrogate pairs stay together."""
    cluster = ""
    previous = ""
    indicators = 0  # regional indicators in the current cluster
    for ch in text:
        if cluster and _continues(previous, ch, indicators):
            cluster += ch
        else:
            if cluster:
                yield cluster
            cluster, indicators = ch, 0
        indicators += _is_regional_indicator(ch)
        previous = ch
    if cluster:
        yield cluster


def _continues(previous: str, ch: str, indicators: int) -> bool:
    code = ord(ch)
    if previous == "\r":
        return ch == "\n"
    if ch in "\r\n" or unicodedata.category(previous) in ("Cc", "Zl", "Zp"):
        return False
    if previous == "\u200d" or code in (0x200C, 0x200D):  # zero-width (non-)joiners
        return True
    if unicodedata.category(ch) in ("Mn", "Me", "Mc"):  # combining marks, variation selectors
        return True
    if code in (0xFF9E, 0xFF9F):  # halfwidth katakana sound marks
        return True
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:  # skin tones, flag tags
        return True
    if 0xDC00 <= code <= 0xDFFF and 0xD800 <= ord(previous) <= 0xDBFF:  # a surrogate pair
        return True
    if _is_regional_indicator(ch) and _is_regional_indicator(previous):
        return indicators % 2 == 1  # flags are pairs: the third starts a new one
    return _hangul_continues(_hangul(previous), _hangul(ch))


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _hangul(ch: str) -> str:
    """The Hangul syllable type: L, V, T, LV, LVT, or "" for anything else."""
    code = ord(ch)
    if 0x1100 <= code <= 0x115F or 0xA960 <= code <= 0xA97C:
        return "L"
    if 0x1160 <= code <= 0x11A7 or 0xD7B0 <= code <= 0xD7C6:
        return "V"
    if 0x11A8 <= code <= 0x11FF or 0xD7CB <= code <= 0xD7FB:
        return "T"
    if 0xAC00 <= code <= 0xD7A3:
        return "LV" if (code - 0xAC00) % 28 == 0 else "LVT"
    return ""


def _hangul_continues(previous: str, current: str) -> bool:
    if previous == "L":
        return current in ("L", "V", "LV", "LVT")
    if previous in ("LV", "V"):
        return current in ("V", "T")
    return previous in ("LVT", "T") and current == "T"


def cut(text: str, limit: int, mark: str = "…") -> str:
    """`text` in at most `limit` characters: whole if it fits, else the first whole graphemes
    that leave room for `mark`, trailing blanks dropped, then `mark`."""
    if len(text) <= limit:
        return text
    if limit <= len(mark):
        return mark[:limit]
    return text[: boundary(text, limit - len(mark))].rstrip() + mark


def boundary(text: str, index: int) -> int:
    """The last grapheme boundary at or before `index`: where `text` can be cut. Walks back
    from `index` only, so that cutting a long text costs little."""
    index = min(index, len(text))
    while 0 < index < len(text):
        previous, current = text[index - 1], text[index]
        if not _continues(previous, current, _indicators_before(text, index)):
            break
        index -= 1
    return index


def _indicators_before(text: str, index: int) -> int:
    """How many regional indicators run up to `index` (flags pair them from the start)."""
    count = 0
    while index - count > 0 and _is_regional_indicator(text[index - count - 1]):
        count += 1
    return count


# --- Markdown ---------------------------------------------------------------------------------

# Markup characters, escaped wherever they stand: emphasis, code, strikethrough, links and
# images, table pipes, math, and the characters of HTML and entities (as entities, so that
# `<img>` reads `&lt;img&gt;` in the raw text too).
_MARKUP = str.maketrans({
    "\\": "\\\\", "`": "\\`", "*": "\\*", "~": "\\~", "[": "\\[", "]": "\\]",
    "|": "\\|", "$": "\\$", "&": "&amp;", "<": "&lt;", ">": "&gt;",
})  # fmt: skip
# `_` between two letters or digits can neither open nor close emphasis (CommonMark's flanking
# rules): SOME_NAME stays as written, any other `_` is escaped.
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
# GitHub links `@name` (a mention: it notifies), `name@host` (email), `#12` and `owner/repo#12`
# (a reference: it adds an event to that issue), `http://`, `www.`: a zero-width space breaks
# each pattern and shows nothing.
_LINKING = re.compile(r"@|#(?=\d)|:(?=//)|(?i:www)(?=\.)")
# What opens a block at the start of a line (a heading, a list, a rule, an ordered list): the
# text may follow a `> ` or `- ` that the report wrote.
_BLOCK_START = re.compile(r"^( ?)([#=+-]|\d+(?=[.)]))")


def plain(text: str) -> str:
    """Untrusted text as Markdown that renders exactly as that text, on one line."""
    if isinstance(text, Markdown):
        return str(text)
    text = _UNDERSCORE.sub(r"\\_", _one_line(text).translate(_MARKUP))
    text = _LINKING.sub(lambda found: found.group(0) + ZERO_WIDTH_SPACE, text)
    return _BLOCK_START.sub(_escape_block_start, text, count=1)


def _escape_block_start(found: re.Match[str]) -> str:
    space, opener = found.group(1), found.group(2)
    if opener[0].isdigit():  # `1.` or `1)`: escape the punctuation that follows
        return f"{space}{opener}\\"
    return f"{space}\\{opener}"


def link_text(text: str) -> str:
    """Untrusted text as the text of a link the bot writes: `plain` already escapes the
    brackets, so it can neither end the link early nor nest another one."""
    return plain(text)


_SIMPLE_CODE = re.compile(r"[A-Za-z0-9_.:/-]+")


def inline_code(text: str) -> str:
    """Untrusted text as a Markdown code span: the fence is longer than any run of backticks
    inside, and a space pads a backtick at either end (CommonMark strips one such space). No
    mention, link or HTML is recognised inside code. On one line: a newline in a span would
    let the next line start a heading or a list."""
    if _SIMPLE_CODE.fullmatch(text):  # most ids and paths: nothing to clean
        return f"`{text}`"
    text = _one_line(text)
    if not text:
        return "` `"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    both_blank = text.startswith(" ") and text.endswith(" ") and text.strip(" ")
    pad = " " if text.startswith("`") or text.endswith("`") or both_blank else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_list(items: Iterable[str], empty: str = "none") -> str:
    """Ids or paths as comma-separated code spans, or `empty`."""
    return ", ".join(inline_code(item) for item in items) or empty


# Pairs of single backticks the engine writes around ids and commands in its messages.
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def prose(text: str) -> str:
    """A message the engine wrote, which quotes ids and commands in backticks and may quote
    file contents: each backticked part as `inline_code`, the rest as `plain`. Whatever the
    quoted parts hold, every piece goes through one of the two, so nothing else renders.
    `Markdown` the engine built from escaped parts is taken as it is."""
    if isinstance(text, Markdown):
        return str(text)
    pieces: list[str] = []
    start = 0
    for found in _CODE_SPAN.finditer(text):
        pieces.append(plain(text[start : found.start()]))
        pieces.append(inline_code(found.group(1)))
        start = found.end()
    pieces.append(plain(text[start:]))
    return "".join(pieces)


def table_cell(markdown: str) -> str:
    """Inline Markdown (made by the helpers above) as a GFM table cell. The table splits its
    rows at `|` before anything else, inside code spans too, and turns `\\|` into `|` first:
    so every `|`, escaped or not, gets one more backslash. No newline reaches here."""
    return markdown.replace("\n", " ").replace("|", "\\|")


# Everything but these is percent-encoded in a link's destination: spaces, parentheses, angle
# brackets and backslashes would end it or change it. A `%` that starts an escape stays, so an
# encoded URL stays as it is; any other `%` is encoded.
_URL_SAFE = ":/?#[]@!$&'*+,;=%-._~"
_BARE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def markdown_link(label: str, url: str) -> str:
    """A Markdown link: `label` is Markdown made by `inline_code` or `link_text`, `url` one the
    bot built (its path may hold a file name)."""
    return f"[{label}]({quote(_BARE_PERCENT.sub('%25', url), safe=_URL_SAFE)})"


def code_block(text: str, language: str = "") -> str:
    """A fenced code block: the fence is longer than any backtick run in `text`, so no line of
    it can close the block early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"


# --- other formats ----------------------------------------------------------------------------


def html_comment_text(text: str) -> str:
    """Text that can stand inside `<!-- ... -->`: letters, digits and `_.:/-`, every other run
    one `_`, and no `--` (which could start the comment's end)."""
    text = re.sub(r"[^A-Za-z0-9_.:/-]+", "_", text)
    return re.sub(r"-{2,}", "-", text)


# Mermaid reads `#name;` and `#123;` in labels as character entities: every character that
# could end the quoted label (`"`), start a directive or comment (`%%`), start an entity (`#`)
# or read as markup or a shape (`<>[]{}|&` and backticks) becomes one.
_MERMAID = str.maketrans({
    "#": "#35;", '"': "#quot;", "%": "#37;", "&": "#38;", "<": "#lt;", ">": "#gt;",
    "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;", "|": "#124;", "`": "#96;",
})  # fmt: skip


def mermaid_label(text: str) -> str:
    """Untrusted text for the inside of a quoted Mermaid label `id["..."]`, on one line: so
    no `click`, `%%{init}%%`, `-->` or `]]` in it can leave the label."""
    return _one_line(text).translate(_MERMAID)


def dot_string(text: str) -> str:
    """Untrusted text for the inside of a Graphviz DOT quoted string, on one line (as a
    Mermaid label is): no quote or backslash of its own can end the string."""
    return _one_line(text).replace("\\", "\\\\").replace('"', '\\"')


def shell_command(words: Iterable[str]) -> str:
    """A command line to print for people to paste: each word shown `visible` (no control
    character or line break reaches the terminal) and `shlex.quote`d, so that pasting it into
    a POSIX shell runs this command with these arguments and nothing else."""
    return " ".join(shlex.quote(visible(word)) for word in words)
