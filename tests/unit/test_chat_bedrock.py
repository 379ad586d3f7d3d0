"""The Bedrock Converse responder, through botocore's ``Stubber`` (no network), and responder selection."""

from __future__ import annotations

import boto3
import botocore.session
import chat_app
import pytest
from botocore.stub import Stubber

from chatstate.chat.bedrock import DEFAULT_INFERENCE_CONFIG, BedrockConverseResponder
from chatstate.chat.errors import ResponderFailed, ResponderUnavailable
from chatstate.chat.responders import EchoMemoryResponder, responder_from_settings
from chatstate.models import Message
from chatstate.settings import Settings
from chatstate.store.memory import InMemorySessionStore
from tests.unit.chat_support import ChatHarness, Clock, call, http_event

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
PROMPT = "You are a travel agent."


def converse_response(text: str) -> dict:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 42},
    }


def user(text: str) -> dict:
    return {"role": "user", "content": [{"text": text}]}


def assistant(text: str) -> dict:
    return {"role": "assistant", "content": [{"text": text}]}


@pytest.fixture
def bedrock():
    client = botocore.session.get_session().create_client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def chat_with_bedrock(bedrock):
    client, stubber = bedrock
    responder = BedrockConverseResponder(MODEL, client=client, system_prompt=PROMPT, max_turns=2)
    harness = ChatHarness(responder=responder)
    yield harness, stubber
    chat_app.configure()


def expected(messages: list[dict]) -> dict:
    return {
        "modelId": MODEL,
        "messages": messages,
        "system": [{"text": PROMPT}],
        "inferenceConfig": DEFAULT_INFERENCE_CONFIG,
    }


def test_converse_request_carries_model_system_prompt_and_alternating_turns(chat_with_bedrock):
    chat, stubber = chat_with_bedrock
    stubber.add_response("converse", converse_response("Hi Alice!"), expected([user("Hi, I'm Alice")]))
    stubber.add_response(
        "converse",
        converse_response("Paris is lovely."),
        expected([user("Hi, I'm Alice"), assistant("Hi Alice!"), user("Trip to Paris?")]),
    )
    stubber.add_response(
        "converse",
        converse_response("Booked."),
        expected(
            [
                user("Hi, I'm Alice"),
                assistant("Hi Alice!"),
                user("Trip to Paris?"),
                assistant("Paris is lovely."),
                user("Book it"),
            ]
        ),
    )
    # max_turns=2: the first turn falls out of the context window on the fourth message
    stubber.add_response(
        "converse",
        converse_response("Done."),
        expected(
            [
                user("Trip to Paris?"),
                assistant("Paris is lovely."),
                user("Book it"),
                assistant("Booked."),
                user("Thanks"),
            ]
        ),
    )
    replies = [chat.send("trip", text).body for text in ["Hi, I'm Alice", "Trip to Paris?", "Book it", "Thanks"]]
    assert [r["reply"] for r in replies] == ["Hi Alice!", "Paris is lovely.", "Booked.", "Done."]
    assert replies[-1]["message_count"] == 4


@pytest.mark.parametrize("code", ["ThrottlingException", "ServiceUnavailableException", "ModelNotReadyException"])
def test_transient_bedrock_errors_are_503_with_retry_after(chat_with_bedrock, code):
    chat, stubber = chat_with_bedrock
    stubber.add_client_error("converse", service_error_code=code, service_message="slow down", http_status_code=429)
    result = chat.send("s1", "hello")
    assert result.status == 503
    assert result.error_code == "responder_unavailable"
    assert result.headers["retry-after"] == "2"
    assert chat.request("GET", "/sessions/s1").status == 404  # nothing stored


@pytest.mark.parametrize(
    "code", ["ValidationException", "AccessDeniedException", "ModelErrorException", "ResourceNotFoundException"]
)
def test_permanent_bedrock_errors_are_502(chat_with_bedrock, code):
    chat, stubber = chat_with_bedrock
    stubber.add_client_error("converse", service_error_code=code, service_message="no", http_status_code=400)
    result = chat.send("s1", "hello")
    assert result.status == 502
    assert result.error_code == "responder_failed"
    assert "no" not in result.error_message.split()


