"""The one family of errors that mean "this cannot be judged", each worded for the user.

Every entry point catches `CannotJudge` in one place and says its message once (the CLI exits 2,
the Action writes one `::error::` line and sets a failing status). Anything else that escapes is
a bug, and shows as one, with a traceback in the tests.
"""


class CannotJudge(Exception):
    """The input cannot be judged; the message says why, for the user as is."""


class SourceError(CannotJudge):
    """A source of files (a directory, a git commit) cannot be used."""


class PolicyError(CannotJudge):
    """A policy override names an unknown rule or outcome."""
