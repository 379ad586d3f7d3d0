"""The type checker's rule for suppressions: every ``type: ignore`` names its error code and says why."""

from __future__ import annotations

import re
from pathlib import Path

from devtools.template import REPO_ROOT

CHECKED = ("layers/chatstate/chatstate", "functions")
"""What mypy checks (pyproject.toml, [tool.mypy] files); code it does not check carries no suppressions."""
_JUSTIFIED = re.compile(r"# type: ignore\[[a-z-]+(, ?[a-z-]+)*\]  # \S")


def _sources():
    skip = {".venv", ".venv-sam", ".venv-bench", ".tools", ".aws-sam", ".git", "node_modules"}
    for path in REPO_ROOT.rglob("*.py"):
        if not skip.intersection(path.relative_to(REPO_ROOT).parts) and path != Path(__file__):
            yield path


def test_every_type_ignore_names_its_code_and_a_reason_and_only_in_checked_code():
    bad = []
    for path in _sources():
        relative = path.relative_to(REPO_ROOT).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "type: ignore" not in line:
                continue
            if not relative.startswith(CHECKED) or not _JUSTIFIED.search(line):
                bad.append(f"{relative}:{number}")
    assert bad == []
