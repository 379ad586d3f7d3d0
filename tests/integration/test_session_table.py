"""The table the tests and the local run use is the one template.yaml defines."""

from __future__ import annotations

import pytest

from devtools.template import load_template

pytestmark = pytest.mark.integration


def test_table_is_created_from_the_template(ddb_client, session_table):
    table = ddb_client.describe_table(TableName=session_table)["Table"]
    props = load_template()["Resources"]["SessionTable"]["Properties"]

    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == props["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        props["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_ttl_is_enabled_on_expires_at(ddb_client, session_table):
    ttl = ddb_client.describe_time_to_live(TableName=session_table)["TimeToLiveDescription"]

    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == "expires_at"


def test_items_round_trip_through_the_endpoint_from_the_environment(session_table):
    import boto3

    client = boto3.client("dynamodb")  # region, credentials and endpoint come from the environment only
    client.put_item(TableName=session_table, Item={"pk": {"S": "S#1"}, "sk": {"S": "META"}, "expires_at": {"N": "1"}})

    item = client.get_item(TableName=session_table, Key={"pk": {"S": "S#1"}, "sk": {"S": "META"}})["Item"]
    assert item["expires_at"] == {"N": "1"}
