"""The review page's library and HTTP surface, without a browser: the token and CSRF
rules, what Re-verify, Save and Approve write (and refuse to), the sentence ↔ provenance
mapping after edits, and that third-party text comes out as text, never as markup.
The browser-driven tests are in ``test_review_browser.py``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import lxml.html
import pytest
from fakes.forem import FakeForem
from fakes.issue import DAY
from fakes.review import KEY, forem, ws  # noqa: F401 - fixtures
from fastapi.testclient import TestClient

from lll.newsletter import Newsletter
from lll.review import create_app
from lll.review.render import known_sentences, render_article, split_known
from lll.review.security import Guard
from lll.review.service import cost_line
from lll.store.issue_texts import IssueTexts
from lll.verify.verifier import Failure

TOKEN = "test-token-" + "x" * 32
ORIGIN = "http://127.0.0.1:8765"
FIGURE = "it scores 83.1%"
HOSTILE = ('<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> '
           '[click](javascript:window.pwned=3) <a href="javascript:window.pwned=4">raw</a>')


@pytest.fixture
def client(ws: Path, forem: FakeForem) -> Iterator[TestClient]:
    env = {"LLL_DEVTO_API_KEY": KEY, "LLL_DEVTO_BASE_URL": f"{forem.base}/api"}
    with Newsletter.open(ws) as letter:
        app = create_app(letter, token=TOKEN, env=env)
        with TestClient(app, base_url=ORIGIN, follow_redirects=False) as c:
            assert c.get(f"/?token={TOKEN}").status_code == 303  # the cookie from here on
            yield c


def issue_text(ws: Path) -> str:
    return (ws / "issues" / f"{DAY}.md").read_text(encoding="utf-8")


def sentences(doc: lxml.html.HtmlElement, *classes: str) -> list[lxml.html.HtmlElement]:
    """The article's sentence elements that carry every one of ``classes``."""
    tests = "".join(f"[contains(concat(' ', @class, ' '), ' {c} ')]" for c in ("sentence", *classes))
    return list(doc.xpath(f"//article//span{tests}"))


def post(client: TestClient, action: str, markdown: str | None = None, **headers: str) -> httpx.Response:
    data = {"csrf": Guard(TOKEN).csrf}
    if markdown is not None:
        data["markdown"] = markdown
    return client.post(f"/issues/{DAY}/{action}", data=data, headers={"Origin": ORIGIN, **headers})


# -- the token ---------------------------------------------------------------------------------------


def test_every_request_needs_the_token(ws: Path) -> None:
    with Newsletter.open(ws) as letter:
        app = create_app(letter, token=TOKEN)
        with TestClient(app, base_url=ORIGIN, follow_redirects=False) as c:
            for path in ("/", f"/issues/{DAY}", "/static/review.js", "/static/review.css", "/nowhere"):
                assert c.get(path).status_code == 403, path
            assert c.get("/?token=wrong-" + "y" * 30).status_code == 403
            assert c.post(f"/issues/{DAY}/approve", data={"csrf": Guard(TOKEN).csrf}).status_code == 403

            first = c.get(f"/issues/{DAY}?token={TOKEN}")
            assert first.status_code == 303 and first.headers["location"] == f"/issues/{DAY}", \
                "the token leaves the address bar at once"
            cookie = first.headers["set-cookie"]
            assert TOKEN in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
            page = c.get(f"/issues/{DAY}")
            assert page.status_code == 200 and "Large Language Letters 04/10/2026" in page.text
            assert c.get("/static/review.js").status_code == 200

            csp = page.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
            assert page.headers["referrer-policy"] == "same-origin" and page.headers["x-frame-options"] == "DENY"


def test_another_host_name_is_refused_even_with_the_token(ws: Path) -> None:
    """DNS rebinding: a page on evil.example that resolves to 127.0.0.1 still says evil.example."""
    with Newsletter.open(ws) as letter, TestClient(create_app(letter, token=TOKEN), base_url="http://evil.example:8765",
                                                   follow_redirects=False) as c:
        assert c.get(f"/?token={TOKEN}").status_code == 403


