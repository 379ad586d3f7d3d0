"""``chatstate.logsafe``: error log fields describe an error without its text."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import BaseModel, ValidationError

from chatstate.logsafe import INVALID_ID, error_fields, quiet_wire_logs, safe_id


class Form(BaseModel):
    age: int
    tags: dict[str, int]


def test_pydantic_errors_keep_types_and_locations_but_not_the_input():
    with pytest.raises(ValidationError) as raised:
        Form.model_validate({"age": "Ana Lopez", "tags": {"ok": 1, "Ana's secret key": "x"}})
    fields = error_fields(raised.value)
    text = json.dumps(fields)
    assert "Ana" not in text
    assert fields["error_type"] == "ValidationError"
    assert {"type": "int_parsing", "loc": ["age"]} in fields["validation_errors"]
    assert {"type": "int_parsing", "loc": ["tags", "*"]} in fields["validation_errors"]


def test_chained_errors_are_named_not_quoted():
    try:
        try:
            raise KeyError("user typed this")
        except KeyError as inner:
            raise RuntimeError("and this") from inner
    except RuntimeError as exc:
        fields = error_fields(exc)
    assert fields["error_chain"] == ["KeyError"]
    assert "typed" not in json.dumps(fields)
    assert fields["stack"][-1].startswith("test_logsafe.py:")


@pytest.mark.parametrize(
    ("value", "logged"), [("s-1", "s-1"), ("a b", INVALID_ID), ("x" * 129, INVALID_ID), (None, None)]
)
def test_only_id_like_values_are_logged_as_ids(value, logged):
    assert safe_id(value) == logged


def test_wire_logs_are_capped_at_info():
    wire = logging.getLogger("botocore")
    old = wire.level
    wire.setLevel(logging.DEBUG)
    try:
        quiet_wire_logs()
        assert not wire.isEnabledFor(logging.DEBUG)
    finally:
        wire.setLevel(old)


def test_every_dynamodb_client_the_layer_builds_keeps_wire_logs_out(fake_aws_env):
    import logging

    from chatstate.profile import DynamoDBProfileStore

    wire = logging.getLogger("botocore")
    wire.setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        assert DynamoDBProfileStore("t-wire").client is not None  # its own client: no session store built it
        assert wire.level == logging.INFO
    finally:
        logging.getLogger().setLevel(logging.WARNING)
