"""A fake Ghost Admin API (posts) that follows publishing-contracts.md §3.

Auth: ``Authorization: Ghost <jwt>``, HS256 verified with the hex-decoded secret of the
``kid``, ``aud == "/admin/"``, ``exp - iat <= 300``, not expired (401 otherwise; a
malformed token → 400 ``INVALID_JWT``). Posts: the ``{"posts": [...]}`` envelope;
``?source=html`` needed for ``html`` to be kept; ``status`` defaults to ``draft``;
duplicate slugs are suffixed (``slug-2``), never refused; an update must carry the
current ``updated_at`` (409 ``UPDATE_COLLISION`` otherwise); a ``newsletter`` query
parameter is recorded (it would email members).

Faults, queued with ``fail_next(method, fault)``: ``someone_saves`` (another editor
saves the post just before this PUT, so its ``updated_at`` is stale), ``commit_then_500``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections import deque
from typing import Any

from fakes.web import Answer, Call, FakeServer

ROOT = "/ghost/api/admin"


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _errors(status: int, kind: str, message: str, code: str = "") -> Answer:
    return Answer(status, {"errors": [{"message": message, "context": None, "type": kind, "details": None,
                                       "property": None, "help": None, "code": code or None, "id": "e1"}]})


class FakeGhost(FakeServer):
    def __init__(self, keys: dict[str, str] | None = None) -> None:
        super().__init__()
        self.keys = keys or {"6630a1b2c3d4e5f6a7b8c9d0": "a1" * 32}
        self.posts: dict[str, dict[str, Any]] = {}
        self.faults: deque[tuple[str, str]] = deque()
        self.tokens: list[dict[str, Any]] = []
        self.newsletter_params = 0
        self.clock = 0

    @property
    def admin_key(self) -> str:
        key_id, secret = next(iter(self.keys.items()))
        return f"{key_id}:{secret}"

    def fail_next(self, method: str, fault: str) -> None:
        self.faults.append((method, fault))

    def _stamp(self) -> str:
        self.clock += 1
        return f"2026-04-10T12:{self.clock // 60:02d}:{self.clock % 60:02d}.000Z"

    def _auth(self, header: str) -> Answer | None:
        if not header.startswith("Ghost "):
            return _errors(401, "UnauthorizedError", "Authorization header format is \"Ghost [token]\"")
        token = header.removeprefix("Ghost ")
        try:
            head_b64, body_b64, sig_b64 = token.split(".")
            head = json.loads(_b64decode(head_b64))
            body = json.loads(_b64decode(body_b64))
            signature = _b64decode(sig_b64)
        except ValueError:
            return _errors(400, "BadRequestError", "Invalid token", "INVALID_JWT")
        secret = self.keys.get(head.get("kid", ""))
        if head.get("alg") != "HS256" or secret is None:
            return _errors(401, "UnauthorizedError", "Unknown Admin API Key")
        expected = hmac.new(bytes.fromhex(secret), f"{head_b64}.{body_b64}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected):
            return _errors(401, "UnauthorizedError", "Invalid token: invalid signature")
        now = int(time.time())
        if body.get("aud") != "/admin/":
            return _errors(401, "UnauthorizedError", "Invalid token: jwt audience invalid")
        if body.get("exp", 0) - body.get("iat", 0) > 300 or body.get("exp", 0) < now:
            return _errors(401, "UnauthorizedError", "Invalid token: jwt expired")
        self.tokens.append(body)
        return None

    def handle(self, call: Call) -> Answer:
        if not call.path.startswith(ROOT):
            return _errors(404, "NotFoundError", "Resource not found")
        problem = self._auth(call.headers.get("authorization", ""))
        if problem:
            return problem
        if "newsletter" in call.query:
            self.newsletter_params += 1
        fault = self.faults.popleft()[1] if self.faults and self.faults[0][0] == call.method else None
        path = call.path.removeprefix(ROOT)
        html = call.query.get("source") == "html"
        if call.method == "GET" and (m := re.fullmatch(r"/posts/slug/([\w-]+)/?", path)):
            post = next((p for p in self.posts.values() if p["slug"] == m.group(1)), None)
            return Answer(200, {"posts": [post]}) if post else _errors(404, "NotFoundError", "Post not found.")
        if call.method == "GET" and (m := re.fullmatch(r"/posts/(\w+)/?", path)):
            post = self.posts.get(m.group(1))
            return Answer(200, {"posts": [post]}) if post else _errors(404, "NotFoundError", "Post not found.")
        if call.method == "POST" and re.fullmatch(r"/posts/?", path):
            answer = self.create(call.json, html)
        elif call.method == "PUT" and (m := re.fullmatch(r"/posts/(\w+)/?", path)):
            if fault == "someone_saves" and m.group(1) in self.posts:
                self.posts[m.group(1)]["updated_at"] = self._stamp()
            answer = self.update(m.group(1), call.json, html)
        else:
            return _errors(404, "NotFoundError", "Resource not found")
        if fault == "commit_then_500" and answer.status < 300:
            return _errors(500, "InternalServerError", "An unexpected error occurred")
        return answer

    def _envelope(self, payload: Any) -> dict[str, Any] | None:
        if isinstance(payload, dict) and isinstance(payload.get("posts"), list) and payload["posts"] \
                and isinstance(payload["posts"][0], dict):
            return payload["posts"][0]
        return None

    def create(self, payload: Any, html: bool) -> Answer:
        post = self._envelope(payload)
        if post is None:
            return _errors(422, "ValidationError", "No root key ('posts') provided.")
        if not post.get("title"):
            return _errors(422, "ValidationError", "Validation error, cannot save post.", "title")
        if len(post["title"]) > 255:
            return _errors(422, "ValidationError", "Title is too long (maximum is 255 characters)")
        slug = post.get("slug") or re.sub(r"[^a-z0-9]+", "-", post["title"].lower()).strip("-")
        base, n = slug, 2
        while any(p["slug"] == slug for p in self.posts.values()):
            slug, n = f"{base}-{n}", n + 1
        post_id = f"{len(self.posts) + 1:024x}"
        stored = {"id": post_id, "uuid": f"uuid-{post_id}", "title": post["title"], "slug": slug,
                  "html": post.get("html", "") if html else "", "status": post.get("status", "draft"),
                  "tags": [{"name": t["name"] if isinstance(t, dict) else t} for t in post.get("tags", [])],
                  "custom_excerpt": post.get("custom_excerpt"), "canonical_url": post.get("canonical_url"),
                  "created_at": self._stamp(), "url": f"{self.base}/p/uuid-{post_id}/"}
        stored["updated_at"] = stored["created_at"]
        self.posts[post_id] = stored
        return Answer(201, {"posts": [stored]})

    def update(self, post_id: str, payload: Any, html: bool) -> Answer:
        current = self.posts.get(post_id)
        if current is None:
            return _errors(404, "NotFoundError", "Post not found.")
        post = self._envelope(payload)
        if post is None:
            return _errors(422, "ValidationError", "No root key ('posts') provided.")
        if post.get("updated_at") != current["updated_at"]:
            return _errors(409, "UpdateCollisionError", "Saving failed! Someone else is editing this post.",
                           "UPDATE_COLLISION")
        for key in ("title", "status", "custom_excerpt", "canonical_url"):
            if key in post:
                current[key] = post[key]
        if "tags" in post:
            current["tags"] = [{"name": t["name"] if isinstance(t, dict) else t} for t in post["tags"]]
        if "html" in post and html:
            current["html"] = post["html"]
        current["updated_at"] = self._stamp()
        return Answer(200, {"posts": [current]})