def test_cross_site_posts_and_posts_without_the_csrf_field_are_refused(client: TestClient, ws: Path,
                                                                      forem: FakeForem) -> None:
    before = issue_text(ws)
    edited = before.replace("Mythos Preview is the most capable model we have built for security work. ", "")
    assert post(client, "save", edited, Origin="http://evil.example").status_code == 403
    assert post(client, "save", edited, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert post(client, "approve", Origin="null").status_code == 403
    no_csrf = client.post(f"/issues/{DAY}/save", data={"markdown": edited}, headers={"Origin": ORIGIN})
    assert no_csrf.status_code == 403
    wrong = client.post(f"/issues/{DAY}/approve", data={"csrf": "0" * 64}, headers={"Origin": ORIGIN})
    assert wrong.status_code == 403
    assert issue_text(ws) == before and forem.calls == []


# -- re-verify, save, approve ----------------------------------------------------------------------


def test_reverify_flags_the_claim_and_writes_nothing(client: TestClient, ws: Path) -> None:
    before = issue_text(ws)
    page = post(client, "verify", before.replace(FIGURE, "it scores 93.1%"))
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.text)
    [flagged] = sentences(doc, "flagged")
    assert "93.1%" in flagged.text_content() and flagged.xpath(".//mark[@class='claim']")[0].text == "93.1%"
    assert "figure 93.1% is not in the cited items" in doc.get_element_by_id("problems").text_content()
    assert doc.get_element_by_id("approve").get("disabled") is not None
    assert issue_text(ws) == before, "Re-verify never writes"
    assert not (ws / "issues" / "history").exists()


def test_approve_is_refused_with_409_when_the_text_fails_and_nothing_is_sent(client: TestClient, ws: Path,
                                                                            forem: FakeForem) -> None:
    before = issue_text(ws)
    refused = post(client, "approve", before.replace(FIGURE, "it scores 93.1%"))
    assert refused.status_code == 409
    assert "Approval refused" in refused.text and "figure 93.1%" in refused.text
    assert issue_text(ws) == before and forem.calls == []

    # The saved file itself fails: Approve without a text is refused too.
    assert post(client, "save", before.replace(FIGURE, "it scores 93.1%")).status_code == 303
    assert post(client, "approve").status_code == 409
    assert forem.calls == [] and forem.mine() == []
    rows = sqlite3.connect(ws / "lll.db").execute("SELECT count(*) FROM publications").fetchone()
    assert rows == (0,), "a refused approval leaves no ledger row"


def test_save_is_atomic_keeps_the_previous_text_and_approve_publishes_once(client: TestClient, ws: Path,
                                                                           forem: FakeForem) -> None:
    before = issue_text(ws)
    edited = before.replace("Mythos Preview is the most capable model we have built for security work. ", "")
    assert edited != before
    saved = post(client, "save", edited.replace("\n", "\r\n"))  # as a browser sends a textarea
    assert saved.status_code == 303 and saved.headers["location"].startswith(f"/issues/{DAY}?saved=")
    assert issue_text(ws) == edited, "CRLF from the browser is stored as LF"
    [backup] = (ws / "issues" / "history").iterdir()
    assert backup.read_text(encoding="utf-8") == before and backup.name.startswith(DAY)
    assert not list((ws / "issues").glob("*.tmp"))
    shown = client.get(saved.headers["location"])
    assert "the previous text is in issues/history/" in shown.text

    first = post(client, "approve")
    assert first.status_code == 200 and "devto" in first.text
    [article] = forem.mine()
    assert article["published"] is False and "most capable model" not in article["body_markdown"]
    again = post(client, "approve", edited)
    assert again.status_code == 200 and "unchanged" in again.text
    assert len(forem.mine()) == 1 and forem.count("POST", "/api/articles") == 1
    index = client.get("/")
    assert "devto: draft" in index.text and "edited" in index.text


