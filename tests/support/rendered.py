"""Markdown as GitHub renders it (cmark-gfm, GitHub's own parser), and what a reader would get.

`Rendered(markdown)` parses with cmark-gfm's GitHub extensions (tables, autolinks,
strikethrough, task lists) and raw HTML kept, so that anything the bot let through shows. Then:
the tags, the links, the tables' cells, the code blocks, and the @mentions and #references
GitHub would link in the text (it links neither inside code nor inside links).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

# GitHub's mention and issue-reference patterns, on text outside code and links (Ruby's \W is
# ASCII: a zero-width space before `@` would not stop a mention, one after it does).
MENTION = re.compile(r"(?:^|\W)@[a-z0-9]", re.IGNORECASE | re.ASCII)
REFERENCE = re.compile(r"(?:^|\W)(?:[\w.-]+/[\w.-]+)?#\d", re.ASCII)
# What the bot's own Markdown produces; raw HTML it writes itself: <details>, <summary>, <br/>.
ALLOWED_TAGS = {
    "h3", "h4", "p", "strong", "em", "code", "pre", "a", "ul", "li", "blockquote", "table",
    "thead", "tbody", "tr", "th", "td", "details", "summary",
}  # fmt: skip
_INERT = {"code", "pre", "a"}


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find(self, tag: str) -> list[_Node]:
        found = []
        for child in self.children:
            if isinstance(child, _Node):
                found += [child] if child.tag == tag else []
                found += child.find(tag)
        return found


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {})
        self.stack = [self.root]
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.tags.append(tag)
        self.stack[-1].children.append(node)
        if tag not in ("br", "img", "hr", "input"):
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def handle_comment(self, data: str) -> None:
        self.stack[-1].children.append(_Node("!--", {"text": data}))


class Rendered:
    def __init__(self, markdown: str) -> None:
        self.markdown = markdown
        self.html = cmarkgfm.github_flavored_markdown_to_html(
            markdown, options=Options.CMARK_OPT_UNSAFE
        )
        builder = _Builder()
        builder.feed(self.html)
        builder.close()
        self.root, self.tags = builder.root, builder.tags

    def text(self) -> str:
        """All the text a reader sees, zero-width spaces left out (they show nothing)."""
        return self.root.text().replace("\u200b", "").strip()

    def links(self) -> list[str]:
        return [a.attrs.get("href", "") for a in self.root.find("a")]

    def codes(self) -> list[str]:
        return [c.text() for c in self.root.find("code")]

    def comments(self) -> list[str]:
        return [c.attrs["text"] for c in self.root.find("!--")]

    def tables(self) -> list[list[list[str]]]:
        """Each table's rows, header first, as the text of their cells."""
        return [
            [
                [cell.text() for cell in row.children if isinstance(cell, _Node)]
                for row in t.find("tr")
            ]
            for t in self.root.find("table")
        ]

    def code_block(self, language: str) -> list[str]:
        """The text of each fenced block in `language`."""
        return [
            code.text()
            for pre in self.root.find("pre")
            for code in pre.find("code")
            if code.attrs.get("class") == f"language-{language}"
            or pre.attrs.get("lang") == language
        ]

    def loose_text(self) -> str:
        """The text outside code and links: where GitHub looks for mentions and references."""
        return "\n".join(_loose(self.root))

    def mentions(self) -> list[str]:
        return MENTION.findall(self.loose_text()) + REFERENCE.findall(self.loose_text())

    def unexpected_tags(self) -> set[str]:
        return set(self.tags) - ALLOWED_TAGS


def _cells(row: _Node) -> list[str]:
    return [cell.text() for cell in row.children if isinstance(cell, _Node)]


def _loose(node: _Node) -> list[str]:
    texts: list[str] = []
    for child in node.children:
        if isinstance(child, str):
            texts.append(child)
        elif child.tag not in _INERT:
            texts += _loose(child)
    return texts


def mermaid_text(label: str) -> str:
    """A Mermaid label's text, its `#35;` and `#quot;` entity codes decoded as Mermaid does."""
    return re.sub(r"#(\d+|[a-zA-Z]+);", _entity, label)


def _entity(found: re.Match[str]) -> str:
    code = found.group(1)
    return chr(int(code)) if code.isdigit() else html.unescape(f"&{code};")
