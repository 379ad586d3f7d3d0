"""template.yaml checks that cfn-lint cannot make: Lex cross-references, least privilege, wiring to the code."""

from __future__ import annotations

import copy
import os
import re
import subprocess
from typing import Any

import chat_app
import pytest

from devtools import bot_version
from devtools.template import (
    REPO_ROOT,
    Resolver,
    function_spec,
    load_template,
    session_table_spec,
    ttl_specification,
)

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
# Locales Lex V2 supports (Amazon Lex V2 developer guide, "Supported languages and locales").
LEX_LOCALES = {
    "ar_AE", "ca_ES", "de_AT", "de_CH", "de_DE", "en_AU", "en_GB", "en_IE", "en_IN", "en_NZ", "en_US", "en_ZA",
    "es_419", "es_ES", "es_US", "fi_FI", "fr_CA", "fr_FR", "hi_IN", "it_IT", "ja_JP", "ko_KR", "nl_NL", "no_NO",
    "pl_PL", "pt_BR", "pt_PT", "sv_SE", "yue_HK", "zh_CN",
}  # fmt: skip
PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\}")
FUNCTIONS = ("LexFulfillmentFunction", "AgentChatFunction", "StrandsAgentFunction")


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
            # The function's alias `live` (published versions: what SnapStart applies to), not $LATEST.
            assert hook == {"CodeHookInterfaceVersion": "1.0", "LambdaArn": {"Ref": "LexFulfillmentFunction.Alias"}}


def test_alias_uses_the_published_version_and_lex_may_invoke_only_through_the_bot():
    alias = RESOURCES["ChatBotAlias"]["Properties"]
    (version_id,) = bot_version.version_ids(TEMPLATE)
    assert alias["BotVersion"] == {"Fn::GetAtt": [version_id, "BotVersion"]}
    permissions = of_type("AWS::Lambda::Permission")
    assert permissions
    for permission in permissions.values():
        props = permission["Properties"]
        assert props["Principal"] == "lexv2.amazonaws.com"
        assert "SourceArn" in props
        assert props["FunctionName"] == {"Ref": "LexFulfillmentFunction.Alias"}
    assert any(p["Properties"]["SourceArn"] == {"Fn::GetAtt": ["ChatBotAlias", "Arn"]} for p in permissions.values())


# --- bot versions: every definition change reaches the live alias ------------------------------------------------


def test_the_bot_version_resource_is_named_after_the_current_bot_definition():
    """AWS::Lex::BotVersion has no update handler: only a new logical id publishes a new version."""
    (version_id,) = bot_version.version_ids(TEMPLATE)
    expected = bot_version.expected_version_id(TEMPLATE)
    assert version_id == expected, (
        f"ChatBot's definition changed but its version resource is still {version_id}: `sam deploy` would leave the "
        f"live alias on the old version. Run `.venv/bin/python -m devtools.bot_version --write` (→ {expected})."
    )
    assert RESOURCES[version_id]["Properties"]["BotVersionLocaleSpecification"] == [
        {"LocaleId": loc["LocaleId"], "BotVersionLocaleDetails": {"SourceBotVersion": "DRAFT"}} for loc in bot_locales()
    ]


@pytest.mark.parametrize(
    "edit",
    [
        lambda bot: bot["BotLocales"][0]["Intents"][0]["SampleUtterances"].append({"Utterance": "howdy"}),
        lambda bot: bot["BotLocales"][0].update(NluConfidenceThreshold=0.5),
        lambda bot: bot.update(IdleSessionTTLInSeconds=600),
        lambda bot: bot["BotLocales"][0]["SlotTypes"][0]["SlotTypeValues"].pop(),
    ],
    ids=["utterance", "nlu-threshold", "idle-ttl", "slot-value"],
)
def test_any_bot_definition_change_renames_the_version(edit):
    changed = copy.deepcopy(TEMPLATE)
    edit(changed["Resources"]["ChatBot"]["Properties"])
    assert bot_version.expected_version_id(changed) != bot_version.expected_version_id(TEMPLATE)


def test_test_alias_settings_do_not_force_a_new_version():
    changed = copy.deepcopy(TEMPLATE)
    changed["Resources"]["ChatBot"]["Properties"]["TestBotAliasSettings"]["Description"] = "x"
    assert bot_version.expected_version_id(changed) == bot_version.expected_version_id(TEMPLATE)


def test_the_bot_definition_depends_on_no_parameter():
    """A parameter-driven change would alter DRAFT without renaming the version resource."""
    parameters = set(TEMPLATE["Parameters"])
    refs = re.findall(r"'Ref': '([^']+)'", str(bot_version.bot_definition(TEMPLATE)))
    subs = re.findall(r"\$\{([^}.!]+)\}", str(bot_version.bot_definition(TEMPLATE)))
    assert not (set(refs) | set(subs)) & parameters


