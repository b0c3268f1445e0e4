"""One exception tree for LLL.

::

    LLLError
    ├── WorkspaceError        no workspace, unreadable lll.toml, unusable database
    │   └── WorkspaceBusyError    another lll command holds the workspace lock (exit 75)
    ├── HandEditedError       issues/DATE.md was edited by hand: a re-draft keeps it (exit 1)
    ├── SourceError           a source that cannot be added / imported (bad URL, bad OPML)
    ├── FetchError            one URL could not be fetched (carries the url)
    │   └── BlockedAddressError   refused by the SSRF guard
    ├── ParseError            a fetched body that is not a usable feed (carries the source)
    ├── VerificationError     a draft with unsupported claims
    └── PublishError          a target refused a publish, or its outcome is unclear (carries the target)
        └── PublishSettingsError  a key or setting that a target needs is missing or malformed

Messages are for people: say what failed and what to do next. Third-party errors
are translated at the boundary and chained with ``raise ... from``.

Exit status (``exit_code``; the README's table): 0 done; 1 a problem to act on (verification
failed, a target refused, a hand-edited issue kept); 2 bad usage or bad input (click's
own usage errors too); 75 busy, try again later (``EX_TEMPFAIL`` of sysexits.h).
"""

from __future__ import annotations


class LLLError(Exception):
    """Root of every error LLL raises on purpose."""

    exit_code = 2


class WorkspaceError(LLLError):
    """The workspace is missing or unusable."""


EX_TEMPFAIL = 75  # sysexits.h: a temporary failure, the same command will work later


class WorkspaceBusyError(WorkspaceError):
    """Another lll command holds the workspace lock. Not bad usage: the same command works
    once the other one finishes, so a scheduler may simply retry."""

    exit_code = EX_TEMPFAIL


class HandEditedError(LLLError):
    """``issues/DATE.md`` differs from every version LLL wrote there: someone edited it. A
    re-draft keeps the editor's file (``--force`` drafts over it, keeping a backup)."""

    exit_code = 1

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class SourceError(LLLError):
    """A source definition or an OPML file is invalid."""


class FetchError(LLLError):
    """A URL could not be fetched."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts


class BlockedAddressError(FetchError):
    """The SSRF guard refused an address (private, loopback, link-local...)."""


class ParseError(LLLError):
    """A body that is not a usable feed."""

    def __init__(self, message: str, *, source: str = "") -> None:
        super().__init__(message)
        self.source = source


class VerificationError(LLLError):
    """A draft carries claims its sources do not support."""

    exit_code = 1


class PublishError(LLLError):
    """A publish that a target refused, or whose outcome is unclear.

    ``state`` is what the publication ledger records: ``failed`` (refused: nothing
    changed on the target in this attempt, fix the cause and rerun) or ``unclear``
    (the request may have reached the target: the next run looks it up first).
    """

    exit_code = 1

    def __init__(self, message: str, *, target: str = "", state: str = "failed",
                 status: int | None = None) -> None:
        super().__init__(message)
        self.target = target
        self.state = state
        self.status = status


class PublishSettingsError(PublishError):
    """A key or setting that a target needs is missing or malformed (nothing was sent)."""

    exit_code = 2
