"""Publishing to Buttondown against a fake API on 127.0.0.1 whose ``status`` defaults to
sending the email: the client must always say ``draft``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.buttondown import FakeButtondown
from fakes.issue import BASE_URL, DAY, DROPPED_LINK, drop_paragraph, workspace_copy

from conftest import query
from lll.errors import PublishError, PublishSettingsError
from lll.newsletter import Newsletter
from lll.publish import Publishing, Receipt

KEY = "bd-key-1234567890"
CLAUDEONOMICS = "[The Algorithmic Bridge](https://www.thealgorithmicbridge.com/p/chain-of-thought-is-scaffolding)"


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return workspace_copy(tmp_path_factory, tmp_path / "ws")


@pytest.fixture
def bd() -> Iterator[FakeButtondown]:
    with FakeButtondown(KEY, page_size=1) as fake:
        yield fake


def publish(ws: Path, bd: FakeButtondown, *, key: str = KEY, **kwargs: object) -> Receipt:
    env = {"LLL_BUTTONDOWN_API_KEY": key, "LLL_BUTTONDOWN_BASE_URL": f"{bd.base}/v1"}
    with Newsletter.open(ws) as letter:
        return Publishing(letter, env=env, sleep=lambda s: None).publish(DAY, "buttondown", **kwargs)  # type: ignore[arg-type]


def row(ws: Path) -> dict[str, object]:
    [found] = query(ws / "lll.db", "SELECT * FROM publications WHERE target = 'buttondown'")
    return dict(found)


def test_a_draft_with_explicit_status_once_then_updated_in_place(ws: Path, bd: FakeButtondown) -> None:
    first = publish(ws, bd)
    assert (first.action, first.state) == ("created", "draft")
    [email] = bd.emails.values()
    assert email["status"] == "draft" and bd.sent_without_status == 0
    assert not email["body"].startswith("---") and email["subject"] == "Large Language Letters 04/10/2026"
    assert email["canonical_url"] == f"{BASE_URL}/{DAY}.html" and email["metadata"]["lll_issue"] == DAY
    post = next(c for c in bd.calls if c.method == "POST")
    assert post.json["status"] == "draft" and "tags" not in post.json
    assert post.headers["x-api-version"] == "2026-04-01" and post.headers["x-idempotency-key"].startswith("lll-")
    assert publish(ws, bd).action == "unchanged" and bd.count("POST") == 1

    drop_paragraph(ws, CLAUDEONOMICS)
    second = publish(ws, bd)
    assert (second.action, second.remote_id) == ("updated", first.remote_id)
    assert len(bd.emails) == 1 and DROPPED_LINK not in email["body"]
    patch = next(c for c in bd.calls if c.method == "PATCH")
    assert patch.json["status"] == "draft", "status is explicit on every write"
    assert row(ws)["content_hash"] == second.content_hash


def test_a_post_answered_500_after_creating_is_found_not_doubled(ws: Path, bd: FakeButtondown) -> None:
    bd.emails["em_other"] = {"id": "em_other", "subject": "Large Language Letters 04/09/2026", "body": "x",
                             "status": "sent", "slug": "other", "metadata": {}, "absolute_url": "",
                             "creation_date": "2026-04-09T12:00:00Z"}
    bd.fail_next("POST", "commit_then_500")
    receipt = publish(ws, bd)
    drafts = [e for e in bd.emails.values() if e["id"] != "em_other"]
    assert len(drafts) == 1 and receipt.remote_id == drafts[0]["id"] and receipt.action == "adopted"
    assert bd.count("POST") == 1
    assert row(ws)["state"] == "draft"


def test_a_post_answered_too_late_is_found_through_the_paginated_list(ws: Path, bd: FakeButtondown) -> None:
    for n in range(3):  # other emails with a similar subject, newer first: the match is on page 2+
        bd.emails[f"em_x{n}"] = {"id": f"em_x{n}", "subject": "Large Language Letters 04/10/2026 (notes)",
                                 "body": "x", "status": "draft", "slug": f"x{n}", "metadata": {},
                                 "absolute_url": "", "creation_date": f"2026-04-11T12:00:0{n}Z"}
    bd.fail_next("POST", "commit_then_hang")
    receipt = publish(ws, bd)
    mine = [e for e in bd.emails.values() if e["slug"] == f"lll-{DAY}"]
    assert len(mine) == 1 and receipt.remote_id == mine[0]["id"]
    assert bd.count("POST") == 1 and bd.count("GET", "/v1/emails") >= 3


def test_an_email_a_person_already_sent_is_never_touched(ws: Path, bd: FakeButtondown) -> None:
    first = publish(ws, bd)
    bd.emails[first.remote_id]["status"] = "sent"
    drop_paragraph(ws, CLAUDEONOMICS)
    with pytest.raises(PublishError) as caught:
        publish(ws, bd)
    assert "no longer a draft" in str(caught.value) and bd.count("PATCH") == 0
    assert row(ws)["state"] == "failed" and row(ws)["content_hash"] == first.content_hash


def test_a_bad_key_and_a_missing_key(ws: Path, bd: FakeButtondown) -> None:
    with pytest.raises(PublishError) as caught:
        publish(ws, bd, key="wrong-key-000000")
    assert "LLL_BUTTONDOWN_API_KEY" in str(caught.value) and "wrong-key-000000" not in str(caught.value)
    assert bd.emails == {} and row(ws)["state"] == "failed"
    with pytest.raises(PublishSettingsError) as missing:
        publish(ws, bd, key="")
    assert "set LLL_BUTTONDOWN_API_KEY" in str(missing.value)


def test_public_is_refused_for_buttondown(ws: Path, bd: FakeButtondown) -> None:
    with pytest.raises(PublishSettingsError, match="--public applies to devto only"):
        publish(ws, bd, public=True)
    assert bd.calls == []
