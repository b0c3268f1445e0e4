"""Publishing to Ghost against a fake Admin API on 127.0.0.1 that checks every JWT, keeps
``html`` only with ``?source=html``, suffixes duplicate slugs and answers 409 to a stale
``updated_at``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.ghost import FakeGhost, _b64decode
from fakes.issue import DAY, DROPPED_LINK, drop_paragraph, workspace_copy

from conftest import query
from lll.errors import PublishError, PublishSettingsError
from lll.newsletter import Newsletter
from lll.publish import Publishing, Receipt
from lll.publish.ghost import admin_token

CLAUDEONOMICS = "[The Algorithmic Bridge](https://www.thealgorithmicbridge.com/p/chain-of-thought-is-scaffolding)"


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return workspace_copy(tmp_path_factory, tmp_path / "ws")


@pytest.fixture
def ghost() -> Iterator[FakeGhost]:
    with FakeGhost() as fake:
        yield fake


def publish(ws: Path, ghost: FakeGhost, *, key: str | None = None, **kwargs: object) -> Receipt:
    env = {"LLL_GHOST_ADMIN_API_KEY": key if key is not None else ghost.admin_key, "LLL_GHOST_URL": ghost.base}
    with Newsletter.open(ws) as letter:
        return Publishing(letter, env=env, sleep=lambda s: None).publish(DAY, "ghost", **kwargs)  # type: ignore[arg-type]


def test_the_admin_token_is_hs256_with_the_hex_secret_and_a_five_minute_life() -> None:
    token = admin_token("abc123:" + "0f" * 32, issued_at=1_775_822_400)
    head, body, _sig = token.split(".")
    assert json.loads(_b64decode(head)) == {"alg": "HS256", "typ": "JWT", "kid": "abc123"}
    assert json.loads(_b64decode(body)) == {"iat": 1_775_822_400, "exp": 1_775_822_700, "aud": "/admin/"}
    assert admin_token("abc123:" + "0f" * 32, issued_at=1_775_822_401) != token


def test_a_draft_post_once_then_updated_with_the_current_updated_at(ws: Path, ghost: FakeGhost) -> None:
    first = publish(ws, ghost)
    assert (first.action, first.state) == ("created", "draft")
    [post] = ghost.posts.values()
    assert post["status"] == "draft" and post["slug"] == f"lll-{DAY}"
    assert "Project Glasswing" in post["html"], "?source=html was sent: Ghost kept the HTML"
    assert post["html"].startswith("<!--kg-card-begin: html-->")
    assert [t["name"] for t in post["tags"]] == ["ai"]
    assert ghost.newsletter_params == 0
    create = next(c for c in ghost.calls if c.method == "POST")
    assert create.query == {"source": "html"} and create.json["posts"][0]["status"] == "draft"
    assert publish(ws, ghost).action == "unchanged" and ghost.count("POST") == 1

    drop_paragraph(ws, CLAUDEONOMICS)
    second = publish(ws, ghost)
    assert (second.action, second.remote_id) == ("updated", first.remote_id)
    assert len(ghost.posts) == 1 and DROPPED_LINK not in post["html"]
    put = next(c for c in ghost.calls if c.method == "PUT")
    assert put.query == {"source": "html"} and "status" not in put.json["posts"][0]
    # every request carried its own valid, short-lived token, checked by the server
    now = time.time()
    assert len(ghost.tokens) == len(ghost.calls)
    assert all(t["exp"] - t["iat"] == 300 and abs(t["iat"] - now) < 60 for t in ghost.tokens)


def test_a_stale_updated_at_is_read_again_and_retried_once(ws: Path, ghost: FakeGhost) -> None:
    publish(ws, ghost)
    drop_paragraph(ws, CLAUDEONOMICS)
    ghost.fail_next("PUT", "someone_saves")
    receipt = publish(ws, ghost)
    assert receipt.action == "updated" and ghost.count("PUT") == 2 and len(ghost.posts) == 1
    assert DROPPED_LINK not in next(iter(ghost.posts.values()))["html"]


def test_two_collisions_leave_a_failed_state_saying_someone_is_editing(ws: Path, ghost: FakeGhost) -> None:
    first = publish(ws, ghost)
    drop_paragraph(ws, CLAUDEONOMICS)
    ghost.fail_next("PUT", "someone_saves")
    ghost.fail_next("PUT", "someone_saves")
    with pytest.raises(PublishError, match="someone else is editing"):
        publish(ws, ghost)
    [row] = query(ws / "lll.db", "SELECT * FROM publications WHERE target = 'ghost'")
    assert row["state"] == "failed" and row["content_hash"] == first.content_hash


def test_a_create_answered_500_is_found_by_slug_not_doubled(ws: Path, ghost: FakeGhost) -> None:
    ghost.fail_next("POST", "commit_then_500")
    receipt = publish(ws, ghost)
    assert len(ghost.posts) == 1 and ghost.count("POST") == 1
    assert receipt.remote_id == next(iter(ghost.posts))
    assert not any(p["slug"].endswith("-2") for p in ghost.posts.values())


def test_bad_keys(ws: Path, ghost: FakeGhost) -> None:
    wrong = next(iter(ghost.keys)) + ":" + "ff" * 32
    with pytest.raises(PublishError) as caught:
        publish(ws, ghost, key=wrong)
    assert "401" in str(caught.value) and "LLL_GHOST_ADMIN_API_KEY" in str(caught.value)
    assert "ff" * 32 not in str(caught.value) and ghost.posts == {}
    with pytest.raises(PublishSettingsError, match="id:secret"):
        publish(ws, ghost, key="no-colon-and-not-hex")
    with pytest.raises(PublishSettingsError, match="set LLL_GHOST_ADMIN_API_KEY"):
        publish(ws, ghost, key="")
    for path in ws.glob("lll.db*"):
        assert ("ff" * 32).encode() not in path.read_bytes()
