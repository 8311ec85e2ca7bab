"""The command line: parse arguments, open the source, call the engine, print, exit.

Exit codes: 0 when nothing is wrong, 1 when an error-severity problem (or a failing policy) is
found, 2 for usage errors and unreadable input. Problems go to stderr, so stdout stays what a
script would parse (`heads` lines, JSON, a diagram).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alembic_heads_bot import __version__
from alembic_heads_bot.engine.bot_config import RULES, load_bot_config
from alembic_heads_bot.engine.errors import CannotJudge, SourceError
from alembic_heads_bot.engine.pipeline import require_environments
from alembic_heads_bot.engine.report.diagram import FORMATS, render
from alembic_heads_bot.engine.report.escape import visible
from alembic_heads_bot.engine.report.heads import heads_dict, heads_text, problem_line
from alembic_heads_bot.engine.report.verdict import (
    Sides,
    compared_line,
    markdown_report,
    text_report,
)
from alembic_heads_bot.engine.scan import (
    EnvironmentScan,
    ParseCache,
    TreeScan,
    scan_tree,
)
from alembic_heads_bot.engine.tree import Tree

if TYPE_CHECKING:
    from alembic_heads_bot.engine.analysis import Verdict

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(CannotJudge):
    """Input the command cannot work with: said once, exit 2."""


def open_tree(path: str, rev: str | None) -> Tree:
    """A directory on disk, or with `rev` the tree of that commit in the repository at `path`."""
    if rev is None:
        from alembic_heads_bot.adapters.disk import DiskTree

        if not Path(path).is_dir():
            raise UsageError(f"{path}: not a directory")
        return DiskTree(path)
    from alembic_heads_bot.adapters.git import GitTree, open_repo

    return GitTree(open_repo(path), rev)


@contextmanager
def parse_cache() -> Iterator[ParseCache]:
    """The on-disk parse cache, written back when the command is done with it."""
    from alembic_heads_bot.adapters import cache_file as cachefile
    from alembic_heads_bot.adapters.workers import parse_many

    stored_at = cachefile.cache_path()
    cache = cachefile.load(stored_at)
    cache.parse_many = parse_many  # thousands of files not cached: parsed on every core
    yield cache
    cachefile.save(cache, stored_at)


def scan_source(path: str, rev: str | None, config: str | None, env: str | None) -> TreeScan:
    tree = open_tree(path, rev)
    bot_config, config_problems = load_bot_config(tree)
    with parse_cache() as cache:
        scan = scan_tree(tree, config=config, env=env, bot_config=bot_config, cache=cache)
    scan = TreeScan(scan.environments, (*config_problems, *scan.problems))
    require_environments(scan, bot_config, config, env)
    return scan


def report_problems(scan: TreeScan) -> int:
    problems = scan.all_problems()
    for problem in problems:
        print(problem_line(problem), file=sys.stderr)
    return EXIT_FAILED if any(p.severity == "error" for p in problems) else EXIT_OK


def run_heads(args: argparse.Namespace) -> int:
    scan = scan_source(_repo(args), args.rev, args.config, args.env)
    if args.json:
        print(json.dumps(heads_dict(scan), indent=2))
    else:
        for line in heads_text(scan):
            print(line)
    return report_problems(scan)


def run_graph(args: argparse.Namespace) -> int:
    scan = scan_source(_repo(args), args.rev, args.config, args.env)
    for env_scan in scan.environments:
        if len(scan.environments) > 1:
            comment = "%%" if args.format == "mermaid" else "//" if args.format == "dot" else "#"
            print(f"{comment} {visible(env_scan.environment.name)}")
        print(render(env_scan.graph, args.format, full=args.full), end="")
    return report_problems(scan)


def run_current(args: argparse.Namespace) -> int:
    from alembic_heads_bot.adapters.version_table import DatabaseUnreadable, read_applied, safe_url
    from alembic_heads_bot.engine.deployed import table_name
    from alembic_heads_bot.engine.report.heads import current_dict, current_summary, current_text

    url = _database_url(args, os.environ)  # before the scan: a missing URL is said at once
    scan = scan_source(_repo(args), args.rev, args.config, args.env)
    env_scan = _one_environment(scan)
    env = env_scan.environment
    table = args.version_table or env.version_table
    schema = args.version_table_schema or env.version_table_schema
    shown = table_name(table, schema)
    database = safe_url(url)
    try:
        rows = read_applied(url, table, schema, timeout=args.timeout)
    except DatabaseUnreadable as exc:
        raise UsageError(f"cannot read {database}: {exc}") from exc
    if args.json:
        print(json.dumps(current_dict(env_scan, database, shown, rows), indent=2))
    else:
        for line in current_text(env_scan.graph, rows or ()):
            print(line)
    summary, readable = current_summary(env_scan.graph, shown, rows)
    print(f"alembic-heads-bot: {summary}", file=sys.stderr)
    if rows is None and not args.version_table:
        for problem in env.version_table_problems:  # why the table name may be wrong
            print(problem_line(problem), file=sys.stderr)
    failed = report_problems(scan) == EXIT_FAILED
    return EXIT_FAILED if failed or not readable else EXIT_OK


DATABASE_URL_ENV = "DATABASE_URL"


def _database_url(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    """--database-url, else the variable --database-url-env names (DATABASE_URL by default):
    a variable keeps the password out of the argv, which other local users can read."""
    if args.database_url is not None:
        return str(args.database_url)
    name = args.database_url_env or DATABASE_URL_ENV
    url = environ.get(name, "").strip()
    if not url:
        how = "" if args.database_url_env else " (or name another with --database-url-env NAME)"
        raise UsageError(f"current reads the database's URL from {name}, which is not set{how}")
    return url


def _one_environment(scan: TreeScan) -> EnvironmentScan:
    if len(scan.environments) == 1:
        return scan.environments[0]
    names = ", ".join(e.environment.name for e in scan.environments) or "none found"
    raise UsageError(f"current reads one environment's database: pass --env ({names})")


def _repo(args: argparse.Namespace) -> str:
    """`--repo PATH`, the spelling every command takes, else the older positional PATH."""
    if args.repo is not None and args.path is not None and args.repo != args.path:
        raise UsageError(f"two repositories given: {args.path} and --repo {args.repo}")
    return str(args.repo or args.path or ".")


def _default_base(repo: str) -> str | None:
    """The remote's default branch (see `adapters.git.default_base`), when there is one."""
    from alembic_heads_bot.adapters.git import default_base, open_repo

    try:
        with open_repo(repo) as handle:
            return default_base(handle)
    except SourceError:  # not a repository: there is no base to compare with
        return None


