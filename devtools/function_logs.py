"""Where the local tools put the functions' own output (Powertools' JSON logs and metrics, CloudWatch's share).

Every ``scripts/run-local.sh`` command prints answers and keeps these lines in ``.local/logs/functions.log``
(under ``$CHATSTATE_LOCAL_DIR`` when set); ``--logs`` prints them on stderr instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO

from devtools.stack import state_dir
from devtools.template import REPO_ROOT


def log_path() -> Path:
    """The file the functions' JSON logs go to unless ``--logs`` is given."""
    return state_dir() / "logs" / "functions.log"


def add_logs_option(parser: argparse.ArgumentParser) -> None:
    """``--logs``: the functions' JSON logs on stderr instead of the file."""
    parser.add_argument(
        "--logs", action="store_true", help=f"print the functions' JSON logs on stderr (default: {shown_path()})"
    )


def shown_path() -> str:
    """The log file as a user would type it (relative to the repository when inside it)."""
    path = log_path()
    return str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path)


def function_output(show_logs: bool) -> IO[str]:
    """stderr with ``--logs``; else the log file, opened for appending (line-buffered, open while the tool runs)."""
    import sys

    if show_logs:
        return sys.stderr
    log_path().parent.mkdir(parents=True, exist_ok=True)
    return log_path().open("a", buffering=1, encoding="utf-8")


def where(show_logs: bool) -> str:
    """A few words saying where the functions' logs went."""
    return "printed on stderr" if show_logs else f"in {shown_path()} (--logs prints them here)"
