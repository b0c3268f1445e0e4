"""The review page in a real browser: Debian's headless Chromium driven by Playwright's
Python package (``executable_path``; ``playwright install`` is never run), against the
real app under uvicorn on a loopback port, publishing to the fake DEV server.

The editor's day: open a draft, read a sentence's source, break a figure, see it
flagged and Approve refused, fix it, approve (a double click), approve again — DEV
holds exactly one draft article. A hostile source and a hostile draft run no script.
``tests/artifacts/review-page.png`` is written for people to look at.

Without Chromium these tests skip locally; under CI (``CI`` set) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import execute, query, scalar
from fakes.forem import FakeForem
from fakes.issue import DAY
from fakes.review import KEY, forem, ws  # noqa: F401 - fixtures

from lll.newsletter import Newsletter
from lll.review import create_app
from lll.review.render import known_sentences
from lll.review.security import Guard
from lll.review.server import bind, new_token, server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--dns-prefetch-disable"]
FIGURE, WRONG = "it scores 83.1%", "it scores 93.1%"
CUT = "It also reaches 93.9% on SWE-bench Verified and 82.0% on Terminal-Bench 2.0. "


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} — CI must run the browser tests: .ci/run installs Debian's chromium and "
                    "`pip install -e .[test]` installs playwright", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _missing("no chromium on PATH (apt-get install chromium)")
    return str(path)


@pytest.fixture
def browser_context(chromium_path: str, ws: Path, tmp_path: Path) -> Iterator[Any]:
    """A fresh Chromium profile that may talk to 127.0.0.1 only (anything else is aborted and recorded).
    ``ws`` first: Playwright's sync API keeps an event loop in this thread, and building the
    demo workspace runs one of its own."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=chromium_path, headless=True, args=FLAGS,
            viewport={"width": 1360, "height": 940})
        context.outside = []  # type: ignore[attr-defined]

        def only_loopback(route: Any) -> None:
            if route.request.url.startswith("http://127.0.0.1:"):
                route.continue_()
            else:
                context.outside.append(route.request.url)  # type: ignore[attr-defined]
                route.abort()

        context.route("**/*", only_loopback)
        try:
            yield context
        finally:
            context.close()


