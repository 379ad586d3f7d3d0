"""template.yaml checks that cfn-lint cannot make: Lex cross-references, least privilege, wiring to the code."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devtools.template import REPO_ROOT, function_spec, load_template, session_table_spec, ttl_specification

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
# Locales Lex V2 supports (Amazon Lex V2 developer guide, "Supported languages and locales").
LEX_LOCALES = {
    "ar_AE", "ca_ES", "de_AT", "de_CH", "de_DE", "en_AU", "en_GB", "en_IE", "en_IN", "en_NZ", "en_US", "en_ZA",
    "es_419", "es_ES", "es_US", "fi_FI", "fr_CA", "fr_FR", "hi_IN", "it_IT", "ja_JP", "ko_KR", "nl_NL", "no_NO",
    "pl_PL", "pt_BR", "pt_PT", "sv_SE", "yue_HK", "zh_CN",
}  # fmt: skip
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\}")
FUNCTIONS = ("LexFulfillmentFunction", "AgentChatFunction")


def of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in RESOURCES.items() if res["Type"] == resource_type}


def bot_locales() -> list[dict[str, Any]]:
    return RESOURCES["ChatBot"]["Properties"]["BotLocales"]


def locale(locale_id: str) -> dict[str, Any]:
    return next(loc for loc in bot_locales() if loc["LocaleId"] == locale_id)


def intents() -> list[tuple[str, dict[str, Any]]]:
    return [(loc["LocaleId"], intent) for loc in bot_locales() for intent in loc["Intents"]]


def texts_in(node: Any) -> list[str]:
    """Every PlainTextMessage / Utterance string below ``node``."""
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in ("Value", "Utterance") and isinstance(v, str)]
        return found + [t for k, v in node.items() if k not in ("Value", "Utterance") for t in texts_in(v)]
    if isinstance(node, list):
        return [t for item in node for t in texts_in(item)]
    return []


def statements(function_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in RESOURCES[function_id]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        if isinstance(policy, dict):
            found += policy.get("Statement", [])
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- Lex bot -----------------------------------------------------------------------------------------------------


def test_the_bot_has_the_intents_the_function_handles():
    assert {intent["Name"] for _, intent in intents()} == {
        "Greeting",
        "BookFlight",
        "UpdatePreferences",
        "FallbackIntent",
    }
    fallback = next(i for _, i in intents() if i["Name"] == "FallbackIntent")
    assert fallback["ParentIntentSignature"] == "AMAZON.FallbackIntent"


def test_locale_ids_are_lex_v2_locales():
    assert [loc["LocaleId"] for loc in bot_locales()] == ["en_US"]
    assert all(loc["LocaleId"] in LEX_LOCALES for loc in bot_locales())


@pytest.mark.parametrize(("locale_id", "intent"), intents(), ids=lambda v: v if isinstance(v, str) else v["Name"])
def test_every_slot_type_is_builtin_or_defined_in_the_same_locale(locale_id, intent):
    defined = {slot_type["Name"] for slot_type in locale(locale_id).get("SlotTypes", [])}
    for slot in intent.get("Slots", []):
        type_name = slot["SlotTypeName"]
        assert type_name.startswith("AMAZON.") or type_name in defined, f"{intent['Name']}.{slot['Name']}"


@pytest.mark.parametrize(("locale_id", "intent"), intents(), ids=lambda v: v if isinstance(v, str) else v["Name"])
def test_every_placeholder_names_a_slot_of_its_intent(locale_id, intent):
    slots = {slot["Name"] for slot in intent.get("Slots", [])}
    for text in texts_in(intent):
        for name in PLACEHOLDER.findall(text):
            assert name in slots, f"{locale_id}/{intent['Name']}: {{{name}}} in {text!r}"


@pytest.mark.parametrize(("locale_id", "intent"), intents(), ids=lambda v: v if isinstance(v, str) else v["Name"])
def test_slot_priorities_cover_exactly_the_slots(locale_id, intent):
    slots = sorted(slot["Name"] for slot in intent.get("Slots", []))
    priorities = intent.get("SlotPriorities", [])
    assert sorted(p["SlotName"] for p in priorities) == slots
    assert sorted(p["Priority"] for p in priorities) == list(range(1, len(slots) + 1))


@pytest.mark.parametrize(("locale_id", "intent"), intents(), ids=lambda v: v if isinstance(v, str) else v["Name"])
def test_code_hooks_are_enabled(locale_id, intent):
    assert intent["FulfillmentCodeHook"]["Enabled"] is True
    if intent.get("ParentIntentSignature") != "AMAZON.FallbackIntent":
        assert intent["DialogCodeHook"]["Enabled"] is True


def test_book_flight_slots_use_the_documented_types():
    book = next(i for _, i in intents() if i["Name"] == "BookFlight")
    assert {s["Name"]: s["SlotTypeName"] for s in book["Slots"]} == {
        "DepartureCity": "AMAZON.City",
        "ArrivalCity": "AMAZON.City",
        "DepartureDate": "AMAZON.Date",
    }


def test_language_slot_type_lets_the_function_see_unsupported_values():
    (language_type,) = locale("en_US")["SlotTypes"]
    assert sorted(v["SampleValue"]["Value"] for v in language_type["SlotTypeValues"]) == ["de", "en", "es", "fr", "it"]
    # ORIGINAL_VALUE: an unknown language reaches the dialog hook, which answers "unsupported".
    assert language_type["ValueSelectionSetting"]["ResolutionStrategy"] == "ORIGINAL_VALUE"


def test_alias_locales_exist_in_the_bot_and_hook_the_lex_function():
    locales = {loc["LocaleId"] for loc in bot_locales()}
    aliases = {"ChatBotAlias": RESOURCES["ChatBotAlias"]["Properties"]}
    aliases["test alias"] = RESOURCES["ChatBot"]["Properties"]["TestBotAliasSettings"]
    for name, alias in aliases.items():
        for setting in alias["BotAliasLocaleSettings"]:
            assert setting["LocaleId"] in locales, name
            hook = setting["BotAliasLocaleSetting"]["CodeHookSpecification"]["LambdaCodeHook"]
            assert hook == {
                "CodeHookInterfaceVersion": "1.0",
                "LambdaArn": {"Fn::GetAtt": ["LexFulfillmentFunction", "Arn"]},
            }


def test_alias_uses_the_published_version_and_lex_may_invoke_only_through_the_bot():
    alias = RESOURCES["ChatBotAlias"]["Properties"]
    assert alias["BotVersion"] == {"Fn::GetAtt": ["ChatBotVersion", "BotVersion"]}
    permissions = of_type("AWS::Lambda::Permission")
    assert permissions
    for permission in permissions.values():
        props = permission["Properties"]
        assert props["Principal"] == "lexv2.amazonaws.com"
        assert "SourceArn" in props
    assert any(p["Properties"]["SourceArn"] == {"Fn::GetAtt": ["ChatBotAlias", "Arn"]} for p in permissions.values())


# --- table, IAM, layer -------------------------------------------------------------------------------------------


def test_ttl_attribute_is_expires_at():
    assert ttl_specification() == {"AttributeName": "expires_at", "Enabled": True}


def test_table_key_schema_is_pk_sk_on_demand():
    spec = session_table_spec()
    assert spec["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert spec["BillingMode"] == "PAY_PER_REQUEST"


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_dynamodb_access_is_explicit_and_scoped_to_the_table(function_id):
    dynamo = [s for s in statements(function_id) if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
    assert dynamo, "the function needs table access"
    for statement in dynamo:
        actions = as_list(statement["Action"])
        assert not any("*" in action for action in actions)
        assert as_list(statement["Resource"]) == [{"Fn::GetAtt": ["SessionTable", "Arn"]}]
    actions = {a for s in dynamo for a in as_list(s["Action"])}
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= actions
    assert "dynamodb:Scan" not in actions


def test_no_statement_grants_wildcard_actions():
    for function_id in FUNCTIONS:
        for statement in statements(function_id):
            assert all(not action.endswith(":*") and action != "*" for action in as_list(statement["Action"]))


def test_bedrock_access_exists_only_with_a_model_id():
    policies = RESOURCES["AgentChatFunction"]["Properties"]["Policies"]
    conditional = [p for p in policies if isinstance(p, dict) and "Fn::If" in p]
    assert [p["Fn::If"][0] for p in conditional] == ["HasBedrockModel"]
    (statement,) = conditional[0]["Fn::If"][1]["Statement"]
    assert statement["Action"] == "bedrock:InvokeModel"
    assert "foundation-model/${BedrockModelId}" in statement["Resource"]["Fn::Sub"]
    assert all("bedrock" not in str(p) for p in policies if p not in conditional)


def test_layer_build_architecture_follows_the_architecture_parameter():
    layer = RESOURCES["SessionLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == {"Ref": "Architecture"}
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]
    assert TEMPLATE["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    assert (REPO_ROOT / layer["Properties"]["ContentUri"] / "Makefile").is_file()


def test_makefile_default_platform_matches_the_template_default():
    makefile = (REPO_ROOT / "layers/chatstate/Makefile").read_text()
    default_arch = TEMPLATE["Parameters"]["Architecture"]["Default"]
    assert f"LAYER_ARCH ?= {default_arch}" in makefile


def test_layer_requirements_leave_boto3_to_the_runtime():
    requirements = (REPO_ROOT / "layers/chatstate/requirements.txt").read_text().lower()
    names = {re.split(r"[=<>\[;\s]", line.strip())[0] for line in requirements.splitlines() if line.strip()}
    assert not names & {"boto3", "botocore"}


# --- functions ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_handler_file_exists_at_code_uri(function_id):
    spec = function_spec(function_id)
    if not spec.handler_file.is_file():
        pytest.fail(f"{function_id}: Handler points at {spec.handler_file.relative_to(REPO_ROOT)}, which is missing")
    source = spec.handler_file.read_text()
    assert re.search(rf"^(def {spec.handler_function}\(|{spec.handler_function}\s*=)", source, re.MULTILINE)
    assert spec.layer_dirs == (REPO_ROOT / "layers/chatstate",)
    assert (spec.layer_dirs[0] / "chatstate" / "__init__.py").is_file()


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_functions_get_the_documented_environment(function_id):
    env = function_spec(function_id, table_name="t1").environment
    assert env["SESSION_TABLE_NAME"] == "t1"
    assert int(env["SESSION_TTL_SECONDS"]) >= 60
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"} <= env.keys()
    assert not any(name.endswith("ENDPOINT") or "ENDPOINT_URL" in name for name in env)


def test_local_endpoint_variable_exists_only_when_asked_for():
    assert "AWS_ENDPOINT_URL_DYNAMODB" not in function_spec("LexFulfillmentFunction").environment
    local = function_spec("LexFulfillmentFunction", parameter_overrides={"LocalDynamoDBEndpoint": "http://h:8000"})
    assert local.environment["AWS_ENDPOINT_URL_DYNAMODB"] == "http://h:8000"


def test_chat_function_environment_and_routes():
    spec = function_spec("AgentChatFunction")
    assert {"BEDROCK_MODEL_ID": "", "CHAT_HISTORY_TURNS": "10"}.items() <= spec.environment.items()
    assert "CHAT_SYSTEM_PROMPT" in spec.environment
    assert {route.route_key for route in spec.http_routes} == {
        "POST /sessions",
        "POST /sessions/{session_id}/messages",
        "GET /sessions/{session_id}",
        "GET /sessions/{session_id}/messages",
        "DELETE /sessions/{session_id}",
        "GET /profile",
        "PATCH /profile",
    }
    events = RESOURCES["AgentChatFunction"]["Properties"]["Events"].values()
    assert all(e["Properties"]["PayloadFormatVersion"] == "2.0" for e in events)
    assert all(e["Properties"]["ApiId"] == {"Ref": "ChatApi"} for e in events)


def test_lex_function_verifies_tokens_of_the_chat_api_pool():
    env = function_spec("LexFulfillmentFunction").environment
    authorizer = RESOURCES["ChatApi"]["Properties"]["Auth"]["Authorizers"]["JwtAuthorizer"]["JwtConfiguration"]
    lex_env = RESOURCES["LexFulfillmentFunction"]["Properties"]["Environment"]["Variables"]
    assert lex_env["TOKEN_ISSUER"] == authorizer["issuer"]
    assert lex_env["TOKEN_AUDIENCE"] == authorizer["audience"][0]
    assert env["TOKEN_ISSUER"] == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_LocalPool"
    assert {"BEDROCK_MODEL_ID", "CHAT_HISTORY_TURNS", "CHAT_SYSTEM_PROMPT"} <= env.keys()


def test_chat_api_requires_a_jwt_by_default():
    auth = RESOURCES["ChatApi"]["Properties"]["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert authorizer["IdentitySource"] == "$request.header.Authorization"
    assert {"issuer", "audience"} <= authorizer["JwtConfiguration"].keys()
    assert RESOURCES["UserPool"]["Condition"] == "CreateUserPool"


def test_outputs_cover_what_clients_and_tests_need():
    assert {
        "ChatApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "ChatBotId",
        "ChatBotAliasId",
        "SessionTableName",
    } <= TEMPLATE["Outputs"].keys()
