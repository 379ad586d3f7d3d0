"""Every ``python`` block of README.md and docs/*.md runs as written (a fresh interpreter, the layer on the path).

A fragment that cannot run alone is marked ``py`` instead of ``python``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from devtools.template import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
PATHS = ["layers/chatstate", "functions/lex_fulfillment", "functions/agent_chat", "."]


def python_blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in PAGES:
        for number, block in enumerate(_BLOCK.findall(page.read_text()), start=1):
            found.append((str(page.relative_to(REPO_ROOT)), number, block))
    return found


BLOCKS = python_blocks()


def test_the_readme_has_a_runnable_example() -> None:
    assert any(page == "README.md" for page, _, _ in BLOCKS)


@pytest.mark.parametrize(("page", "number", "code"), BLOCKS, ids=[f"{p}#{n}" for p, n, _ in BLOCKS])
def test_the_example_runs_as_written(page: str, number: int, code: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in PATHS), "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{page}, python block {number}:\n{done.stderr[-3000:]}"
