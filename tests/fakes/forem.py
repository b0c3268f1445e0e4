"""A fake DEV Community (Forem API v1) that follows publishing-contracts.md §1.11.

Behaviours: ``api-key`` auth (401 JSON with ``Cache-Control: no-store``); the v1 Accept
header recorded; the ``{"article": …}`` envelope (else 422); unknown keys and a *string*
``tags`` dropped without an error; validation (title ≤128, ≤4 alphanumeric tags,
canonical_url unique and http(s), (user, title, body_markdown) unique, main_image
http(s)); front matter in ``body_markdown`` overriding the JSON fields, malformed front
matter → 422; 201 + show shape + ``Location`` on create, 200 on update; drafts 404 on
``GET /articles/{id}``; ``/articles/me[/published|/unpublished|/all]`` with
``page``/``per_page`` and the swapped ``tag_list`` types; the tags of an article dropped
by an update that does not send ``tags`` (#15364); an optional write throttle of one write
a second per key (429 text ``Retry later`` + ``Retry-After: 1``).

Faults, queued with ``fail_next(method, fault)``: ``commit_then_422``,
``commit_then_500``, ``commit_then_hang`` (the work is done, the answer comes after the
client's timeout), ``429_json`` (``Retry-After: 30``), ``429_text`` (``Retry-After: 1``),
``429_bare`` (no ``Retry-After``), ``500`` (nothing done).
"""

from __future__ import annotations

import re
import time
from collections import deque
from typing import Any

from fakes.web import Answer, Call, FakeServer

ACCEPT_V1 = "application/vnd.forem.api-v1+json"
PERMITTED = {"title", "body_markdown", "published", "series", "main_image", "canonical_url", "description", "tags",
             "published_at", "subforem_id", "language", "organization_id", "video_source_url"}
_TAG = re.compile(r"^[A-Za-z0-9]+$")


def _error(status: int, message: str) -> Answer:
    return Answer(status, {"error": message, "status": status})


def front_matter(body: str) -> tuple[dict[str, Any] | None, str | None]:
    """A small YAML subset: ``key: value`` lines. Returns (fields, error)."""
    lines = body.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        return None, None
    fields: dict[str, Any] = {}
    for n, line in enumerate(lines[1:end], start=2):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or (value and not value.startswith(" ")):
            return None, (f"(<unknown>): could not find expected ':' while scanning a simple key at line {n} "
                          "column 1")
        value = value.strip().strip('"')
        fields[key.strip()] = {"true": True, "false": False}.get(value, value)
    return fields, None


