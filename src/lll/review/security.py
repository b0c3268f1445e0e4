"""Who may use the review page: whoever holds the per-run token that ``lll serve`` printed.

- The token arrives once in the URL (``?token=…``); the answer sets it as an HttpOnly,
  SameSite=Strict cookie and redirects to the same address without it (so it leaves the
  address bar and the history).
- Every request needs the token (cookie or query): 403 otherwise, static files included.
- A request must name this machine in ``Host`` (127.0.0.1 or localhost): a page on another
  site cannot reach the server through DNS rebinding.
- A POST must come from this origin (``Origin`` / ``Sec-Fetch-Site``) and carry the form's
  CSRF field (checked where the form is read: ``Guard.check_form``).
- Every answer carries a Content-Security-Policy that allows scripts from this server
  only: even if markup got through the sanitizer, an inline script could not run.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable, Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # other sites get no referrer; our own posts keep their Origin
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
MAX_BODY = 4_000_000  # bytes
LOCAL_HOSTS = ("127.0.0.1", "localhost")

Handler = Callable[[Request], Awaitable[Response]]


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Guard:
    """The checks above, for one run's ``token``."""

    def __init__(self, token: str, hosts: Iterable[str] = LOCAL_HOSTS) -> None:
        if len(token) < 16:
            raise ValueError("the review token must be long and random (secrets.token_urlsafe)")
        self.token = token
        self.hosts = frozenset(h.lower() for h in hosts)
        digest = hashlib.sha256(token.encode()).hexdigest()
        self.cookie = f"lll_review_{digest[:10]}"  # one name per run: two servers never share a cookie
        self.csrf = hmac.new(token.encode(), b"csrf", hashlib.sha256).hexdigest()

    def host_ok(self, request: Request) -> bool:
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        return name.lower() in self.hosts

    def origin_ok(self, request: Request) -> bool:
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        origin = request.headers.get("origin")
        return origin is None or origin == f"{request.url.scheme}://{request.headers.get('host', '')}"

    def check_form(self, form: Mapping[str, str]) -> bool:
        return _same(form.get("csrf"), self.csrf)

    async def __call__(self, request: Request, call_next: Handler) -> Response:
        response = await self._admit(request, call_next)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _admit(self, request: Request, call_next: Handler) -> Response:
        if not self.host_ok(request):
            return _forbidden("this server answers on 127.0.0.1 only")
        by_query = _same(request.query_params.get("token"), self.token)
        if not by_query and not _same(request.cookies.get(self.cookie), self.token):
            return _forbidden("open the address that `lll serve` printed: it carries this run's token")
        if request.method not in ("GET", "HEAD"):
            if not self.origin_ok(request):
                return _forbidden("a form on another site cannot post to the review page")
            if int(request.headers.get("content-length") or 0) > MAX_BODY:
                return PlainTextResponse("413: too large for an issue\n", status_code=413)
        if by_query and request.method == "GET":
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
        else:
            response = await call_next(request)
        if by_query:
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="strict", path="/")
        return response


def _forbidden(why: str) -> Response:
    return PlainTextResponse(f"403 Forbidden: {why}\n", status_code=403)