def test_refresh_renames_the_version_and_its_references(tmp_path):
    path = tmp_path / "template.yaml"
    text = (REPO_ROOT / "template.yaml").read_text()
    path.write_text(text.replace("- Utterance: hey\n", "- Utterance: hey\n                - Utterance: yo\n", 1))
    old, new = bot_version.refresh(path)
    assert old != new
    refreshed = load_template(path)
    assert bot_version.version_ids(refreshed) == [new] == [bot_version.expected_version_id(refreshed)]
    assert refreshed["Resources"]["ChatBotAlias"]["Properties"]["BotVersion"] == {"Fn::GetAtt": [new, "BotVersion"]}


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


def test_the_conversation_list_index_is_sparse_keyed_by_actor_and_activity_with_a_small_projection():
    from chatstate.store import items

    spec = session_table_spec()
    (index,) = spec["GlobalSecondaryIndexes"]
    assert index["IndexName"] == items.INDEX_NAME
    assert index["KeySchema"] == [
        {"AttributeName": items.INDEX_PK, "KeyType": "HASH"},
        {"AttributeName": items.INDEX_SK, "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["ti", "c", "m", "expires_at"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in spec["AttributeDefinitions"]}
    assert types == {"pk": "S", "sk": "S", items.INDEX_PK: "S", items.INDEX_SK: "N"}


GRANTED_DYNAMODB_ACTIONS = {
    # What each function's code calls (tests/unit/test_iam_actions.py records it on moto and compares).
    "LexFulfillmentFunction": {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
    "AgentChatFunction": {
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:UpdateItem",
    },
    "StrandsAgentFunction": {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"},
}


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_dynamodb_access_is_explicit_and_scoped_to_the_table(function_id):
    dynamo = [s for s in statements(function_id) if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
    assert dynamo, "the function needs table access"
    for statement in dynamo:
        actions = as_list(statement["Action"])
        assert not any("*" in action for action in actions)
        table = [{"Fn::GetAtt": ["SessionTable", "Arn"]}]
        index = [{"Fn::Sub": "${SessionTable.Arn}/index/by-activity"}]  # the conversation list: Query only
        assert as_list(statement["Resource"]) == table or (
            as_list(statement["Resource"]) == index and actions == ["dynamodb:Query"]
        )
    actions = {a for s in dynamo for a in as_list(s["Action"])}
    assert actions == GRANTED_DYNAMODB_ACTIONS[function_id]


def test_no_statement_grants_wildcard_actions():
    for function_id in FUNCTIONS:
        for statement in statements(function_id):
            assert all(not action.endswith(":*") and action != "*" for action in as_list(statement["Action"]))


def test_no_tracing_so_no_xray_write_policy():
    """SAM attaches AWSXrayWriteOnlyAccess for any Tracing setting; nothing here emits traces."""
    assert "Tracing" not in TEMPLATE["Globals"]["Function"]
    assert all("Tracing" not in RESOURCES[f]["Properties"] for f in FUNCTIONS)
    assert "Tracing" not in str(TEMPLATE["Globals"].get("Api", "")) + str(RESOURCES["ChatApi"]["Properties"])


# --- Bedrock: each accepted model id form gets exactly the grant Converse needs ----------------------------------

BEDROCK_PATTERN = re.compile(TEMPLATE["Parameters"]["BedrockModelId"]["AllowedPattern"])
FOUNDATION = "anthropic.claude-3-5-haiku-20241022-v1:0"


BEDROCK_POLICY_ARN = "arn:aws:iam::123456789012:policy/bedrock-converse"


def bedrock_statements(model_id: str, function: str = "AgentChatFunction") -> list[dict[str, Any]]:
    """A function's Bedrock statements as CloudFormation would resolve them for ``model_id``."""
    resolver = Resolver(
        TEMPLATE,
        refs={
            "SessionTable.Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/t",
            "BedrockConversePolicy": BEDROCK_POLICY_ARN,
        },
        parameter_overrides={"BedrockModelId": model_id},
    )
    statements = []
    for policy in resolver.resolve(RESOURCES[function]["Properties"]["Policies"]):
        if policy == BEDROCK_POLICY_ARN:
            assert resolver.condition(RESOURCES["BedrockConversePolicy"]["Condition"])
            document = resolver.resolve(RESOURCES["BedrockConversePolicy"]["Properties"]["PolicyDocument"])
            statements += document["Statement"]
        elif isinstance(policy, dict):
            statements += policy["Statement"]
    found = [s for s in statements if any("bedrock" in a for a in as_list(s["Action"]))]
    assert all(as_list(s["Action"]) == ["bedrock:InvokeModel"] for s in found)
    return found


def test_every_function_gets_the_same_bedrock_grant():
    for model_id in ("", FOUNDATION, f"us.{FOUNDATION}"):
        assert bedrock_statements(model_id, "LexFulfillmentFunction") == bedrock_statements(model_id)
        assert bedrock_statements(model_id, "StrandsAgentFunction") == bedrock_statements(model_id)


@pytest.mark.parametrize(
    "model_id",
    [FOUNDATION, "amazon.nova-lite-v1:0", "us.anthropic.claude-3-5-haiku-20241022-v1:0",
     "global.amazon.nova-2-lite-v1:0", "eu.meta.llama3-2-3b-instruct-v1:0", "apac.amazon.nova-micro-v1:0",
     "us-gov.anthropic.claude-3-haiku-20240307-v1:0", ""],
)  # fmt: skip
def test_bedrock_model_id_pattern_accepts_model_and_profile_ids(model_id):
    assert BEDROCK_PATTERN.fullmatch(model_id)


@pytest.mark.parametrize(
    "model_id",
    ["arn:aws:bedrock:us-east-1::foundation-model/x.y", "claude", "xx.anthropic.claude-v1:0",
     "anthropic.claude v1", "us.anthropic.claude.extra-v1:0"],
)  # fmt: skip
def test_bedrock_model_id_pattern_rejects_what_the_grant_cannot_cover(model_id):
    assert not BEDROCK_PATTERN.fullmatch(model_id)


def test_no_bedrock_grant_without_a_model():
    assert bedrock_statements("") == []


def test_a_foundation_model_id_gets_its_regional_model_arn_only():
    (statement,) = bedrock_statements(FOUNDATION)
    assert statement["Resource"] == f"arn:aws:bedrock:us-east-1::foundation-model/{FOUNDATION}"
    assert "Condition" not in statement


@pytest.mark.parametrize("prefix", ["us", "eu", "apac", "jp", "au", "ca", "us-gov", "global"])
def test_an_inference_profile_id_gets_the_profile_and_its_models_only_through_it(prefix):
    profile_id = f"{prefix}.{FOUNDATION}"
    profile_arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{profile_id}"
    profile, models = bedrock_statements(profile_id)
    assert profile["Resource"] == profile_arn
    # Destination Regions of a geographic profile, and the region-less ARN global profiles are authorised against.
    assert models["Resource"] == [
        f"arn:aws:bedrock:*::foundation-model/{FOUNDATION}",
        f"arn:aws:bedrock:::foundation-model/{FOUNDATION}",
    ]
    assert models["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}}


@pytest.mark.parametrize(
    ("model_id", "is_profile"),
    [
        (FOUNDATION, False),
        (f"us.{FOUNDATION}", True),
        (f"global.{FOUNDATION}", True),
        ("amazon.titan-text-lite-v1", False),
    ],
)
def test_the_profile_condition_tells_the_two_forms_apart(model_id, is_profile):
    resolver = Resolver(TEMPLATE, parameter_overrides={"BedrockModelId": model_id})
    assert resolver.condition("BedrockInferenceProfile") is is_profile
    assert resolver.condition("BedrockFoundationModel") is not is_profile


def test_chat_timeout_fits_a_model_reply_within_api_gateways_30_s():
    chat = function_spec("AgentChatFunction")
    assert 20 <= chat.timeout_s <= 29
    assert function_spec("LexFulfillmentFunction").timeout_s <= 29


# --- data, identity and hardening --------------------------------------------------------------------------------


@pytest.mark.parametrize("resource_id", ["SessionTable", "UserPool"])
def test_data_and_identities_survive_stack_deletion_and_replacement(resource_id):
    res = RESOURCES[resource_id]
    assert res["DeletionPolicy"] == "RetainExceptOnCreate"
    assert res["UpdateReplacePolicy"] == "Retain"


def test_deletion_protection_follows_protect_data():
    assert RESOURCES["SessionTable"]["Properties"]["DeletionProtectionEnabled"] == {
        "Fn::If": ["ProtectDataOn", True, False]
    }
    assert RESOURCES["UserPool"]["Properties"]["DeletionProtection"] == {
        "Fn::If": ["ProtectDataOn", "ACTIVE", "INACTIVE"]
    }


def test_cors_is_off_unless_an_origin_is_given():
    assert TEMPLATE["Parameters"]["CorsAllowedOrigin"]["Default"] == ""
    cors = RESOURCES["ChatApi"]["Properties"]["CorsConfiguration"]["Fn::If"]
    assert cors[0] == "HasCorsOrigin"
    assert cors[2] == {"Ref": "AWS::NoValue"}
    assert cors[1]["AllowOrigins"] == [{"Ref": "CorsAllowedOrigin"}]
    assert {"authorization", "content-type", "idempotency-key"} <= set(cors[1]["AllowHeaders"])


def test_reserved_concurrency_and_alarm_topic_are_optional():
    assert TEMPLATE["Parameters"]["ReservedConcurrency"]["Default"] == -1
    assert TEMPLATE["Globals"]["Function"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    alarms = of_type("AWS::CloudWatch::Alarm")
    assert set(alarms) == {"LexFulfillmentErrorsAlarm", "AgentChatErrorsAlarm", "StrandsAgentErrorsAlarm"}
    for alarm in alarms.values():
        for key in ("AlarmActions", "OKActions"):
            assert alarm["Properties"][key] == {
                "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
            }


def test_snapstart_is_opt_in_and_functions_publish_versions():
    assert TEMPLATE["Parameters"]["SnapStart"]["Default"] == "false"
    globals_fn = TEMPLATE["Globals"]["Function"]
    assert globals_fn["AutoPublishAlias"] == "live"
    assert globals_fn["SnapStart"] == {"ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}}


# --- architecture: one source of truth ----------------------------------------------------------------------------

ANCHOR = re.compile(r"&architecture\s+([a-z0-9_]+)")


def test_the_architecture_is_defined_once_and_is_no_parameter():
    text = (REPO_ROOT / "template.yaml").read_text()
    (arch,) = ANCHOR.findall(text)
    assert arch in ("arm64", "x86_64")
    assert "Architecture" not in TEMPLATE["Parameters"]
    assert TEMPLATE["Globals"]["Function"]["Architectures"] == [arch]
    layer = RESOURCES["SessionLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": arch}
    assert layer["Properties"]["CompatibleArchitectures"] == [arch]
    assert all("Architectures" not in RESOURCES[f]["Properties"] for f in FUNCTIONS)
    assert (REPO_ROOT / layer["Properties"]["ContentUri"] / "Makefile").is_file()


def test_the_layer_makefile_builds_for_the_template_architecture_whatever_the_environment(tmp_path):
    """`make -n` (what `sam build` runs, dry): the wheels' platform follows the anchor; LAYER_ARCH in the env can't."""
    (arch,) = ANCHOR.findall((REPO_ROOT / "template.yaml").read_text())
    platform = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}[arch]
    for stale in ("", "x86_64", "arm64"):
        env = {"PATH": os.environ["PATH"], "LAYER_ARCH": stale}
        dry_run = subprocess.run(
            ["make", "-n", "-f", "layers/chatstate/Makefile", "build-SessionLayer", f"ARTIFACTS_DIR={tmp_path}"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"--platform {platform} " in dry_run


def test_samconfig_overrides_only_declared_parameters():
    from devtools.deploy_check import deploy_targets

    targets = deploy_targets(REPO_ROOT / "samconfig.toml")
    assert {t.config_env for t in targets} == {"default", "prod"}
    for target in targets:
        assert set(target.overrides) <= set(TEMPLATE["Parameters"]), target.config_env


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
    assert all(value == "" for name, value in env.items() if "ENDPOINT" in name)


def test_local_endpoint_is_empty_unless_asked_for():
    """A plain Ref (no Fn::If): SAM CLI resolves it for `sam local`; empty means unset to botocore."""
    assert function_spec("LexFulfillmentFunction").environment["AWS_ENDPOINT_URL_DYNAMODB"] == ""
    local = function_spec("LexFulfillmentFunction", parameter_overrides={"LocalDynamoDBEndpoint": "http://h:8000"})
    assert local.environment["AWS_ENDPOINT_URL_DYNAMODB"] == "http://h:8000"
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["AWS_ENDPOINT_URL_DYNAMODB"] == {
        "Ref": "LocalDynamoDBEndpoint"
    }


def test_chat_function_environment_and_routes():
    spec = function_spec("AgentChatFunction")
    assert {"BEDROCK_MODEL_ID": "", "CHAT_HISTORY_TURNS": "5"}.items() <= spec.environment.items()
    assert "CHAT_SYSTEM_PROMPT" in spec.environment
    assert {route.route_key for route in spec.http_routes} == chat_app.routes()  # declared once: the resolver
    assert {"GET /sessions", "PATCH /sessions/{session_id}", "GET /me/export", "DELETE /me"} <= chat_app.routes()
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


def test_the_strands_sdk_is_the_strands_functions_own_dependency():
    spec = function_spec("StrandsAgentFunction")
    own = (spec.handler_file.parent / "requirements.txt").read_text().lower()
    layer = (REPO_ROOT / "layers/chatstate/requirements.txt").read_text().lower()
    assert re.search(r"^strands-agents==", own, re.MULTILINE)
    assert "strands" not in layer
    assert spec.environment["BEDROCK_MODEL_ID"] == ""
    assert "Events" not in RESOURCES["StrandsAgentFunction"]["Properties"]  # direct invoke only