@pytest.mark.parametrize("key", [KEY, "wrong-key-0987654321"])
def test_no_api_key_reaches_the_page_or_the_workspace(ws: Path, forem: FakeForem, key: str) -> None:
    env = {"LLL_DEVTO_API_KEY": key, "LLL_DEVTO_BASE_URL": f"{forem.base}/api"}
    pages: list[str] = []
    with Newsletter.open(ws) as letter:
        app = create_app(letter, token=TOKEN, env=env)
        with TestClient(app, base_url=ORIGIN, follow_redirects=False) as c:
            c.get(f"/?token={TOKEN}")
            pages.append(c.get(f"/issues/{DAY}").text)
            edited = issue_text(ws).replace("Mythos Preview is the most capable model we have built for security work. ", "")
            pages.append(post(c, "save", edited).text)
            answer = post(c, "approve")
            pages += [answer.text, c.get("/").text, c.get(f"/issues/{DAY}").text]
    if key == KEY:
        assert answer.status_code == 200 and len(forem.mine()) == 1
    else:
        assert forem.mine() == [] and "LLL_DEVTO_API_KEY" in answer.text  # says which setting to fix
    assert not any(key in page for page in pages)
    files = [f for f in ws.rglob("*") if f.is_file()]
    assert any(f.parent.name == "history" for f in files) and (ws / "lll.db").is_file()
    leaked = [str(f) for f in files if key.encode() in f.read_bytes()]
    assert leaked == []


def test_approve_without_targets_is_refused_clearly(ws: Path) -> None:
    (ws / "lll.toml").write_text((ws / "lll.toml").read_text().replace('targets = ["devto"]', ""), encoding="utf-8")
    with Newsletter.open(ws) as letter, TestClient(create_app(letter, token=TOKEN), base_url=ORIGIN) as c:
        c.get(f"/?token={TOKEN}")
        page = c.get(f"/issues/{DAY}")
        assert "no publishing targets" in page.text
        assert lxml.html.fromstring(page.text).get_element_by_id("approve").get("disabled") is not None
        refused = post(c, "approve")
        assert refused.status_code == 409 and "no publishing targets" in refused.text


def test_unknown_dates_and_bad_dates_are_answered_plainly(client: TestClient) -> None:
    assert client.get("/issues/2026-01-01").status_code == 404
    assert client.get("/issues/..%2F..%2Fetc").status_code in (400, 404)
    assert client.get("/issues/not-a-date").status_code == 400


# -- what the page shows ---------------------------------------------------------------------------


def test_a_sentence_card_shows_the_stored_span_and_its_item(client: TestClient, ws: Path) -> None:
    data = json.loads((ws / "issues" / f"{DAY}.json").read_text(encoding="utf-8"))
    sentence = next(s for s in known_sentences(data).values() if "On CyberGym" in s["text"])
    span = sentence["span"]
    item_text, title = sqlite3.connect(ws / "lll.db").execute(
        "SELECT text, title FROM items WHERE id = ?", (span["item_id"],)).fetchone()
    doc = lxml.html.fromstring(client.get(f"/issues/{DAY}").text)
    [element] = [s for s in sentences(doc) if "On CyberGym" in s.text_content()]
    card = doc.get_element_by_id("card-" + element.get("id"))
    assert card.xpath(".//blockquote//mark")[0].text_content() == item_text[span["start"]:span["end"]]
    assert item_text[span["end"]:span["end"] + 30].strip()[:20] in card.text_content(), "context after the span"
    assert title in card.text_content() and "Anthropic News" in card.text_content()
    assert doc.get_element_by_id("cost").text_content().strip().endswith("offline, $0.00")
    left_out = doc.get_element_by_id("left-out").text_content()
    assert "Left out (6)" in left_out and "below the cut" in left_out


def test_edited_sentences_say_so_and_a_missing_provenance_file_is_no_crash(client: TestClient, ws: Path) -> None:
    text = issue_text(ws).replace("Mythos Preview is the most capable model we have built for security work.",
                                  "Mythos Preview is, by Anthropic's account, its best security model.")
    doc = lxml.html.fromstring(post(client, "verify", text).text)
    [edited] = [s for s in sentences(doc, "edited") if "best security model" in s.text_content()]
    assert "Edited — not in provenance" in doc.get_element_by_id("card-" + edited.get("id")).text_content()
    assert not [s for s in sentences(doc, "edited") if "On CyberGym" in s.text_content()], \
        "the sentences around an edit keep their provenance"

    (ws / "issues" / f"{DAY}.json").unlink()  # an issue with no provenance (the database holds none either)
    with Newsletter.open(ws) as letter:
        IssueTexts(letter.store).put(DAY, issue_text(ws), document="", origin="draft")
    page = client.get(f"/issues/{DAY}")
    assert page.status_code == 200 and "Left out (0)" in page.text
    assert sentences(lxml.html.fromstring(page.text), "edited")


