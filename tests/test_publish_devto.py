"""Publishing to DEV against a fake Forem on 127.0.0.1 that follows the contract notes,
failure behaviours included: a POST that creates the article and still answers 422 (or
500, or nothing), both 429 shapes and a 429 with no Retry-After, tags dropped by an
update that leaves them out, a write throttle, a bad key."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.forem import ACCEPT_V1, FakeForem
from fakes.issue import DAY, DROPPED_LINK, drop_paragraph, workspace_copy

from conftest import execute, query
from lll.errors import PublishError, PublishSettingsError, VerificationError
from lll.newsletter import Newsletter
from lll.publish import Publishing, Receipt

KEY = "dev-key-1234567890"
CLAUDEONOMICS = "[The Algorithmic Bridge](https://www.thealgorithmicbridge.com/p/chain-of-thought-is-scaffolding)"


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return workspace_copy(tmp_path_factory, tmp_path / "ws")


@pytest.fixture
def forem() -> Iterator[FakeForem]:
    with FakeForem({KEY: 1, "other-user-key-999": 2}) as fake:
        yield fake


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def publish(ws: Path, forem: FakeForem, *, key: str = KEY, sleep: object = None, **kwargs: object) -> Receipt:
    env = {"LLL_DEVTO_API_KEY": key, "LLL_DEVTO_BASE_URL": f"{forem.base}/api"}
    with Newsletter.open(ws) as letter:
        publishing = Publishing(letter, env=env, sleep=sleep if sleep is not None else Sleeps())  # type: ignore[arg-type]
        return publishing.publish(DAY, "devto", **kwargs)  # type: ignore[arg-type]


def ledger(ws: Path, target: str = "devto") -> dict[str, object]:
    rows = query(ws / "lll.db", "SELECT * FROM publications WHERE target = ? AND date = ?", target, DAY)
    assert len(rows) == 1
    return dict(rows[0])


def test_publish_twice_makes_one_draft_and_the_second_run_sends_nothing(ws: Path, forem: FakeForem) -> None:
    first = publish(ws, forem)
    assert (first.action, first.state) == ("created", "draft")
    [article] = forem.mine()
    assert article["published"] is False and article["published_at"] is None
    assert article["title"] == "Large Language Letters 04/10/2026"
    assert article["tags"] == ["ai"]
    assert not article["body_markdown"].startswith("---"), "front matter would override the JSON fields"
    assert "published:" not in article["body_markdown"]
    assert f"<!-- lll-issue: {DAY} -->" in article["body_markdown"]
    post = next(c for c in forem.calls if c.method == "POST")
    assert post.headers["api-key"] == KEY and post.headers["accept"] == ACCEPT_V1
    assert post.json["article"]["published"] is False and isinstance(post.json["article"]["tags"], list)
    row = ledger(ws)
    assert row["state"] == "draft" and row["remote_id"] == str(article["id"]) and row["url"] == first.url
    assert row["content_hash"] == first.content_hash and row["error"] is None

    calls = len(forem.calls)
    second = publish(ws, forem)
    assert (second.action, second.remote_id) == ("unchanged", first.remote_id)
    assert len(forem.calls) == calls, "same content hash: no call at all"
    assert len(forem.mine()) == 1


def test_a_changed_draft_updates_the_same_article_and_keeps_its_tags(ws: Path, forem: FakeForem) -> None:
    first = publish(ws, forem)
    drop_paragraph(ws, CLAUDEONOMICS)
    second = publish(ws, forem)
    assert (second.action, second.remote_id) == ("updated", first.remote_id)
    assert second.content_hash != first.content_hash
    [article] = forem.mine()
    assert DROPPED_LINK not in article["body_markdown"]
    assert article["tags"] == ["ai"], "tags are resent on every update (DEV drops them otherwise)"
    put = next(c for c in forem.calls if c.method == "PUT")
    assert "published" not in put.json["article"] and "published_at" not in put.json["article"]
    assert ledger(ws)["content_hash"] == second.content_hash


def test_post_that_creates_and_still_answers_422_leaves_exactly_one_article(ws: Path, forem: FakeForem) -> None:
    forem.fail_next("POST", "commit_then_422")
    receipt = publish(ws, forem)
    [article] = forem.mine()
    assert receipt.action == "adopted" and receipt.remote_id == str(article["id"])
    assert forem.count("POST") == 1, "the 422 was looked up, never blindly re-sent"
    assert ledger(ws)["state"] == "draft"
    assert publish(ws, forem).action == "unchanged"
    assert len(forem.mine()) == 1


@pytest.mark.parametrize("fault", ["commit_then_500", "commit_then_hang"])
def test_unclear_failures_after_create_are_looked_up_before_any_retry(ws: Path, forem: FakeForem,
                                                                      fault: str) -> None:
    forem.fail_next("POST", fault)
    receipt = publish(ws, forem)
    assert len(forem.mine()) == 1 and forem.count("POST") == 1
    assert receipt.remote_id == str(forem.mine()[0]["id"])
    assert ledger(ws)["state"] == "draft"


def test_a_500_before_anything_was_made_is_retried_after_the_lookup(ws: Path, forem: FakeForem) -> None:
    forem.fail_next("POST", "500")
    receipt = publish(ws, forem)
    assert receipt.action == "created" and forem.count("POST") == 2 and len(forem.mine()) == 1


@pytest.mark.parametrize("how", ["ledger lost", "crash right after the 201"])
def test_an_article_the_ledger_does_not_name_is_adopted_not_posted_again(ws: Path, forem: FakeForem,
                                                                        how: str) -> None:
    first = publish(ws, forem)
    if how == "ledger lost":
        execute(ws / "lll.db", "DELETE FROM publications")
    else:  # the process died between DEV's 201 and the ledger write
        execute(ws / "lll.db", "UPDATE publications SET state = 'pending', remote_id = NULL, url = NULL, "
                "content_hash = NULL")
    again = publish(ws, forem)
    assert (again.action, again.remote_id) == ("adopted", first.remote_id)
    assert forem.count("POST") == 1 and len(forem.mine()) == 1
    assert ledger(ws)["state"] == "draft" and ledger(ws)["remote_id"] == first.remote_id


def test_both_429_shapes_and_a_429_without_retry_after(ws: Path, forem: FakeForem) -> None:
    sleeps = Sleeps()
    forem.fail_next("POST", "429_json")  # JSON, Retry-After: 30 (capped by max_retry_after = 5)
    receipt = publish(ws, forem, sleep=sleeps)
    assert receipt.action == "created" and len(forem.mine()) == 1
    assert sleeps == [5.0]
    gets_before_retry = [c.path for c in forem.calls].index("/api/articles/me/all")
    assert gets_before_retry < [i for i, c in enumerate(forem.calls) if c.method == "POST"][-1]

    drop_paragraph(ws, CLAUDEONOMICS)
    sleeps.clear()
    forem.fail_next("PUT", "429_text")  # text/plain "Retry later", Retry-After: 1
    forem.fail_next("PUT", "429_bare")  # no Retry-After at all: exponential backoff
    receipt = publish(ws, forem, sleep=sleeps)
    assert receipt.action == "updated" and len(forem.mine()) == 1
    assert sleeps == [1.0, 0.02], "Retry-After honoured, then backoff (0.01 × 2) when it is missing"


def test_the_write_throttle_is_waited_out_for_real(tmp_path_factory: pytest.TempPathFactory,
                                                  tmp_path: Path) -> None:
    ws = workspace_copy(tmp_path_factory, tmp_path / "ws")
    with FakeForem({KEY: 1}, throttle=True) as forem:
        publish(ws, forem, sleep=time.sleep)
        drop_paragraph(ws, CLAUDEONOMICS)
        started = time.monotonic()
        receipt = publish(ws, forem, sleep=time.sleep)  # a write less than a second after the last
        assert receipt.action == "updated"
        assert time.monotonic() - started >= 0.9
        assert any(c.method == "PUT" for c in forem.calls)
        assert len(forem.mine()) == 1


def test_a_bad_key_leaves_a_truthful_failed_state_and_no_article(ws: Path, forem: FakeForem) -> None:
    bad = "not-the-key-0000000"
    with pytest.raises(PublishError) as caught:
        publish(ws, forem, key=bad)
    message = str(caught.value)
    assert "LLL_DEVTO_API_KEY" in message and "401" in message and bad not in message
    assert forem.mine() == [] and forem.count("POST") == 0
    row = ledger(ws)
    assert row["state"] == "failed" and "LLL_DEVTO_API_KEY" in str(row["error"])
    assert row["remote_id"] is None and row["content_hash"] is None
    for path in ws.glob("lll.db*"):
        assert bad.encode() not in path.read_bytes() and KEY.encode() not in path.read_bytes()
    # fixed key: the next run creates the draft
    assert publish(ws, forem).action == "created" and ledger(ws)["state"] == "draft"


def test_a_missing_key_is_one_line_naming_the_variable(ws: Path, forem: FakeForem) -> None:
    with pytest.raises(PublishSettingsError) as caught:
        publish(ws, forem, key="")
    assert str(caught.value) == "devto: set LLL_DEVTO_API_KEY (a key from https://dev.to/settings/extensions)"
    assert caught.value.exit_code == 2 and forem.calls == []
    assert query(ws / "lll.db", "SELECT COUNT(*) FROM publications")[0][0] == 0


def test_a_rejected_article_says_what_to_fix(ws: Path, forem: FakeForem) -> None:
    # A title DEV refuses (over 128 characters): a real 422 — looked up, nothing found, so refused.
    long_name = "Large Language Letters " + "x" * 120
    toml = ws / "lll.toml"
    toml.write_text(toml.read_text().replace('name = "Large Language Letters"', f'name = "{long_name}"'))
    path = ws / "issues" / f"{DAY}.md"
    path.write_text(path.read_text().replace('title: "Large Language Letters 04/10/2026"',
                                             f'title: "{long_name} 04/10/2026"'), encoding="utf-8")
    with pytest.raises(PublishError) as caught:
        publish(ws, forem)
    message = str(caught.value)
    assert "422" in message and "Title is too long" in message and "shorten [newsletter] name" in message
    assert forem.mine() == [] and forem.count("GET", "/api/articles/me/all") == 2  # before, and after the 422
    row = ledger(ws)
    assert row["state"] == "failed" and "Title is too long" in str(row["error"])


def test_public_only_when_asked_and_a_persons_publishing_is_kept(ws: Path, forem: FakeForem) -> None:
    publish(ws, forem)
    assert forem.mine()[0]["published"] is False
    receipt = publish(ws, forem, public=True)
    assert (receipt.action, receipt.state) == ("updated", "public")
    assert forem.mine()[0]["published"] is True and ledger(ws)["state"] == "public"
    drop_paragraph(ws, CLAUDEONOMICS)
    receipt = publish(ws, forem)  # not --public: the update leaves `published` alone
    assert forem.mine()[0]["published"] is True and receipt.state == "public"
    assert "published" not in [c for c in forem.calls if c.method == "PUT"][-1].json["article"]


def test_an_article_deleted_on_dev_is_made_again(ws: Path, forem: FakeForem) -> None:
    first = publish(ws, forem)
    forem.articles.clear()
    drop_paragraph(ws, CLAUDEONOMICS)
    again = publish(ws, forem)
    assert again.action == "created" and again.remote_id != first.remote_id and len(forem.mine()) == 1
    assert ledger(ws)["remote_id"] == again.remote_id


def test_a_draft_that_fails_verification_is_never_sent(ws: Path, forem: FakeForem) -> None:
    path = ws / "issues" / f"{DAY}.md"
    text = path.read_text()
    path.write_text(text.replace("it scores 83.1%", "it scores 97.5%"), encoding="utf-8")
    with pytest.raises(VerificationError) as caught:
        publish(ws, forem)
    assert "97.5" in str(caught.value) and f"lll verify issues/{DAY}.md" in str(caught.value)
    assert forem.calls == []
    assert query(ws / "lll.db", "SELECT COUNT(*) FROM publications")[0][0] == 0


def test_dry_run_calls_nothing_and_writes_nothing(ws: Path, forem: FakeForem) -> None:
    receipt = publish(ws, forem, dry_run=True)
    assert receipt.dry_run and receipt.action == "would create"
    assert forem.calls == []
    assert query(ws / "lll.db", "SELECT COUNT(*) FROM publications")[0][0] == 0
