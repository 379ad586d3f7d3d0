"""Transform a SAM template to CloudFormation with AWS SAM's own translator (run with ``.venv-sam``'s Python).

CloudFormation runs the same translator (``AWS::Serverless-2016-10-31``) with the stack's parameter values; this
runs it locally so tests can see what a deploy would create, e.g. which function version each alias points at.

Usage: ``.venv-sam/bin/python -m devtools.sam_transform < {"template": {...}, "parameters": {...}}`` prints the
CloudFormation template as JSON (no AWS call: managed policy names are not looked up).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from samtranslator.translator.transform import transform


class _NoManagedPolicies:
    """The template names no AWS managed policy, so none needs looking up (no IAM call)."""

    def load(self) -> dict[str, str]:
        return {}


def translate(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The CloudFormation template CloudFormation would deploy for ``template`` with ``parameters``."""
    return transform(template, parameters, _NoManagedPolicies())


def main() -> int:
    request = json.load(sys.stdin)
    json.dump(translate(request["template"], request.get("parameters") or {}), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