def test_hostile_source_text_and_markdown_come_out_as_text(client: TestClient, ws: Path) -> None:
    data = json.loads((ws / "issues" / f"{DAY}.json").read_text(encoding="utf-8"))
    span = next(s for s in known_sentences(data).values() if "On CyberGym" in s["text"])["span"]
    db = sqlite3.connect(ws / "lll.db")
    text, = db.execute("SELECT text FROM items WHERE id = ?", (span["item_id"],)).fetchone()
    db.execute("UPDATE items SET text = ?, title = ?, url = ? WHERE id = ?",
               (text[:span["start"]] + HOSTILE + " " + text[span["start"]:], "Title " + HOSTILE,
                "javascript:window.pwned=5", span["item_id"]))
    db.commit()
    db.close()
    markdown = issue_text(ws).replace("## Project Glasswing", f"## Project Glasswing {HOSTILE}")
    markdown = markdown.replace("Mythos Preview is the most", f"{HOSTILE} Mythos Preview is the most")
    (ws / "issues" / f"{DAY}.md").write_text(markdown, encoding="utf-8")

    page = client.get(f"/issues/{DAY}")
    assert page.status_code == 200
    assert_inert(page.text)
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page.text, "shown to the editor as text"


def assert_inert(html: str) -> None:
    """No script but the page's own file, no handler attribute, no javascript: URL."""
    doc = lxml.html.fromstring(html)
    assert [s.get("src") for s in doc.iter("script")] == ["/static/review.js"]
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name, value)
            assert not value.strip().lower().startswith(("javascript:", "data:", "vbscript:")), (element.tag, name)
        assert element.tag not in ("iframe", "object", "embed", "img", "svg", "math", "form") or \
            element.get("id") == "editor", element.tag


# -- pure parts ------------------------------------------------------------------------------------


def test_split_known_takes_provenance_sentences_and_marks_the_rest_edited() -> None:
    known = {"[A](https://a.example/1) reported:": {"role": "attribution"},
             "Figures rose 12% in May.": {"role": "source"}}
    parts = split_known("[A](https://a.example/1) reported: Figures rose 12% in May. A new thought. Again.", known)
    assert [(text, p and p["role"]) for text, p in parts] == [
        ("[A](https://a.example/1) reported:", "attribution"), ("Figures rose 12% in May.", "source"),
        ("A new thought.", None), ("Again.", None)]


def test_render_marks_the_failing_claim_outside_link_urls() -> None:
    body = "Intro.\n\n[Report 2026](https://x.example/2026) says 2026 was big. Next one.\n"
    failure = Failure("section 0, paragraph 2", "[Report 2026](https://x.example/2026) says 2026 was big.", "2026",
                      "figure", "figure 2026 is not in the cited items")
    article = render_article(body, {}, [failure])
    assert '<mark class="claim">2026</mark>' in article.html and 'href="https://x.example/2026"' in article.html
    assert [s.failures != () for s in article.sentences] == [False, True, False]
    assert article.anchors == {0: "s-2"}


def test_cost_line() -> None:
    assert cost_line({"model_calls": 0, "usd": 0.0}, "offline") == "offline, $0.00"
    line = cost_line({"model_calls": 7, "cached_calls": 2, "tokens_in": 12000, "tokens_out": 3400, "usd": 0.01234},
                     "llm")
    assert line == "$0.0123 · 7 model call(s) (2 cached) · 12,000 tokens in, 3,400 out · llm writer"


# -- the command ---------------------------------------------------------------------------------------


def test_lll_serve_binds_loopback_and_prints_a_tokened_address(ws: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "lll", "--workspace", str(ws), "serve", "--port", "0",
                             "--date", DAY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("Review page: http://127.0.0.1:") and f"/issues/{DAY}?token=" in line, line
        url = line.removeprefix("Review page: ")
        base, token = url.split(f"/issues/{DAY}?token=")
        assert len(token) >= 40
        assert httpx.get(f"{base}/issues/{DAY}").status_code == 403
        with httpx.Client(follow_redirects=True) as c:
            page = c.get(url)
            assert page.status_code == 200 and str(page.url) == f"{base}/issues/{DAY}"
            assert "Verified" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