def _head_name(repo: str, head: str | None) -> str:
    """How the first line names the judged side: --head as given, else the current branch."""
    if head is not None:
        return head
    from alembic_heads_bot.adapters.git import current_branch, open_repo

    try:
        with open_repo(repo) as handle:
            return current_branch(handle) or "HEAD"
    except SourceError:
        return "HEAD"


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        rule, sep, outcome = pair.partition("=")
        if not sep:
            raise UsageError(f"--policy {pair}: expected RULE=fail|warn|ignore")
        found[rule] = outcome
    return found


@dataclass(frozen=True)
class Comparison:
    """What `check` and `merge` compare: a branch tip with its base, in one repository."""

    repo: str
    base: str | None
    head: str | None = None
    config: str | None = None
    env: str | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)
    fix_hook: str | None = None  # see `Sides.fix_hook`


def compute_verdict(job: Comparison) -> tuple[Verdict, Sides]:
    """The branch merged into its base when a base is known, else the single tree judged."""
    from alembic_heads_bot.adapters.databases import DatabaseReader
    from alembic_heads_bot.app.pull_request import analyse
    from alembic_heads_bot.engine.pipeline import Options, judge_alone

    databases = DatabaseReader(os.environ)
    with parse_cache() as cache:
        if job.base is not None:
            verdict = analyse(
                job.repo, job.base, job.head or "HEAD", config=job.config, env=job.env,
                overrides=job.overrides, cache=cache, databases=databases,
            )  # fmt: skip
            sides = Sides(base=job.base, head=job.head or "this branch", fix_hook=job.fix_hook)
            return verdict, sides
        options = Options(job.config, job.env, overrides=job.overrides, databases=databases)
        verdict = judge_alone(open_tree(job.repo, job.head), options, cache)
    return verdict, Sides(head=job.head or "the working tree", fix_hook=job.fix_hook)


PRE_COMMIT_FIX_HOOK = "alembic-heads-merge"  # the fix's hook id in .pre-commit-hooks.yaml


def run_check(args: argparse.Namespace) -> int:
    repo = _repo(args)
    base = args.base or _default_base(repo)
    overrides = _overrides(args.policy)
    fix_hook = PRE_COMMIT_FIX_HOOK if args.fix_hint == "pre-commit" else None
    job = Comparison(repo, base, args.head, args.config, args.env, overrides, fix_hook)
    verdict, sides = compute_verdict(job)
    if args.format == "json":
        print(json.dumps(verdict.as_dict(), indent=2))
    elif args.format == "markdown":
        print(markdown_report(verdict, sides, command=None), end="")
    else:
        head = _head_name(repo, args.head) if base or args.head else "the working tree"
        compared = compared_line(head, base, verdict.commits)
        print(text_report(verdict, sides, compared), end="")
    return EXIT_OK if verdict.ok else EXIT_FAILED


