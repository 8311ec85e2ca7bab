"""Time the push re-check: 200 open pull requests on the fake GitHub, one push to their base.

Usage: python benchmarks/recheck.py [--pulls 200] [--red 10] [--revisions 300]

main holds a chain of --revisions revisions. A quarter of the pull requests touch migrations:
--red of them add a revision on the current head (the push below makes each a second head),
the others edit an older revision's body (their verdict does not change). The rest change
application code only. Then a revision lands on main ("Add the orders table (#9999)") and
`alembic-heads-bot action` runs for that push in a fresh depth-1 clone, as a runner would.

Prints the wall time of that run (the clone included) and the API requests it made. Writes
are spaced by a second, as GitHub asks of integrations, so each changed pull request costs
about two seconds of that wall time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakegithub import FakeGitHub
from gitrepo import GitRepo
from test_analysis import INI, chain, path, revision
from test_publish import SHOP, Shop


def build(root: Path, fake: FakeGitHub, pulls: int, red: int, revisions: int) -> Shop:
    """The project, its pull requests, and the landed revision (pushed, not yet re-checked)."""
    src = GitRepo.init(root / "src")
    ids = [f"r{i:04}" for i in range(revisions)]
    src.write({"alembic.ini": INI, **chain(*ids)})
    src.commit("history")
    fake.create_repo(SHOP, source=src.path)
    shop = Shop(fake, src, root)
    head = ids[-1]
    for i in range(pulls):
        src.git("checkout", "--quiet", "-B", f"pr{i}", "main")
        if i % 4 or i // 4 >= pulls // 4:
            src.write({f"app/module_{i}.py": f"VALUE = {i}\n"})
        elif i // 4 < red:
            src.write({path(f"n{i:03}"): revision(f"n{i:03}", head)})
        else:
            old = ids[i % (revisions - 1)]
            parent = ids[ids.index(old) - 1] if old != ids[0] else None
            src.write({path(old): revision(old, parent, body=f"op.execute('-- {i}')")})
        src.commit(f"change {i}")
    src.checkout("main")
    shop.push()
    for i in range(pulls):
        fake.open_pr(SHOP, head=f"pr{i}")
    return shop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=200)
    parser.add_argument("--red", type=int, default=10)
    parser.add_argument("--revisions", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeGitHub(Path(tmp) / "fake") as fake:
        started = time.perf_counter()
        shop = build(Path(tmp), fake, args.pulls, args.red, args.revisions)
        print(f"setup: {args.pulls} pull requests in {time.perf_counter() - started:.1f} s")
        before = fake.branch_sha(SHOP, "main")
        shop.commit_main({path("landed"): revision("landed", f"r{args.revisions - 1:04}")})
        event = fake.event_push(SHOP, "refs/heads/main", before=before)
        started = time.perf_counter()
        run = shop.run(event)
        wall = time.perf_counter() - started
        fake.assert_valid()
    if run.code != 0:
        sys.exit(f"the run failed ({run.code}):\n{run.log}")
    kinds = Counter(r.operation for r in run.requests if r.operation != "git")
    git = sum(1 for r in run.requests if r.operation == "git")
    print(f"re-check after one push: {wall:.1f} s wall (depth-1 clone included)")
    print(f"API requests: {len(run.api)} ({len(run.writes)} writes); git HTTP requests: {git}")
    for kind, count in sorted(kinds.items()):
        print(f"  {count:4}  {kind}")
    print(run.log.splitlines()[-1])


if __name__ == "__main__":
    main()