class FakeForem(FakeServer):
    def __init__(self, keys: dict[str, int] | None = None, *, throttle: bool = False) -> None:
        super().__init__()
        self.keys = keys or {"dev-key-1234567890": 1}
        self.articles: dict[int, dict[str, Any]] = {}
        self.next_id = 1000
        self.faults: deque[tuple[str, str]] = deque()
        self.throttle = throttle
        self.last_write: dict[str, float] = {}

    def fail_next(self, method: str, fault: str) -> None:
        self.faults.append((method, fault))

    # -- dispatch ------------------------------------------------------------------------------

    def handle(self, call: Call) -> Answer:
        path = call.path.removeprefix("/api")
        key = call.headers.get("api-key", "")
        user = self.keys.get(key)
        fault = self._fault(call.method)
        if fault == "429_json":
            return Answer(429, {"error": "Rate limit reached, try again in 30 seconds", "status": 429},
                          {"Retry-After": "30"})
        if fault == "429_text":
            return Answer(429, "Retry later\n", {"Retry-After": "1"})
        if fault == "429_bare":
            return Answer(429, "Retry later\n")
        if fault == "500":
            return _error(500, "Internal Server Error")
        if call.method == "GET" and re.fullmatch(r"/articles/\d+", path):
            article = self.articles.get(int(path.rsplit("/", 1)[1]))
            if not article or not article["published"]:
                return _error(404, "not found")
            return Answer(200, self.show(article))
        if user is None:
            return Answer(401, {"error": "unauthorized", "status": 401}, {"Cache-Control": "no-store"})
        if call.method in ("POST", "PUT") and self.throttle:
            now = time.monotonic()
            if now - self.last_write.get(key, -10.0) < 1.0:
                return Answer(429, "Retry later\n", {"Retry-After": "1"})
            self.last_write[key] = now
        if call.method == "GET" and path.startswith("/articles/me"):
            return self.me(user, path, call.query)
        if call.method == "POST" and path == "/articles":
            answer = self.create(user, call.json)
        elif call.method == "PUT" and re.fullmatch(r"/articles/\d+", path):
            answer = self.update(user, int(path.rsplit("/", 1)[1]), call.json)
        else:
            return _error(404, "not found")
        if fault and fault.startswith("commit_then_") and answer.status in (200, 201):
            kind = fault.removeprefix("commit_then_")
            if kind == "422":
                return _error(422, "Body markdown has already been taken")
            if kind == "500":
                return _error(500, "Internal Server Error")
            if kind == "hang":
                answer.delay = 3.0
        return answer

    def _fault(self, method: str) -> str | None:
        if self.faults and self.faults[0][0] == method:
            return self.faults.popleft()[1]
        return None

    # -- articles ------------------------------------------------------------------------------

    def _params(self, payload: Any) -> tuple[dict[str, Any] | None, Answer | None]:
        if not isinstance(payload, dict) or "article" not in payload:
            return None, _error(422, "param is missing or the value is empty: article")
        article = payload["article"]
        if not isinstance(article, dict):
            return None, _error(422, "article param must be a JSON object. You provided article as a string")
        params = {k: v for k, v in article.items() if k in PERMITTED}
        if "tags" in params and not isinstance(params["tags"], list):
            del params["tags"]  # the controller permits only tags: [] — a string is dropped silently
        return params, None

    def _apply(self, article: dict[str, Any], params: dict[str, Any]) -> Answer | None:
        for key in ("title", "body_markdown", "description", "canonical_url", "main_image", "series"):
            if key in params:
                article[key] = params[key]
        if "published" in params:
            article["published"] = bool(params["published"])
        if "tags" in params:
            article["tags"] = [str(t) for t in params["tags"]]
        fm, error = front_matter(article.get("body_markdown", ""))
        if error:
            return _error(422, f"{error}, Title can't be blank")
        if fm:  # front matter wins over the JSON fields
            for key in ("title", "description", "canonical_url"):
                if key in fm:
                    article[key] = fm[key]
            if "tags" in fm:
                article["tags"] = [t.strip() for t in str(fm["tags"]).split(",") if t.strip()]
            if "published" in fm:
                article["published"] = fm["published"] is True
            if "cover_image" in fm:
                article["main_image"] = fm["cover_image"]
        return None

    def _validate(self, user: int, article: dict[str, Any], own_id: int | None) -> Answer | None:
        errors = []
        title = str(article.get("title") or "")
        if not title:
            errors.append("Title can't be blank")
        if len(title) > 128:
            errors.append("Title is too long (maximum is 128 characters)")
        tags = article.get("tags", [])
        if len(tags) > 4:
            errors.append("Tag list exceed the maximum of 4 tags")
        for tag in tags:
            if not _TAG.match(tag):
                errors.append(f'Tag "{tag}" contains non-alphanumeric or prohibited unicode characters')
        canonical = article.get("canonical_url") or ""
        if canonical:
            if not canonical.startswith(("http://", "https://")):
                errors.append("Canonical url is not a valid URL")
            elif any(a["canonical_url"] == canonical for i, a in self.articles.items() if i != own_id):
                errors.append("Canonical url has already been taken")
        image = article.get("main_image") or ""
        if image and not image.startswith(("http://", "https://")):
            errors.append("Main image is not a valid URL")
        if any(a["user"] == user and a["title"] == title and a["body_markdown"] == article.get("body_markdown")
               for i, a in self.articles.items() if i != own_id):
            errors.append("Body markdown has already been taken")
        return _error(422, ", ".join(errors)) if errors else None

    def create(self, user: int, payload: Any) -> Answer:
        params, problem = self._params(payload)
        if problem:
            return problem
        assert params is not None
        article: dict[str, Any] = {"user": user, "title": "", "body_markdown": "", "description": "", "tags": [],
                                   "published": False, "canonical_url": "", "main_image": "", "series": ""}
        problem = self._apply(article, params) or self._validate(user, article, None)
        if problem:
            return problem
        self.next_id += 1
        article["id"] = self.next_id
        article["created_at"] = "2026-04-10T12:00:00Z"
        article["published_at"] = "2026-04-10T12:00:00Z" if article["published"] else None
        slug = re.sub(r"[^a-z0-9]+", "-", article["title"].lower()).strip("-")
        article["slug"] = f"{slug}-{article['id']}" if article["published"] else f"{slug}-temp-slug-{article['id']}"
        self.articles[article["id"]] = article
        shown = self.show(article)
        return Answer(201, shown, {"Location": shown["url"]})

    def update(self, user: int, article_id: int, payload: Any) -> Answer:
        current = self.articles.get(article_id)
        if current is None or current["user"] != user:
            return _error(404, "not found")
        params, problem = self._params(payload)
        if problem:
            return problem
        assert params is not None
        article = dict(current)
        if "tags" not in params:
            article["tags"] = []  # forem/forem#15364: tags disappear when an update leaves them out
        problem = self._apply(article, params) or self._validate(user, article, article_id)
        if problem:
            return problem
        if article["published"] and not current["published"]:
            article["published_at"] = "2026-04-10T12:30:00Z"
        article["edited_at"] = "2026-04-10T12:30:00Z"
        self.articles[article_id] = article
        return Answer(200, self.show(article))

    # -- views ---------------------------------------------------------------------------------

    def url(self, article: dict[str, Any]) -> str:
        return f"{self.base}/user{article['user']}/{article['slug']}"

    def show(self, article: dict[str, Any]) -> dict[str, Any]:
        """The single-article view: ``tag_list`` a string, ``tags`` an array."""
        return {"type_of": "article", "id": article["id"], "title": article["title"],
                "description": article["description"] or article["body_markdown"][:100],
                "slug": article["slug"], "path": f"/user{article['user']}/{article['slug']}",
                "url": self.url(article), "published_at": article["published_at"],
                "published_timestamp": article["published_at"] or "", "canonical_url":
                article["canonical_url"] or self.url(article), "cover_image": article["main_image"] or None,
                "tag_list": ", ".join(article["tags"]), "tags": list(article["tags"]),
                "body_markdown": article["body_markdown"], "body_html": "<p>…</p>",
                "user": {"user_id": article["user"], "username": f"user{article['user']}"}}

    def listed(self, article: dict[str, Any]) -> dict[str, Any]:
        """A /me item: ``tag_list`` an array."""
        return {"type_of": "article", "id": article["id"], "title": article["title"],
                "description": article["description"], "published": article["published"],
                "published_at": article["published_at"], "slug": article["slug"], "url": self.url(article),
                "body_markdown": article["body_markdown"], "tag_list": list(article["tags"]),
                "canonical_url": article["canonical_url"] or self.url(article)}

    def me(self, user: int, path: str, query: dict[str, str]) -> Answer:
        which = path.removeprefix("/articles/me").strip("/") or "published"
        mine = [a for a in self.articles.values() if a["user"] == user]
        if which == "published":
            mine = [a for a in mine if a["published"]]
        elif which == "unpublished":
            mine = [a for a in mine if not a["published"]]
        elif which == "all":
            mine = [a for a in mine if not a["published"]] + [a for a in mine if a["published"]]
        else:
            return _error(404, "not found")
        if which != "all":
            mine.sort(key=lambda a: a["id"], reverse=True)
        per_page = min(int(query.get("per_page", 30)), 1000)
        page = max(1, int(query.get("page", 1)))
        chosen = mine[(page - 1) * per_page: page * per_page]
        return Answer(200, [self.listed(a) for a in chosen])

    # -- for tests -----------------------------------------------------------------------------

    def mine(self, user: int = 1) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(a) for a in self.articles.values() if a["user"] == user]
