"""The command line: parse arguments, open the source, call the engine, print, exit.

Exit codes: 0 when nothing is wrong, 1 when an error-severity problem (or a failing policy) is
found, 2 for usage errors and unreadable input. Problems go to stderr, so stdout stays what a
script would parse (`heads` lines, JSON, a diagram).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import __version__
from bot.botconfig import load_bot_config
from bot.diagram import FORMATS, render
from bot.headsview import heads_dict, heads_text, problem_line
from bot.scan import EnvironmentNotFound, TreeScan, scan_tree
from bot.tree import Tree

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Input the command cannot work with: said once, exit 2."""


def open_tree(path: str, rev: str | None) -> Tree:
    """A directory on disk, or with `rev` the tree of that commit in the repository at `path`."""
    if rev is None:
        from bot.disksource import DiskTree

        if not Path(path).is_dir():
            raise UsageError(f"{path}: not a directory")
        return DiskTree(path)
    from bot.gitsource import GitTree, SourceError, open_repo

    try:
        return GitTree(open_repo(path), rev)
    except SourceError as exc:
        raise UsageError(str(exc)) from exc


def scan_source(args: argparse.Namespace) -> TreeScan:
    from bot import cachefile

    tree = open_tree(args.path, args.rev)
    bot_config, config_problems = load_bot_config(tree)
    stored_at = cachefile.cache_path()
    cache = cachefile.load(stored_at)
    try:
        scan = scan_tree(tree, config=args.config, env=args.env, bot_config=bot_config, cache=cache)
    except EnvironmentNotFound as exc:
        raise UsageError(str(exc)) from exc
    cachefile.save(cache, stored_at)
    return TreeScan(scan.environments, (*config_problems, *scan.problems))


def report_problems(scan: TreeScan) -> int:
    problems = scan.all_problems()
    for problem in problems:
        print(problem_line(problem), file=sys.stderr)
    return EXIT_FAILED if any(p.severity == "error" for p in problems) else EXIT_OK


def run_heads(args: argparse.Namespace) -> int:
    scan = scan_source(args)
    if args.json:
        print(json.dumps(heads_dict(scan), indent=2))
    else:
        for line in heads_text(scan):
            print(line)
    return report_problems(scan)


def run_graph(args: argparse.Namespace) -> int:
    scan = scan_source(args)
    for env_scan in scan.environments:
        if len(scan.environments) > 1:
            comment = "%%" if args.format == "mermaid" else "//" if args.format == "dot" else "#"
            print(f"{comment} {env_scan.environment.name}")
        print(render(env_scan.graph, args.format), end="")
    return report_problems(scan)


def run_demo(args: argparse.Namespace) -> int:
    """Build the classic two-heads example and show what the bot sees in it."""
    import tempfile

    from bot.demo import build_demo_repository, merge_preview

    with tempfile.TemporaryDirectory(prefix="alembic-heads-demo-") as tmp:
        repo = Path(tmp) / "shop"
        build_demo_repository(repo)
        print(f"Example repository: {repo}")
        print("main: A -> B -> C -> D; feature (from C): E -> F\n")
        for title, rev in [("main alone", "main"), ("feature alone", "feature")]:
            print(f"== {title}: alembic-heads-bot heads --rev {rev}")
            main(["heads", str(repo), "--rev", rev])
        merged = merge_preview(repo, "main", "feature")
        print("\n== main and feature merged: alembic-heads-bot heads --rev <merge>")
        status = main(["heads", str(repo), "--rev", merged])
        print("\n== the graph of the merge")
        main(["graph", str(repo), "--rev", merged])
    return status


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="project directory (default: .)")
    parser.add_argument("--rev", help="read this git commit's tree instead of the working tree")
    parser.add_argument("--config", help="an alembic.ini or pyproject.toml, relative to PATH")
    parser.add_argument("--env", help="only this environment (name, section or script_location)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alembic-heads-bot",
        description="Static checks of Alembic revision graphs, heads and pull-request merges.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    heads = commands.add_parser("heads", help="show the heads, like `alembic heads`")
    _source_arguments(heads)
    heads.add_argument("--json", action="store_true", help="print the graph summary as JSON")
    heads.set_defaults(run=run_heads)

    graph = commands.add_parser("graph", help="draw the revision graph")
    _source_arguments(graph)
    graph.add_argument("--format", choices=FORMATS, default="text")
    graph.set_defaults(run=run_graph)

    demo = commands.add_parser("demo", help="run the bot on a built-in example repository")
    demo.set_defaults(run=run_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except UsageError as exc:
        print(f"alembic-heads-bot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
