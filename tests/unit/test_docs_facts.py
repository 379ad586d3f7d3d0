"""Facts the docs state and the code also states agree: routes, errors, parameters, environment, IAM; links resolve.

The docs keep each fact once; this file is where the copy in the code is compared with it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from devtools.template import REPO_ROOT, function_spec, load_template

DOCS = REPO_ROOT / "docs"
PAGES = [REPO_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
PENDING: set[str] = set()
"""Pages linked before they exist (repository paths); every link must resolve otherwise."""
README_LIMIT = 12 * 1024


def section(page: str, heading: str) -> str:
    """The text of ``heading`` (any level) up to the next heading of the same or a higher level."""
    text = (DOCS / page).read_text()
    match = re.search(rf"^(#+) {re.escape(heading)}\n", text, re.MULTILINE)
    assert match, f"docs/{page}: no heading '{heading}'"
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def first_table(text: str) -> list[list[str]]:
    """The cells of the first Markdown table in ``text`` (header and separator left out)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def ticked(cell: str) -> list[str]:
    """The `code` spans of a cell."""
    return re.findall(r"`([^`]+)`", cell)


def functions() -> list[str]:
    resources = load_template()["Resources"]
    return [name for name, res in resources.items() if res.get("Type") == "AWS::Serverless::Function"]


# --- the chat API ----------------------------------------------------------------------------------------------------


def test_the_route_table_is_the_templates() -> None:
    documented = [ticked(row[0])[0] for row in first_table(section("chat-api.md", "Routes"))]
    declared = [route.route_key for route in function_spec("AgentChatFunction").http_routes]
    assert sorted(documented) == sorted(declared)
    assert len(documented) == len(set(documented))


def test_the_error_table_has_every_code_the_function_answers() -> None:
    from chat_app import ERROR_TABLE

    documented = set()
    for row in first_table(section("chat-api.md", "Errors")):
        documented |= {(int(row[0]), code) for code in ticked(row[1])}
    assert {(spec.status, spec.code) for spec in ERROR_TABLE.values()} == documented


def test_message_count_is_defined_once_in_the_api_reference() -> None:
    definition = "is the number of messages the user has sent in the session, this one included"
    assert definition in section("chat-api.md", "`message_count`")
    others = [p for p in PAGES if definition in p.read_text() and p.name != "chat-api.md"]
    assert others == []


# --- the template ----------------------------------------------------------------------------------------------------


def test_the_parameter_table_is_the_templates() -> None:
    documented = [name for row in first_table(section("deploying.md", "Parameters")) for name in ticked(row[0])]
    assert sorted(documented) == sorted(load_template()["Parameters"])


def test_the_environment_table_is_the_templates() -> None:
    documented: dict[str, set[str]] = {}
    for row in first_table(section("deploying.md", "Environment variables")):
        where = set(functions()) if row[1] == "all" else set(ticked(row[1]))
        for variable in ticked(row[0]):
            documented[variable] = where
    declared: dict[str, set[str]] = {}
    for name in functions():
        for variable in function_spec(name).environment:
            declared.setdefault(variable, set()).add(name)
    assert documented == declared


def granted_dynamodb_actions(function: str) -> set[str]:
    actions: set[str] = set()
    for policy in load_template()["Resources"][function]["Properties"].get("Policies") or []:
        statements: list[Any] = policy.get("Statement", []) if isinstance(policy, dict) else []
        for statement in statements:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            actions |= {a.removeprefix("dynamodb:") for a in listed if a.startswith("dynamodb:")}
    return actions


def test_the_permissions_table_is_the_templates() -> None:
    documented = {ticked(row[0])[0]: set(ticked(row[1])) for row in first_table(section("deploying.md", "Permissions"))}
    declared = {name: granted_dynamodb_actions(name) for name in functions() if granted_dynamodb_actions(name)}
    assert documented == declared


# --- the pages themselves --------------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)  # code spans are not links
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        relative = file.relative_to(REPO_ROOT).as_posix() if file.is_relative_to(REPO_ROOT) else str(file)
        if not file.exists():
            if relative not in PENDING:
                broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    assert broken == []


def test_the_readme_fits_on_a_page() -> None:
    assert len((REPO_ROOT / "README.md").read_bytes()) <= README_LIMIT


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_page_narrates_history_or_points_outside_the_repository(page: Path) -> None:
    text = page.read_text()
    narration = re.findall(
        r"\bissue \d+|\bschema 1\b|before this (?:work|change)|previous design|\bused to\b", text, re.IGNORECASE
    )
    assert narration == []
    assert "../shared" not in text
    assert "/work/" not in text


def test_every_run_local_command_is_documented() -> None:
    from devtools.cli import COMMANDS

    commands = section("local-tools.md", "Commands")
    missing = [c.name for c in COMMANDS if f"scripts/run-local.sh {c.name}" not in commands]
    assert missing == []


def test_the_api_references_limits_are_the_codes() -> None:
    from chatstate.chat.payloads import DEFAULT_PAGE_SIZE, MAX_MESSAGE_CHARS
    from chatstate.store.port import IDEMPOTENCY_SECONDS, MAX_PAGE_SIZE

    routes = section("chat-api.md", "Routes")
    assert f"at most {MAX_MESSAGE_CHARS:,} characters" in routes
    assert f"(1\u2013{MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE})" in routes  # an en dash
    assert f"a message over {MAX_MESSAGE_CHARS:,} characters" in section("chat-api.md", "Errors")
    assert f"({IDEMPOTENCY_SECONDS // 3600} hours by default)" in section("architecture.md", "The store")