class LiveServer:
    """The review app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.sock = bind(0)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = server(app)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def live(ws: Path, forem: FakeForem) -> Iterator[tuple[LiveServer, str]]:
    token = new_token()
    env = {"LLL_DEVTO_API_KEY": KEY, "LLL_DEVTO_BASE_URL": f"{forem.base}/api"}
    with Newsletter.open(ws) as letter, LiveServer(create_app(letter, token=token, env=env)) as running:
        yield running, token


def span_of(ws: Path, needle: str) -> tuple[str, str, str]:
    """(span text, the words after it, item title) of the provenance sentence containing ``needle``."""
    data = json.loads((ws / "issues" / f"{DAY}.json").read_text(encoding="utf-8"))
    span = next(s for s in known_sentences(data).values() if needle in s["text"])["span"]
    text, title = query(ws / "lll.db", "SELECT text, title FROM items WHERE id = ?", span["item_id"])[0]
    return text[span["start"]:span["end"]], text[span["end"]:span["end"] + 40].split(".")[0].strip(), title


def test_the_editor_reads_breaks_fixes_and_approves_once(browser_context: Any, live: tuple[LiveServer, str],
                                                         ws: Path, forem: FakeForem) -> None:
    from playwright.sync_api import expect

    running, token = live
    page = browser_context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(f"{running.base}/?token={token}")
    assert page.url == f"{running.base}/", "the token leaves the address bar"
    expect(page.locator("table.issues")).to_contain_text("verified")
    page.get_by_role("link", name=DAY).click()
    expect(page.locator("#status")).to_contain_text("Verified")

    # Hover a sentence: its source span, as stored, with the item it comes from.
    span, after, title = span_of(ws, "On CyberGym")
    page.locator("article .sentence", has_text="On CyberGym").hover()
    popover = page.locator("#popover")
    expect(popover).to_be_visible()
    expect(popover.locator("blockquote mark")).to_have_text(span)
    expect(popover).to_contain_text(after)
    expect(popover).to_contain_text(title)

    # A wrong figure: Approve goes off as soon as the text changes; Re-verify flags it.
    editor = page.locator("#markdown")
    original = editor.input_value()
    editor.fill(original.replace(FIGURE, WRONG))
    expect(page.locator("#approve")).to_be_disabled()
    page.locator("#reverify").click()
    flagged = page.locator("article .sentence.flagged")
    expect(flagged).to_have_count(1)
    expect(flagged.locator("mark.claim")).to_have_text("93.1%")
    expect(page.locator("#problems")).to_contain_text("figure 93.1% is not in the cited items")
    expect(page.locator("#approve")).to_be_disabled()
    flagged.click()
    expect(popover).to_contain_text("figure 93.1% is not in the cited items")
    expect(popover.locator("blockquote mark")).to_have_text(span)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "review-page.png"
    page.screenshot(path=str(shot))
    print(f"\nscreenshot of the review page: {shot}")

    # The server refuses it too, whatever the button says.
    page.locator("#approve").evaluate("b => { b.disabled = false; }")
    with page.expect_response(lambda r: r.url.endswith("/approve")) as refused:
        page.locator("#approve").click()
    assert refused.value.status == 409
    expect(page.locator("#error")).to_contain_text("Approval refused")
    assert forem.calls == [], "nothing reached DEV"

    # Fixed (and a sentence cut): verified, then approved with a double click.
    page.locator("#markdown").fill(original.replace(CUT, ""))
    page.locator("#reverify").click()
    expect(page.locator("#status")).to_contain_text("Verified")
    expect(page.locator("#approve")).to_be_enabled()
    page.locator("#approve").dblclick()
    expect(page.locator("#receipts")).to_contain_text("devto")
    expect(page.locator("#notice")).to_contain_text("Approved and published")
    [article] = forem.mine()
    assert article["published"] is False and "most capable model" not in article["body_markdown"]
    assert (ws / "issues" / f"{DAY}.md").read_text(encoding="utf-8") == original.replace(CUT, "")
    assert len(list((ws / "issues" / "history").iterdir())) == 1
    expect(page.locator("#publish")).to_contain_text("draft")

    page.screenshot(path=str(ARTIFACTS / "review-approved.png"))
    page.locator("#approve").click()
    expect(page.locator("#receipts")).to_contain_text("unchanged")
    assert len(forem.mine()) == 1 and forem.count("POST", "/api/articles") == 1
    assert dialogs == [] and browser_context.outside == []


def test_hostile_source_html_and_markdown_run_no_script(browser_context: Any, live: tuple[LiveServer, str],
                                                        ws: Path) -> None:
    from playwright.sync_api import expect

    running, token = live
    data = json.loads((ws / "issues" / f"{DAY}.json").read_text(encoding="utf-8"))
    span = next(s for s in known_sentences(data).values() if "On CyberGym" in s["text"])["span"]
    hostile = ('<script>window.pwned="script"</script><img src=x onerror="window.pwned=\'img\'">'
               '<svg onload="window.pwned=\'svg\'"></svg><iframe src="javascript:parent.pwned=\'frame\'"></iframe>'
               '[click](javascript:window.pwned="md-link") <a href="javascript:window.pwned=\'a\'">raw</a> '
               '<style>body{background:url(javascript:window.pwned="css")}</style>')
    db = ws / "lll.db"
    text = scalar(db, "SELECT text FROM items WHERE id = ?", span["item_id"])
    execute(db, "UPDATE items SET text = ?, title = ? WHERE id = ?",
            text[:span["start"]] + hostile + " " + text[span["start"]:], "Glasswing " + hostile, span["item_id"])
    execute(db, "UPDATE sources SET name = name || ? WHERE id = (SELECT source_id FROM items WHERE id = ?)",
            hostile, span["item_id"])
    path = ws / "issues" / f"{DAY}.md"
    markdown = path.read_text(encoding="utf-8").replace(CUT, f"{CUT}{hostile}. ")
    path.write_text(markdown.replace("## Project Glasswing", f"## Project Glasswing {hostile}"), encoding="utf-8")

    page = browser_context.new_page()
    events: list[str] = []
    page.on("dialog", lambda d: (events.append("dialog " + d.message), d.dismiss()))
    page.on("console", lambda m: events.append("console " + m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{running.base}/issues/{DAY}?token={token}")
    expect(page.locator("article")).to_contain_text('<script>window.pwned="script"</script>')  # shown as text

    for needle in ("On CyberGym", "window.pwned"):
        page.keyboard.press("Escape")  # the open card may sit over the next sentence
        page.locator("article .sentence", has_text=needle).first.click()
        expect(page.locator("#popover")).to_be_visible()
    expect(page.locator("#popover")).to_contain_text("Edited — not in provenance")
    page.keyboard.press("Escape")  # the edited sentence's card may sit over the one clicked next
    page.locator("article .sentence", has_text="On CyberGym").click()
    expect(page.locator("#popover blockquote")).to_contain_text("<script>")  # the span, as text
    page.keyboard.press("Escape")
    expect(page.locator("#popover")).to_be_hidden()
    page.get_by_text("[click](javascript").first.click()
    page.locator("#markdown").fill(page.locator("#markdown").input_value() + "\n" + hostile + "\n")
    page.locator("#reverify").click()
    expect(page.locator("#notice")).to_contain_text("nothing was saved")
    page.wait_for_timeout(300)

    assert page.evaluate("() => window.pwned === undefined && parent.pwned === undefined")
    active = page.evaluate("""() => {
        const found = [];
        for (const s of document.scripts) if (!s.src.endsWith('/static/review.js')) found.push('script');
        for (const el of document.querySelectorAll('*')) {
            for (const a of el.attributes) {
                if (a.name.startsWith('on')) found.push(el.tagName + ' ' + a.name);
                if (/^\\s*javascript:/i.test(a.value)) found.push(el.tagName + ' ' + a.name + '=' + a.value);
            }
            if (['IFRAME', 'SVG', 'IMG', 'OBJECT', 'EMBED', 'STYLE'].includes(el.tagName.toUpperCase())) found.push(el.tagName);
        }
        return found;
    }""")
    assert active == [], active
    assert events == [], events
    assert browser_context.outside == [], "the page made no request beyond the review server"


def test_concurrent_approvals_make_one_article(live: tuple[LiveServer, str], forem: FakeForem) -> None:
    """Two approvals at the same moment (two tabs, a double submit): one article on DEV."""
    running, token = live
    form = {"csrf": Guard(token).csrf}

    def approve(_: int) -> int:
        response = httpx.post(f"{running.base}/issues/{DAY}/approve?token={token}", data=form,
                              headers={"Origin": running.base}, timeout=30)
        return response.status_code

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(approve, range(2))) == [200, 200]
    assert len(forem.mine()) == 1 and forem.count("POST", "/api/articles") == 1