def test_empty_model_output_is_502(chat_with_bedrock):
    chat, stubber = chat_with_bedrock
    response = converse_response("x")
    response["output"]["message"]["content"] = []
    stubber.add_response("converse", response)
    assert chat.send("s1", "hello").status == 502


def test_build_messages_merges_same_role_skips_others_and_starts_with_user():
    responder = BedrockConverseResponder(MODEL, client=object(), max_turns=10)
    clock = Clock()

    def msg(seq: int, role: str, text: str) -> Message:
        return Message(seq=seq, role=role, content=text, created_at=clock())

    history = [
        msg(1, "assistant", "orphan greeting"),
        msg(2, "user", "a"),
        msg(3, "system", "ignored"),
        msg(4, "user", "b"),
        msg(5, "assistant", "c"),
        msg(6, "user", "unanswered"),
    ]
    assert responder.build_messages(history, "now") == [user("a\n\nb"), assistant("c"), user("unanswered\n\nnow")]
    assert BedrockConverseResponder(MODEL, client=object(), max_turns=0).build_messages(history, "now") == [
        user("unanswered\n\nnow")
    ]


def test_uses_redacted_form_of_history():
    responder = BedrockConverseResponder(MODEL, client=object())
    history = [Message(seq=1, role="user", content="card 4111", redacted="card ****", created_at=Clock()())]
    assert responder.build_messages(history, "next")[0] == user("card ****\n\nnext")


# -- responder selection and the default path -------------------------------------------------------
def test_responder_from_settings():
    assert isinstance(responder_from_settings(Settings(SESSION_TABLE_NAME="t-1")), EchoMemoryResponder)
    assert isinstance(
        responder_from_settings(Settings(SESSION_TABLE_NAME="t-1", BEDROCK_MODEL_ID=" ")), EchoMemoryResponder
    )
    chosen = responder_from_settings(
        Settings(SESSION_TABLE_NAME="t-1", BEDROCK_MODEL_ID=MODEL, CHAT_HISTORY_TURNS="3", CHAT_SYSTEM_PROMPT="Be nice")
    )
    assert isinstance(chosen, BedrockConverseResponder)
    assert (chosen.model_id, chosen.max_turns, chosen.system_prompt) == (MODEL, 3, "Be nice")


@pytest.fixture
def env_wired(monkeypatch):
    """chat_app built from the environment exactly as in Lambda, with the session store swapped for a twin."""
    created: list[str] = []
    real_client = boto3.Session.client

    def spy(self, service_name, *args, **kwargs):
        created.append(service_name)
        return real_client(self, service_name, *args, **kwargs)

    monkeypatch.setattr(boto3.Session, "client", spy)
    monkeypatch.setenv("SESSION_TABLE_NAME", "chat-sessions")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    chat_app.configure(store=InMemorySessionStore())
    yield created
    chat_app.configure()


def test_default_path_never_creates_a_bedrock_client(env_wired, monkeypatch):
    monkeypatch.delenv("BEDROCK_MODEL_ID", raising=False)
    harness_result = call(http_event("POST", "/sessions/s1/messages", body={"message": "hi"}))
    assert harness_result.status == 200
    assert "built-in responder" in harness_result.body["reply"] or "new conversation" in harness_result.body["reply"]
    assert isinstance(chat_app.dependencies().service.responder, EchoMemoryResponder)
    assert "bedrock-runtime" not in env_wired


def test_bedrock_client_is_created_lazily_once(env_wired, monkeypatch):
    monkeypatch.setenv("BEDROCK_MODEL_ID", MODEL)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    responder = chat_app.dependencies().service.responder
    assert isinstance(responder, BedrockConverseResponder)
    assert "bedrock-runtime" not in env_wired  # not at build time
    assert responder.client is responder.client
    assert env_wired.count("bedrock-runtime") == 1


def test_connection_errors_are_transient():
    from botocore.exceptions import EndpointConnectionError, ParamValidationError

    from chatstate.chat.bedrock import _translate

    assert isinstance(_translate(EndpointConnectionError(endpoint_url="https://x")), ResponderUnavailable)
    assert isinstance(_translate(ParamValidationError(report="bad")), ResponderFailed)
