"""One-off backfill of the conversation list for HTTP API sessions written before the list existed.

Such a session enters ``GET /sessions`` (and the reach of ``GET /me/export`` and ``DELETE /me``) the next time a
turn or a rename touches it. This backfill lists every one of them now: it adds the index keys (``ga``: the
channel-scoped actor, ``la``: the head's last update) and a title derived from the session's first user message.

    python -m devtools.backfill_index --table <SessionTable name> [--dry-run]

Credentials, region and endpoint come from the environment as for any boto3 client (``AWS_PROFILE``,
``AWS_REGION``, ``AWS_ENDPOINT_URL_DYNAMODB``). Safe while the API runs and idempotent: each head is updated only
while it still has no index key (a conditional UpdateItem). Cost: one Scan of the table (eventually consistent)
plus, per unlisted session, one Query (its first turn) and one UpdateItem.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from chatstate.store import items, logic

API_TAG = items.CHANNEL_TAGS["api"]


def scope_of(pk: str) -> str | None:
    """The index partition (``actor_scope``) of an HTTP API session's partition key, or ``None``."""
    if not pk.startswith(API_TAG):
        return None
    size, sep, rest = pk[1:].partition(":")
    if not sep or not size.isdigit() or len(rest) < int(size):
        return None
    return items.actor_scope("api", rest[: int(size)])


def unlisted_heads(client: Any, table: str) -> Iterator[dict[str, Any]]:
    """HTTP API session heads without index keys (``pk``, ``u``)."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "sk = :head AND begins_with(pk, :api) AND attribute_not_exists(ga) AND attribute_exists(i)",
        "ExpressionAttributeValues": {":head": {"S": items.HEAD_SK}, ":api": {"S": API_TAG}},
        "ProjectionExpression": "pk, u",
    }
    while True:
        page = client.scan(**kwargs)
        yield from page.get("Items", [])
        if not page.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def first_title(client: Any, table: str, pk: str) -> str | None:
    """A title from the session's oldest stored turn's first user message (one Query)."""
    response = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :t)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":t": {"S": items.TURN_PREFIX}},
        Limit=1,
        ConsistentRead=True,
    )
    for found in response.get("Items", []):
        turn = items.item_to_turn(found)
        text = next((m.content for m in turn.messages if m.role == "user"), None)
        if text:
            return logic.derive_title(text)
    return None


def backfill(client: Any, table: str, *, dry_run: bool = False) -> dict[str, int]:
    """List every unlisted HTTP API session; counts of ``found``, ``listed`` and ``skipped`` (changed meanwhile)."""
    counts = {"found": 0, "listed": 0, "skipped": 0}
    for head in unlisted_heads(client, table):
        pk = head["pk"]["S"]
        scope = scope_of(pk)
        if scope is None or "u" not in head:
            counts["skipped"] += 1
            continue
        counts["found"] += 1
        if dry_run:
            continue
        values: dict[str, Any] = {":g": {"S": scope}, ":u": head["u"]}
        expression = f"SET {items.INDEX_PK} = :g, {items.INDEX_SK} = :u"
        title = first_title(client, table, pk)
        if title:
            expression += ", ti = if_not_exists(ti, :t)"
            values[":t"] = {"S": title}
        try:
            client.update_item(
                TableName=table,
                Key=items.key(pk, items.HEAD_SK),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(i) AND attribute_not_exists({items.INDEX_PK})",
                ExpressionAttributeValues=values,
            )
            counts["listed"] += 1
        except client.exceptions.ConditionalCheckFailedException:
            counts["skipped"] += 1  # deleted or touched by a turn meanwhile: nothing to do
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.backfill_index", description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True, help="the SessionTable's physical name")
    parser.add_argument("--dry-run", action="store_true", help="count the sessions to list, change nothing")
    args = parser.parse_args(argv)
    import boto3

    counts = backfill(boto3.client("dynamodb"), args.table, dry_run=args.dry_run)
    print(", ".join(f"{name}: {value}" for name, value in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
