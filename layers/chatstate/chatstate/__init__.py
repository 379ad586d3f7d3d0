"""chatstate: typed, validated, durable session state for chatbots on AWS.

Importing the package is cheap: submodules (pydantic models, the DynamoDB adapter, Lex helpers)
are imported on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"
