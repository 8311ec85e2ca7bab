// Mermaid's own parser (the npm package GitHub's renderer runs), one diagram per input line.
// Reads JSON strings from stdin, one per line; writes one JSON line per diagram:
// {"ok": true} or {"ok": false, "error": "..."}. One process serves a whole test session.
import readline from 'node:readline';
import DOMPurify from 'dompurify';

// Without a DOM, DOMPurify has no methods; Mermaid calls them while parsing labels. Parsing
// needs no sanitising (the browser test renders with the real one).
for (const name of ['addHook', 'removeHook', 'removeHooks', 'removeAllHooks']) {
  DOMPurify[name] = () => {};
}
DOMPurify.sanitize = (text) => String(text);
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  let answer;
  try {
    await mermaid.parse(JSON.parse(line));
    answer = { ok: true };
  } catch (error) {
    answer = { ok: false, error: String((error && error.message) || error) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
