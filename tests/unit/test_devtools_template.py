"""The template reader expands CloudFormation short tags and resolves intrinsics to local values."""

from __future__ import annotations

import pytest

from devtools.template import Resolver, TemplateError, load_template, session_table_spec

TEMPLATE = """
Parameters:
  Env: {Type: String, Default: dev}
  Model: {Type: String, Default: ""}
Conditions:
  HasModel: !Not [!Equals [!Ref Model, ""]]
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      Name: !Sub "${AWS::StackName}-${Env}"
      Arn: !GetAtt T.Arn
      Model: !If [HasModel, !Ref Model, !Ref AWS::NoValue]
      Joined: !Join ["-", [a, !Ref Env]]
"""


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return load_template(path)


def test_short_tags_become_long_form(template):
    props = template["Resources"]["T"]["Properties"]
    assert props["Name"] == {"Fn::Sub": "${AWS::StackName}-${Env}"}
    assert props["Arn"] == {"Fn::GetAtt": ["T", "Arn"]}
    assert props["Model"]["Fn::If"][1] == {"Ref": "Model"}


def test_resolver_uses_defaults_overrides_and_drops_no_value(template):
    props = template["Resources"]["T"]["Properties"]
    resolved = Resolver(template, refs={"T.Arn": "arn:t"}).resolve(props)
    assert resolved == {"Name": "chatstate-local-dev", "Arn": "arn:t", "Joined": "a-dev"}

    with_model = Resolver(template, refs={"T.Arn": "arn:t"}, parameter_overrides={"Model": "m1"}).resolve(props)
    assert with_model["Model"] == "m1"


def test_unresolvable_intrinsic_is_a_clear_error(template):
    with pytest.raises(TemplateError, match=r"GetAtt T\.Arn"):
        Resolver(template).resolve(template["Resources"]["T"]["Properties"])


def test_session_table_spec_comes_from_the_project_template():
    spec = session_table_spec()
    assert {k["AttributeName"]: k["KeyType"] for k in spec["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    assert spec["BillingMode"] == "PAY_PER_REQUEST"
    assert "TableName" not in spec
