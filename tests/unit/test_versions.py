"""Every deploy that changes what a function runs moves `live` to a new version; a deploy that changes nothing does not.

The template is transformed as CloudFormation does on `sam deploy`: packaged (code and layer at S3 keys named after
their content, as `sam package` uploads them) and translated by AWS SAM's own translator (`.venv-sam`) with the
deploy's parameter values, each function's ConfigDigest computed by the deploy path (devtools.deploy).
CloudFormation then creates a new AWS::Lambda::Version when the alias's version resource has a new logical id, or
keeps its logical id but changes a property whose update requires replacement (its Description); either publishes
a new version for `live`.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from typing import Any

import pytest

from devtools import deploy
from devtools.template import REPO_ROOT, Resolver, load_template

SAM_PYTHON = REPO_ROOT / ".venv-sam" / "bin" / "python"
FUNCTIONS = ("LexFulfillmentFunction", "AgentChatFunction")
SAMCONFIG_DEFAULT = deploy.samconfig_overrides(REPO_ROOT / "samconfig.toml", "default")


def packaged(*, layer: str = "layer-v1", code: str = "code-v1", chat_timeout: int | None = None) -> dict[str, Any]:
    """template.yaml as `sam deploy` hands it to CloudFormation: artifacts at content-addressed S3 keys."""
    template = copy.deepcopy(load_template())
    if chat_timeout is not None:
        template["Resources"]["AgentChatFunction"]["Properties"]["Timeout"] = chat_timeout
    for name, res in template["Resources"].items():
        props = res.get("Properties") or {}
        if "CodeUri" in props:
            props["CodeUri"] = f"s3://deploy-artifacts/{name}-{code}.zip"
        if "ContentUri" in props:
            props["ContentUri"] = f"s3://deploy-artifacts/{name}-{layer}.zip"
    return template


def translate(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    assert SAM_PYTHON.exists(), "needs .venv-sam (scripts/bootstrap.sh creates it): AWS SAM's translator lives there"
    result = subprocess.run(
        [str(SAM_PYTHON), "-m", "devtools.sam_transform"],
        input=json.dumps({"template": template, "parameters": parameters}),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def deployed(overrides: dict[str, str], **artifacts: Any) -> dict[str, tuple[str, str]]:
    """``{function: (version logical id, version description)}`` of each function's `live` alias after a deploy."""
    source = packaged(**artifacts)
    values = deploy.effective_parameters(source, SAMCONFIG_DEFAULT, overrides)
    values.update(deploy.config_digests(source, values))
    parameters = {name: value for name, value in values.items() if name in source["Parameters"]}
    resources = translate(source, parameters)["Resources"]
    resolver = Resolver({"Parameters": source["Parameters"]}, parameter_overrides=parameters)
    found = {}
    for function in FUNCTIONS:
        (alias,) = (
            res
            for res in resources.values()
            if res["Type"] == "AWS::Lambda::Alias" and res["Properties"]["FunctionName"] == {"Ref": function}
        )
        assert alias["Properties"]["Name"] == "live"
        version_id = alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        version = resources[version_id]
        assert version["Type"] == "AWS::Lambda::Version"
        assert version["DeletionPolicy"] == "Retain"  # a renamed version is kept (SAM's default)
        found[function] = (version_id, resolver.resolve(version["Properties"]["Description"]))
    return found


@pytest.fixture(scope="module")
def baseline() -> dict[str, tuple[str, str]]:
    return deployed({})


def test_a_deploy_that_changes_nothing_keeps_every_version(baseline):
    assert deployed({}) == baseline


def test_a_layer_only_change_moves_live_to_a_new_version_of_every_function(baseline):
    after = deployed({}, layer="layer-v2")
    for function in FUNCTIONS:
        assert after[function][0] != baseline[function][0], function  # a new Version resource: a new version


def test_a_template_setting_change_moves_only_that_functions_live(baseline):
    after = deployed({}, chat_timeout=20)
    assert after["AgentChatFunction"][0] != baseline["AgentChatFunction"][0]
    assert after["LexFulfillmentFunction"] == baseline["LexFulfillmentFunction"]


def test_a_code_only_change_moves_live(baseline):
    after = deployed({}, code="code-v2")
    assert all(after[f][0] != baseline[f][0] for f in FUNCTIONS)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LogLevel", "INFO"),
        ("BedrockModelId", "us.anthropic.claude-3-5-haiku-20241022-v1:0"),
        ("ChatSystemPrompt", "Answer in one sentence."),
        ("SessionTtlSeconds", "3600"),
        ("SnapStart", "true"),
    ],
)
def test_a_parameter_only_change_moves_live_to_a_new_version(baseline, name, value):
    after = deployed({name: value})
    for function in FUNCTIONS:
        logical_id, description = after[function]
        # Same logical id (SAM's hash sees only `{"Ref": name}`), but a new Description: CloudFormation replaces
        # the Version resource (Description requires replacement), which publishes the new configuration.
        assert (logical_id, description) != baseline[function], function
    values = deploy.effective_parameters(packaged(), SAMCONFIG_DEFAULT, {name: value})
    for function in FUNCTIONS:
        assert after[function][1] == f"configuration {deploy.config_digest(packaged(), values, function)}"


def test_an_identity_provider_change_moves_only_the_lex_functions_live(baseline):
    after = deployed({"JwtIssuer": "https://login.example.com/tenant-1/", "JwtAudience": "api://chat"})
    assert after["LexFulfillmentFunction"] != baseline["LexFulfillmentFunction"]
    assert after["AgentChatFunction"] == baseline["AgentChatFunction"]


def test_a_change_no_version_runs_with_keeps_every_version(baseline):
    assert deployed({"LogRetentionDays": "90", "ProtectData": "true", "ReservedConcurrency": "5"}) == baseline


def test_a_new_description_replaces_a_version_in_cloudformation():
    """What the parameter cases rely on, from CloudFormation's registry schema (as cfn-lint ships it)."""
    script = (
        "from cfnlint.schema import PROVIDER_SCHEMA_MANAGER\n"
        "schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema('us-east-1', 'AWS::Lambda::Version').schema\n"
        "print('\\n'.join(schema['createOnlyProperties']))\n"
    )
    result = subprocess.run([str(SAM_PYTHON), "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert "/properties/Description" in result.stdout.split()
