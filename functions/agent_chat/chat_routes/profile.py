"""``/profile``: the signed-in caller's cross-channel profile (read, merge)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from chat_dependencies import dependencies, logger

from chat_routes.http import actor, body_bytes, json_response
from chatstate.chat.errors import Unauthenticated
from chatstate.chat.payloads import parse_json_body
from chatstate.profile import ProfilePatch, check_subject

router = Router()


def profile_owner() -> str:
    """The caller's ``sub``, checked as a profile key (unusable → 401)."""
    try:
        return check_subject(actor(router))
    except ValueError:
        raise Unauthenticated("the caller's identity is not valid") from None


@router.get("/profile")
def get_profile() -> Response:
    return json_response(200, {"profile": dependencies().profiles.get(profile_owner())})


@router.patch("/profile")
def patch_profile() -> Response:
    caller = profile_owner()
    patch = parse_json_body(ProfilePatch, body_bytes(router))
    merged = dependencies().profiles.merge(caller, patch.changes())
    logger.info("profile merged", extra={"fields": sorted(patch.changes())})
    return json_response(200, {"profile": merged})
