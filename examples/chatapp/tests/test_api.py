"""Behaviour tests, through HTTP and WebSocket only.

State a test needs (a conversation, a first chat turn) comes from fixtures that
also go through the API; under ``ASGI_MIGRATE_BLOCKBUSTER=1`` blockbuster is
switched on after them, so each test is checked on the route it is about.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect


def new_conversation(client: TestClient, title: str = "test chat") -> int:
    resp = client.post("/conversations", json={"title": title})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def say(client: TestClient, cid: int, content: str) -> dict[str, Any]:
    resp = client.post(f"/conversations/{cid}/messages", json={"content": content})
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.fixture
def conversation(client: TestClient) -> int:
    return new_conversation(client)


@pytest.fixture
def chatted(client: TestClient, conversation: int) -> int:
    """A conversation with one full turn: 'what is 2+2?' and its reply."""
    say(client, conversation, "what is 2+2?")
    return conversation


def test_health(client: TestClient) -> None:
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"


def test_create_conversation(client: TestClient) -> None:
    resp = client.post("/conversations", json={"title": "Trip planning"})
    assert resp.status_code == 201
    body = resp.json()
    assert body["title"] == "Trip planning"
    assert isinstance(body["id"], int)


def test_post_message_gets_model_reply(client: TestClient, conversation: int) -> None:
    content = f"hello {uuid.uuid4().hex}"
    body = say(client, conversation, content)
    assert body["user"]["role"] == "user"
    assert body["user"]["content"] == content
    assert body["assistant"]["role"] == "assistant"
    assert body["assistant"]["content"] == f"reply: {content}"
    assert body["cached"] is False


def test_history_lists_turns_in_order(client: TestClient, chatted: int) -> None:
    resp = client.get(f"/conversations/{chatted}/messages")
    assert resp.status_code == 200
    assert [(m["role"], m["content"]) for m in resp.json()] == [
        ("user", "what is 2+2?"),
        ("assistant", "reply: what is 2+2?"),
    ]


def test_unknown_conversation_is_404(client: TestClient) -> None:
    assert client.get("/conversations/987654/messages").status_code == 404


def test_transcript_file_records_both_sides(client: TestClient, chatted: int) -> None:
    resp = client.get(f"/conversations/{chatted}/transcript")
    assert resp.status_code == 200
    transcript = resp.json()
    assert transcript["conversation_id"] == chatted
    assert [(m["role"], m["content"]) for m in transcript["messages"]] == [
        ("user", "what is 2+2?"),
        ("assistant", "reply: what is 2+2?"),
    ]


def test_transcript_missing_is_404(client: TestClient, conversation: int) -> None:
    assert client.get(f"/conversations/{conversation}/transcript").status_code == 404


def test_archive_round_trip_through_s3(client: TestClient, chatted: int) -> None:
    resp = client.post(f"/conversations/{chatted}/archive")
    assert resp.status_code == 201, resp.text
    info = resp.json()
    assert info["key"].endswith(f"conversation-{chatted}.json")
    assert info["size"] > 0
    archived = client.get(f"/conversations/{chatted}/archive")
    assert archived.status_code == 200
    assert archived.json() == client.get(f"/conversations/{chatted}/transcript").json()


def test_archive_missing_is_404(client: TestClient, conversation: int) -> None:
    assert client.get(f"/conversations/{conversation}/archive").status_code == 404


def test_identical_prompt_is_served_from_redis(client: TestClient, llm_server: Any) -> None:
    content = f"cache me {uuid.uuid4().hex}"
    calls_before = len(llm_server.prompts)
    first = say(client, new_conversation(client), content)
    second = say(client, new_conversation(client), content)
    assert first["cached"] is False
    assert second["cached"] is True
    assert second["assistant"]["content"] == first["assistant"]["content"] == f"reply: {content}"
    assert len(llm_server.prompts) == calls_before + 1


def test_transient_llm_error_is_retried(client: TestClient, conversation: int, llm_server: Any) -> None:
    failures_before = llm_server.failures
    content = f"[flaky] {uuid.uuid4().hex}"
    body = say(client, conversation, content)
    assert body["assistant"]["content"] == f"reply: {content}"
    assert llm_server.failures == failures_before + 1


def test_websocket_chat(client: TestClient, conversation: int) -> None:
    with client.websocket_connect(f"/ws/chat/{conversation}") as ws:
        ws.send_json({"content": "over the socket"})
        turn = ws.receive_json()
        assert turn["assistant"]["content"] == "reply: over the socket"
        ws.send_json({"content": "   "})
        assert ws.receive_json() == {"error": "empty message"}
    history = client.get(f"/conversations/{conversation}/messages").json()
    assert [m["content"] for m in history] == ["over the socket", "reply: over the socket"]


def test_websocket_unknown_conversation_is_rejected(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as exc, client.websocket_connect("/ws/chat/987654") as ws:
        ws.receive_json()
    assert exc.value.code == 1008


def test_stats_sync_route(client: TestClient) -> None:
    """A plain ``def`` route: runs in the threadpool, so blocking there is fine."""
    resp = client.get("/stats")
    assert resp.status_code == 200
    stats = resp.json()
    assert set(stats) == {"conversations", "messages_by_role", "messages_posted", "transcript_files"}
    assert all(isinstance(stats[k], int) for k in ("conversations", "messages_posted", "transcript_files"))


def test_stats_count_new_activity(client: TestClient) -> None:
    before = client.get("/stats").json()
    say(client, new_conversation(client), f"count me {uuid.uuid4().hex}")
    after = client.get("/stats").json()
    assert after["conversations"] == before["conversations"] + 1
    assert after["messages_by_role"].get("user", 0) == before["messages_by_role"].get("user", 0) + 1
    assert after["messages_posted"] == before["messages_posted"] + 1
    assert after["transcript_files"] >= 1


def test_startup_is_repeatable(app: Any) -> None:
    """The lifespan (tables, transcript dir, bucket) runs again against existing state."""
    for _ in range(2):
        with TestClient(app) as c:
            assert c.get("/health").status_code == 200