def run_merge(args: argparse.Namespace) -> int:
    from alembic_heads_bot.app.local_fix import fix_working_tree, git_root
    from alembic_heads_bot.engine.fix.plan import FixRefused, FixRequest

    root = git_root(_repo(args))
    base = args.base or _default_base(str(root))
    verdict, base_tree = None, None
    if base is not None:
        verdict, _ = compute_verdict(Comparison(str(root), base, env=args.env))
        base_tree = open_tree(str(root), base)
    request = FixRequest(args.message, args.rev_id, args.env, args.strategy)
    try:
        written = fix_working_tree(root, request, verdict, base_tree, base or "the base branch")
    except FixRefused as exc:
        print(f"alembic-heads-bot: cannot fix: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not written and not scan_source(str(root), None, None, args.env).environments:
        # `no-environment: warn` in the bot config: otherwise the judging raised already
        print("Nothing to merge: no Alembic environment found (no-environment: warn).")
    elif not written:
        print("Nothing to merge: every environment has one head per stream.")
    for item in written:
        print(visible(item.path))
        for note in item.notes:
            print(f"  note: {visible(note)}")
    return EXIT_OK


def run_action(args: argparse.Namespace) -> int:
    from alembic_heads_bot.app.action import main as action_main

    return action_main()


def run_demo(args: argparse.Namespace) -> int:
    from alembic_heads_bot.app.demo import run_demo_steps

    return run_demo_steps(main, keep=args.keep)


EXIT_CODES = """\
exit codes:
  0  nothing is wrong
  1  an error-severity problem or a failing policy rule was found (for `merge`: the fix was
     refused)
  2  usage error or unreadable input: nothing was judged (also when no Alembic environment
     is found, unless .github/alembic-heads.yml says `no-environment: warn`)"""

ACTION_HELP = """\
Run as the GitHub Action: the entry point of the Action's container. It reads the runner's
environment, never command-line options.

inputs (action.yml; each arrives as INPUT_<NAME>, e.g. INPUT_GITHUB-TOKEN):
  github-token       token to fetch the base and head and to post the comment and status
                     (default: the job's GITHUB_TOKEN)
  config             the Alembic config file (alembic.ini or pyproject.toml) to read
                     (default: discover every environment)
  fail-on            new-heads | problems | never: when the step fails (default: new-heads)
  comment            on-problem | always | never: the sticky comment (default: on-problem)
  status             check-run | commit-status | none (default: check-run)
  status-name        the check run's name or the status context (default: alembic-heads)
  auto-fix           true: commit the merge migration without waiting for /merge-heads
                     (default: false)
  fix-token          a token to push the fix commit with, so that other workflows run on it
  working-directory  the git repository to check, relative to the workspace (default: .)

environment variables:
  GITHUB_EVENT_NAME, GITHUB_EVENT_PATH   the event and its payload (required)
  GITHUB_WORKSPACE                       the checkout (default: the current directory)
  GITHUB_REPOSITORY, GITHUB_SERVER_URL, GITHUB_API_URL, GITHUB_RUN_ID
  GITHUB_OUTPUT, GITHUB_STEP_SUMMARY     where the outputs and the job summary go
  RUNNER_TEMP                            where the report JSON goes (the `report` output)
  the variables named by `url_env` in .github/alembic-heads.yml: the databases' URLs"""


def _repo_arguments(parser: argparse.ArgumentParser, positional: bool) -> None:
    """`--repo PATH` on every command; `heads`, `graph` and `current` still take the older
    positional PATH."""
    if positional:
        parser.add_argument(
            "path", nargs="?", default=None, metavar="PATH", help="the same as --repo PATH"
        )
    else:
        parser.set_defaults(path=None)
    parser.add_argument(
        "--repo", metavar="PATH", help="the project directory or git repository (default: .)"
    )


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    _repo_arguments(parser, positional=True)
    parser.add_argument(
        "--rev", metavar="GITREF", help="read this git commit's tree instead of the working tree"
    )
    parser.add_argument(
        "--config", metavar="FILE", help="an alembic.ini or pyproject.toml, relative to PATH "
        "(default: discover every environment)",
    )  # fmt: skip
    parser.add_argument(
        "--env", metavar="NAME", help="only this environment (name, section or script_location)"
    )


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str,
    description: str | None = None, epilog: str = EXIT_CODES,
) -> argparse.ArgumentParser:  # fmt: skip
    text = description or summary
    text = text if "\n" in text else textwrap.fill(text, 79)  # the raw formatter keeps lines
    return commands.add_parser(
        name, help=summary, description=text, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip


BASE_HELP = (
    "the base branch tip (default: the remote's default branch: <remote>/HEAD, else "
    "<remote>/main or <remote>/master, on the remote the branch tracks or origin)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alembic-heads-bot",
        description="Static checks of Alembic revision graphs, heads and pull-request merges.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    heads = _command(commands, "heads", "show the heads, like `alembic heads`")
    _source_arguments(heads)
    heads.add_argument("--json", action="store_true", help="print the graph summary as JSON")
    heads.set_defaults(run=run_heads)

    current = _command(
        commands, "current", "show what a database has applied, like `alembic current`"
    )
    _source_arguments(current)
    url = current.add_mutually_exclusive_group()
    url.add_argument(
        "--database-url-env", metavar="NAME",
        help=f"the environment variable holding the database's SQLAlchemy URL (default: "
        f"{DATABASE_URL_ENV}); read only, never written",
    )  # fmt: skip
    url.add_argument(
        "--database-url", metavar="URL",
        help="the URL itself; other local users can read it in the process list, so prefer "
        "a variable",
    )  # fmt: skip
    current.add_argument(
        "--version-table", metavar="NAME", help="the version table (default: what env.py sets)"
    )
    current.add_argument(
        "--version-table-schema", metavar="SCHEMA",
        help="the version table's schema (default: what env.py configures)",
    )  # fmt: skip
    current.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS",
        help="give up on the database after this long (default: 10)",
    )  # fmt: skip
    current.add_argument("--json", action="store_true", help="print the rows and pending as JSON")
    current.set_defaults(run=run_current)

    graph = _command(commands, "graph", "draw the revision graph")
    _source_arguments(graph)
    graph.add_argument(
        "--format", choices=FORMATS, default="text",
        help="text: `alembic history`'s layout, newest first; mermaid or dot: a diagram "
        "(default: text)",
    )  # fmt: skip
    graph.add_argument(
        "--full", action="store_true",
        help="draw every revision, even where Mermaid would refuse the diagram (more than 500 "
        "edges); without it, long runs of revisions become one box that says how many",
    )  # fmt: skip
    graph.set_defaults(run=run_graph)

    check = _command(
        commands, "check", "judge a branch as merged into its base",
        "Judge the branch as merged into the current tip of its base, the way the pull request "
        "will merge (git's trial merge; the checkout is not touched). The first line of the "
        "text report says what was compared.",
    )  # fmt: skip
    _repo_arguments(check, positional=False)
    check.add_argument("--base", metavar="GITREF", help=BASE_HELP)
    check.add_argument("--head", metavar="GITREF", help="the branch tip (default: HEAD)")
    check.add_argument(
        "--config", metavar="FILE", help="an alembic.ini or pyproject.toml, relative to the repo"
    )
    check.add_argument("--env", metavar="NAME", help="only this environment")
    check.add_argument(
        "--format", choices=("text", "json", "markdown"), default="text",
        help="text: the report for people; json: the verdict for scripts; markdown: the "
        "pull-request comment's report (default: text)",
    )  # fmt: skip
    check.add_argument(
        "--policy", action="append", default=[], metavar="RULE=OUTCOME",
        help=f"override a rule (repeatable): {', '.join(RULES)} = fail|warn|ignore",
    )  # fmt: skip
    check.add_argument(
        "--fix-hint", choices=("cli", "pre-commit"), default="cli",
        help="which fix command the report offers: `alembic-heads-bot merge` (cli) or the "
        f"pre-commit hook `{PRE_COMMIT_FIX_HOOK}` (pre-commit); `alembic merge` is offered "
        "either way (default: cli)",
    )  # fmt: skip
    check.set_defaults(run=run_check)

    merge = _command(commands, "merge", "write the fix into the working tree")
    _repo_arguments(merge, positional=False)
    merge.add_argument("--base", metavar="GITREF", help=BASE_HELP)
    merge.add_argument(
        "-m", "--message", help="the merge migration's message (default: merge heads A, B)"
    )
    merge.add_argument("--rev-id", help="the new revision id (default: 12 random hex digits)")
    merge.add_argument(
        "--strategy", choices=("merge", "rebase"), default="merge",
        help="merge: add a merge migration joining the heads; rebase: re-point the branch's "
        "first new revision at the base head it collides with (default: merge)",
    )  # fmt: skip
    merge.add_argument("--env", metavar="NAME", help="only this environment")
    merge.set_defaults(run=run_merge)

    action = _command(
        commands, "action", "run as the GitHub Action (its container's entry)", ACTION_HELP,
        epilog="exit codes: 0 passed, 1 failed (per the fail-on input), 2 could not judge "
        "(e.g. no Alembic environment found: the check run says \"Not checked\")",
    )  # fmt: skip
    action.set_defaults(run=run_action)

    demo = _command(commands, "demo", "run the bot on a built-in example repository")
    demo.add_argument(
        "--keep", metavar="DIR",
        help="build the example in DIR (new or empty) and keep it there for exploring "
        "(default: a temporary directory, deleted afterwards)",
    )  # fmt: skip
    demo.set_defaults(run=run_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except CannotJudge as exc:
        print(f"alembic-heads-bot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
