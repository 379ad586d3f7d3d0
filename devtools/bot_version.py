"""Keep ``ChatBot``'s published version in step with its definition.

``AWS::Lex::BotVersion`` has no update handler: CloudFormation never re-publishes an existing version, whatever its
properties say, so edits to intents, slots or prompts would reach only DRAFT (and the test alias) while the ``live``
alias stayed on the first version. The supported way to publish again is a *new* BotVersion resource: its logical id
carries a digest of the bot's definition (``ChatBotVersion<digest>``), so every definition change renames it, and
the next plain ``sam deploy`` creates a new version, moves ``live`` to it, then deletes the old one.

``tests/unit/test_template.py`` fails when the digest in the template is stale. To refresh it::

    .venv/bin/python -m devtools.bot_version --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devtools.template import TEMPLATE_PATH, TemplateError, load_template

BOT_ID = "ChatBot"
VERSION_PREFIX = "ChatBotVersion"
UNVERSIONED = frozenset({"TestBotAliasSettings"})
"""``ChatBot`` properties that are not part of a published version (the test alias points at DRAFT)."""


def bot_definition(template: Mapping[str, Any]) -> dict[str, Any]:
    """The properties of ``ChatBot`` that a published version captures."""
    try:
        properties = template["Resources"][BOT_ID]["Properties"]
    except KeyError:
        raise TemplateError(f"template has no {BOT_ID} with Properties") from None
    return {key: value for key, value in properties.items() if key not in UNVERSIONED}


def definition_digest(template: Mapping[str, Any]) -> str:
    """A short, stable digest of the bot definition (canonical JSON, SHA-256, 10 hex digits)."""
    canonical = json.dumps(bot_definition(template), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:10]


def expected_version_id(template: Mapping[str, Any]) -> str:
    """The logical id the BotVersion resource must have for the current definition."""
    return f"{VERSION_PREFIX}{definition_digest(template)}"


def version_ids(template: Mapping[str, Any]) -> list[str]:
    """Logical ids of every ``AWS::Lex::BotVersion`` of ``ChatBot``."""
    return [
        name
        for name, res in template["Resources"].items()
        if res.get("Type") == "AWS::Lex::BotVersion" and res.get("Properties", {}).get("BotId") == {"Ref": BOT_ID}
    ]


def refresh(template_path: Path = TEMPLATE_PATH) -> tuple[str, str]:
    """Rename the BotVersion resource (and every reference to it) to the current digest; ``(old, new)`` ids."""
    template = load_template(template_path)
    (current,) = version_ids(template)
    wanted = expected_version_id(template)
    if current != wanted:
        text = Path(template_path).read_text(encoding="utf-8")
        Path(template_path).write_text(re.sub(rf"\b{current}\b", wanted, text), encoding="utf-8")
    return current, wanted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rename the BotVersion resource in template.yaml")
    args = parser.parse_args(argv)
    if args.write:
        old, new = refresh()
        print(f"{old} -> {new}" if old != new else f"{new} is current")
        return 0
    template = load_template()
    (current,) = version_ids(template)
    wanted = expected_version_id(template)
    print(f"{current} is current" if current == wanted else f"stale: {current}, expected {wanted} (run with --write)")
    return 0 if current == wanted else 1


if __name__ == "__main__":
    sys.exit(main())
