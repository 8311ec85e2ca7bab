"""The comment as GitHub shows it, in a real browser: Markdown -> HTML with cmark-gfm (GitHub's
parser), each ```mermaid block handed to Mermaid 11 (the npm package the tests pin) in
headless Chromium, Debian's package. One browser launch renders every comment given, writes a
screenshot of them and returns the page as the browser left it.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import cmarkgfm
from cmarkgfm.cmark import Options

TESTS = Path(__file__).resolve().parent.parent
MERMAID = TESTS / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
# Where the screenshots go for a developer to look at (git-ignored).
SCREENSHOTS = TESTS / "screenshots"
_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--virtual-time-budget=20000",
)  # fmt: skip

# Every ```mermaid block becomes a diagram, as on github.com; what Mermaid throws is listed
# in #mermaid-status with the number of blocks, once it has finished.
_SCRIPT = """
(async () => {
  const blocks = [...document.querySelectorAll('pre[lang="mermaid"]')];
  for (const pre of blocks) {
    const div = document.createElement('div');
    div.className = 'mermaid';
    div.textContent = pre.textContent;
    pre.replaceWith(div);
  }
  const errors = [];
  mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
  try {
    await mermaid.run({ querySelector: '.mermaid' });
  } catch (error) {
    errors.push(String((error && error.message) || error));
  }
  const status = document.createElement('pre');
  status.id = 'mermaid-status';
  status.textContent = JSON.stringify({ blocks: blocks.length, errors });
  document.body.appendChild(status);
})();
"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "the browser test needs Debian's chromium: `make test` installs it"
    return found


def page(comments: Mapping[str, str]) -> str:
    sections = "".join(
        f"<section><h2>{html.escape(name)}</h2>"
        f"{cmarkgfm.github_flavored_markdown_to_html(body, options=Options.CMARK_OPT_UNSAFE)}"
        "</section><hr>"
        for name, body in comments.items()
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><style>'
        "body{font-family:sans-serif;max-width:900px;margin:16px auto;font-size:14px}"
        "table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:4px 8px}"
        "pre{background:#f6f8fa;padding:8px;overflow:auto}"
        f"</style></head><body>{sections}"
        f'<script src="{MERMAID.as_uri()}"></script><script>{_SCRIPT}</script></body></html>'
    )


def render(
    comments: Mapping[str, str], screenshot: str, height: int
) -> tuple[str, dict[str, object]]:
    """The page after Mermaid ran (its DOM) and what Mermaid reported; a screenshot of it in
    SCREENSHOTS/`screenshot`."""
    SCREENSHOTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(scratch) / "comment.html"
        where.write_text(page(comments), encoding="utf-8")
        done = subprocess.run(
            [
                chromium(), *_FLAGS, f"--user-data-dir={Path(scratch) / 'profile'}",
                f"--window-size=1000,{height}", f"--screenshot={SCREENSHOTS / screenshot}",
                "--dump-dom", where.as_uri(),
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    status = done.stdout.split('<pre id="mermaid-status">', 1)[1].split("</pre>", 1)[0]
    return done.stdout, json.loads(html.unescape(status))
