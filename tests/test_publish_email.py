"""Email through a real SMTP server on 127.0.0.1 (aiosmtpd) that receives real messages:
one per recipient, text before HTML, one-click unsubscribe headers, refused recipients
reported, and never a second email to anyone."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.issue import BASE_URL, DAY, drop_paragraph, workspace_copy
from fakes.smtp import DroppingSmtp, FakeSmtp

from conftest import query
from lll.errors import PublishError, PublishSettingsError
from lll.newsletter import Newsletter
from lll.publish import Publishing, Receipt

SECRET = "unsubscribe-secret-for-tests-0123456789"
PEOPLE = ["ada@example.org", "bob@example.org", "cy@example.org"]
CLAUDEONOMICS = "[The Algorithmic Bridge](https://www.thealgorithmicbridge.com/p/chain-of-thought-is-scaffolding)"


def email_toml(recipients: list[str]) -> str:
    listed = ", ".join(f'"{r}"' for r in recipients)
    return f"""
[email]
sender = "Large Language Letters <letters@example.org>"
recipients = [{listed}]
unsubscribe_url = "https://letters.example.org/unsubscribe/{{token}}"
unsubscribe_mailto = "unsubscribe@example.org"
"""


@pytest.fixture
def ws(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return workspace_copy(tmp_path_factory, tmp_path / "ws", email_toml(PEOPLE))


def publish(ws: Path, smtp_url: str, **kwargs: object) -> Receipt:
    env = {"LLL_SMTP_URL": smtp_url, "LLL_UNSUBSCRIBE_SECRET": SECRET}
    with Newsletter.open(ws) as letter:
        return Publishing(letter, env=env, sleep=lambda s: None).publish(DAY, "email", **kwargs)  # type: ignore[arg-type]


def states(ws: Path) -> dict[str, str]:
    return {r["target"]: r["state"] for r in query(ws / "lll.db", "SELECT target, state FROM publications")}


def test_one_multipart_message_per_recipient_with_one_click_unsubscribe(ws: Path) -> None:
    with FakeSmtp() as smtp:
        receipt = publish(ws, smtp.url)
    assert (receipt.action, receipt.state) == ("sent", "sent")
    assert sorted(tuple(r.rcpt_tos) for r in smtp.received) == [(p,) for p in PEOPLE]
    tokens = set()
    for got in smtp.received:
        msg = got.message
        rcpt = got.rcpt_tos[0]
        assert got.mail_from == "letters@example.org" and msg["To"] == rcpt
        assert msg["Subject"] == "Large Language Letters 04/10/2026"
        assert msg.get_content_type() == "multipart/alternative"
        parts = list(msg.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"], "text first, HTML last"
        text, html = parts[0].get_content(), parts[1].get_content()
        one_click = msg["List-Unsubscribe"].split(",")[0].strip().strip("<>")
        assert one_click.startswith("https://letters.example.org/unsubscribe/")
        assert "mailto:unsubscribe@example.org" in msg["List-Unsubscribe"]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert b"List-Unsubscribe: <https://" in got.content, "not folded (folding has broken DKIM)"
        assert one_click in text and one_click in html, "both parts carry the same unsubscribe link"
        assert "Project Glasswing" in text and "Project Glasswing" in html
        assert "[Anthropic News](" not in text and "Anthropic News (https://www.anthropic.com/glasswing)" in text
        assert f"{BASE_URL}/{DAY}.html" in text
        assert "<script" not in html
        tokens.add(one_click)
    assert len(tokens) == 3, "a token per recipient"
    ids = {r["target"]: r["remote_id"] for r in query(ws / "lll.db", "SELECT * FROM publications")}
    assert {ids[f"email:{p}"] for p in PEOPLE} == {r.message["Message-ID"] for r in smtp.received}
    assert states(ws) == {"email": "sent", **{f"email:{p}": "sent" for p in PEOPLE}}


def test_rerun_sends_nothing_a_new_recipient_gets_one_and_an_edit_is_never_resent(ws: Path) -> None:
    with FakeSmtp() as smtp:
        publish(ws, smtp.url)
        again = publish(ws, smtp.url)
        assert again.action == "unchanged" and len(smtp.received) == 3
        drop_paragraph(ws, CLAUDEONOMICS)
        edited = publish(ws, smtp.url)
        assert edited.action == "unchanged" and len(smtp.received) == 3
        assert "cannot be updated" in edited.message
        (ws / "lll.toml").write_text((ws / "lll.toml").read_text().replace(
            '"cy@example.org"]', '"cy@example.org", "dee@example.org"]'))
        added = publish(ws, smtp.url)
        assert len(smtp.received) == 4 and smtp.received[-1].rcpt_tos == ["dee@example.org"]
        assert added.state == "sent" and "4 of 4" in added.message


def test_refused_recipients_are_reported_and_busy_ones_retried(ws: Path) -> None:
    with FakeSmtp(refuse={"bob@example.org"}, busy={"cy@example.org"}) as smtp:
        receipt = publish(ws, smtp.url)
        assert receipt.state == "partial" and not receipt.ok
        assert any(line.startswith("refused: bob@example.org (550") for line in receipt.details)
        assert "bob@example.org: refused" in receipt.message
        assert [r.rcpt_tos for r in smtp.received] == [["ada@example.org"]]
        assert states(ws)["email:bob@example.org"] == "refused"
        assert states(ws)["email:cy@example.org"] == "failed"
        [summary] = query(ws / "lll.db", "SELECT * FROM publications WHERE target = 'email'")
        assert summary["state"] == "partial" and "bob@example.org" in summary["error"]
        smtp.handler.busy.clear()
        again = publish(ws, smtp.url)
        assert [r.rcpt_tos for r in smtp.received] == [["ada@example.org"], ["cy@example.org"]]
        assert again.state == "partial"  # bob stays refused: a 5xx is permanent


def test_a_connection_lost_after_the_message_went_out_is_never_resent(ws: Path) -> None:
    with DroppingSmtp() as dropping:
        receipt = publish(ws, dropping.url)
    assert len(dropping.messages) == 1 and receipt.state == "partial"
    assert states(ws)["email:ada@example.org"] == "unclear"
    assert states(ws)["email:bob@example.org"] == "failed" and states(ws)["email:cy@example.org"] == "failed"
    with FakeSmtp() as smtp:
        publish(ws, smtp.url)
    assert [r.rcpt_tos for r in smtp.received] == [["bob@example.org"], ["cy@example.org"]]
    assert states(ws)["email:ada@example.org"] == "unclear"


def test_smtp_login_and_a_password_that_never_leaks(ws: Path) -> None:
    password = "s3cret-pass-word"
    with FakeSmtp(login=("news", password)) as smtp:
        receipt = publish(ws, smtp.url)
        assert smtp.handler.logins == ["news"] and len(smtp.received) == 3
        drop_paragraph(ws, CLAUDEONOMICS)
        wrong = smtp.url.replace(password, "wrong-password-1")
        (ws / "lll.toml").write_text((ws / "lll.toml").read_text().replace(
            '"cy@example.org"]', '"cy@example.org", "dee@example.org"]'))
        with pytest.raises(PublishError) as caught:
            publish(ws, wrong)
    assert "wrong-password-1" not in str(caught.value) and "127.0.0.1" in str(caught.value)
    assert "LLL_SMTP_URL" in str(caught.value)
    assert password not in receipt.summary_line() + repr(receipt)
    for path in ws.glob("lll.db*"):
        data = path.read_bytes()
        assert password.encode() not in data and b"wrong-password-1" not in data and SECRET.encode() not in data


def test_missing_settings_are_one_line_each(ws: Path, tmp_path_factory: pytest.TempPathFactory,
                                            tmp_path: Path) -> None:
    with Newsletter.open(ws) as letter:
        with pytest.raises(PublishSettingsError, match="set LLL_SMTP_URL"):
            Publishing(letter, env={"LLL_UNSUBSCRIBE_SECRET": SECRET}).publish(DAY, "email")
        with pytest.raises(PublishSettingsError, match="set LLL_UNSUBSCRIBE_SECRET"):
            Publishing(letter, env={"LLL_SMTP_URL": "smtp://127.0.0.1:25"}).publish(DAY, "email")
    bare = workspace_copy(tmp_path_factory, tmp_path / "bare")
    with Newsletter.open(bare) as letter, pytest.raises(PublishSettingsError, match=r"set \[email\] sender"):
        Publishing(letter, env={"LLL_SMTP_URL": "smtp://127.0.0.1:25",
                                "LLL_UNSUBSCRIBE_SECRET": SECRET}).publish(DAY, "email")
