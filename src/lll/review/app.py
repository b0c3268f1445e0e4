"""The review page: a FastAPI app over ``Review``. Thin: read the request, make one
library call, render a template. Pages are plain HTML forms; ``static/review.js`` adds
the source cards on hover or click and keeps Approve off while the text has unchecked edits.

    GET  /                       the drafted issues: verification now, publication per target
    GET  /issues/DATE            the issue: article, problems, left out, cost, editor
    POST /issues/DATE/verify     verify the editor's text (nothing is written)
    POST /issues/DATE/save       write it to issues/DATE.md (the previous text kept in issues/history/)
    POST /issues/DATE/approve    verify, save, publish to the targets; 409 when it fails verification
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from lll.errors import LLLError, VerificationError
from lll.newsletter import Newsletter
from lll.review.security import LOCAL_HOSTS, MAX_BODY, Guard
from lll.review.service import Approval, IssueNotFound, Review

HERE = Path(__file__).parent


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["article"] = lambda html: Markup(html)  # already sanitized by render.sanitize
    return env


def create_app(letter: Newsletter, *, token: str, targets: Sequence[str] | None = None,
               env: Mapping[str, str] | None = None, hosts: Sequence[str] = LOCAL_HOSTS) -> FastAPI:
    """The review app of one newsletter. ``token``: this run's secret (every request must
    carry it); ``targets``/``env``: where Approve publishes and where it reads keys."""
    review = Review(letter, targets=targets, env=env)
    guard = Guard(token, hosts)
    pages = _templates()
    app = FastAPI(title="LLL review", docs_url=None, redoc_url=None, openapi_url=None)
    app.middleware("http")(guard)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    newsletter = letter.config.newsletter.name

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = pages.get_template(name).render(newsletter=newsletter, csrf=guard.csrf, **context)
        return HTMLResponse(html, status_code=status)

    async def form(request: Request) -> dict[str, str]:
        body = await request.body()
        if len(body) > MAX_BODY:
            raise _Refused(413, "too large for an issue")
        try:
            parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
        except ValueError as exc:  # more fields than any form of the page has
            raise _Refused(400, "too many form fields") from exc
        fields = {k: v[-1] for k, v in parsed.items()}
        if not guard.check_form(fields):
            raise _Refused(403, "the form's CSRF field is missing or wrong: reload the page")
        return fields

    def issue_page(day: str, markdown: str | None = None, *, status: int = 200, notice: str = "",
                   error: str = "", approval: Approval | None = None) -> HTMLResponse:
        view = review.view(day, markdown)
        return page("issue.html", status, view=view, notice=notice, error=error, approval=approval)

    @app.exception_handler(_Refused)
    async def refused(_request: Request, exc: _Refused) -> Response:
        return PlainTextResponse(f"{exc.status}: {exc}\n", status_code=exc.status)

    @app.exception_handler(IssueNotFound)
    async def not_found(_request: Request, exc: IssueNotFound) -> Response:
        return page("message.html", 404, title="No such issue", message=str(exc))

    @app.exception_handler(LLLError)
    async def bad_input(_request: Request, exc: LLLError) -> Response:
        return page("message.html", 400, title="Cannot do that", message=str(exc))

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return page("index.html", issues=review.summaries(), targets=review.targets)

    @app.get("/issues/{day}", response_class=HTMLResponse)
    def show(day: str, saved: str = "") -> HTMLResponse:
        notice = ""
        if saved == "unchanged":
            notice = "Nothing to save: the file already holds this text."
        elif saved:
            notice = f"Saved issues/{day}.md; the previous text is in issues/history/{saved}."
        return issue_page(day, notice=notice)

    @app.post("/issues/{day}/verify", response_class=HTMLResponse)
    async def verify(day: str, request: Request) -> HTMLResponse:
        fields = await form(request)
        return await run_in_threadpool(issue_page, day, fields.get("markdown"),
                                       notice="Checked the text in the editor; nothing was saved.")

    @app.post("/issues/{day}/save")
    async def save(day: str, request: Request) -> Response:
        fields = await form(request)
        if "markdown" not in fields:
            raise _Refused(400, "no markdown field")
        saved = await run_in_threadpool(review.save, day, fields["markdown"])
        where = saved.backup.name if saved.backup else "unchanged"
        return RedirectResponse(f"/issues/{day}?saved={where}", status_code=303)

    @app.post("/issues/{day}/approve", response_class=HTMLResponse)
    async def approve(day: str, request: Request) -> HTMLResponse:
        fields = await form(request)
        markdown = fields.get("markdown")
        try:
            approval = await run_in_threadpool(review.approve, day, markdown)
        except VerificationError as exc:
            return await run_in_threadpool(issue_page, day, markdown, status=409,
                                           error=f"Approval refused: {exc}")
        except IssueNotFound:
            raise
        except LLLError as exc:  # no targets, a busy workspace
            return await run_in_threadpool(issue_page, day, markdown, status=409, error=str(exc))
        notice = "Approved and published." if approval.ok else "Approved; some targets did not take it (below)."
        return await run_in_threadpool(issue_page, day, status=200, notice=notice, approval=approval)

    return app
