"""A fake Buttondown API (emails) that follows publishing-contracts.md §2.

``Authorization: Token KEY`` (401 otherwise); ``X-API-Version`` recorded; ``EmailInput``
with ``additionalProperties: false`` (unknown fields, ``tags`` included → 422
``extra_forbidden``; no ``subject`` → 422 ``missing``); **``status`` defaults to
``about_to_send``** (the email would go out: ``sent_without_status`` counts them); a body
that starts with front matter → 400 ``body_contains_frontmatter``; a duplicate slug → 400
``slug_invalid``; ``X-Idempotency-Key`` replays the first answer; rate-limit headers on
every answer; ``GET /emails`` with ``status``/``subject`` filters and a paginated
``{results, next, previous, count}``; ``PATCH /emails/{id}``.

Faults, queued with ``fail_next(method, fault)``: ``commit_then_500``,
``commit_then_hang``, ``429`` (``Retry-After: 2``).
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from fakes.web import Answer, Call, FakeServer

EMAIL_INPUT = {"subject", "body", "status", "slug", "description", "canonical_url", "image", "publish_date",
               "metadata", "secondary_id", "attachments", "archival_mode", "filters", "template",
               "commenting_mode", "related_email_ids", "featured", "email_type"}
STATUSES = {"draft", "about_to_send", "scheduled", "sent", "imported", "in_flight", "managed_by_rss"}


def _limits() -> dict[str, str]:
    return {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "599", "X-RateLimit-Reset": "1775822400"}


def _coded(status: int, code: str, detail: str) -> Answer:
    return Answer(status, {"code": code, "detail": detail, "metadata": {}}, _limits())


def _schema(kind: str, field: str, msg: str) -> Answer:
    return Answer(422, {"detail": [{"type": kind, "loc": ["body", field], "msg": msg}]}, _limits())


class FakeButtondown(FakeServer):
    def __init__(self, key: str = "bd-key-1234567890", *, page_size: int = 20) -> None:
        super().__init__()
        self.key = key
        self.page_size = page_size
        self.emails: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, Answer] = {}
        self.faults: deque[tuple[str, str]] = deque()
        self.sent_without_status = 0
        self.counter = 0

    def fail_next(self, method: str, fault: str) -> None:
        self.faults.append((method, fault))

    def handle(self, call: Call) -> Answer:
        path = call.path.removeprefix("/v1")
        if call.headers.get("authorization") != f"Token {self.key}":
            return Answer(401, {"code": "authentication_invalid", "detail": "Invalid token."}, _limits())
        fault = self.faults.popleft()[1] if self.faults and self.faults[0][0] == call.method else None
        if fault == "429":
            return Answer(429, {"detail": "Request was throttled."}, {"Retry-After": "2", **_limits()})
        replay_key = call.headers.get("x-idempotency-key")
        if replay_key and replay_key in self.idempotent:
            return self.idempotent[replay_key]
        if call.method == "GET" and path.rstrip("/") == "/emails":
            return self.listing(call)
        match = re.fullmatch(r"/emails/([\w-]+)/?", path)
        if call.method == "GET" and match:
            email = self.emails.get(match.group(1))
            return Answer(200, email, _limits()) if email else _coded(404, "not_found", "Not found.")
        if call.method == "POST" and path.rstrip("/") == "/emails":
            answer = self.create(call.json)
        elif call.method == "PATCH" and match:
            answer = self.update(match.group(1), call.json)
        else:
            return _coded(404, "not_found", "Not found.")
        if replay_key and answer.status < 500:
            self.idempotent[replay_key] = answer
        if fault == "commit_then_500" and answer.status < 300:
            return Answer(500, "Server Error (500)")
        if fault == "commit_then_hang" and answer.status < 300:
            return Answer(answer.status, answer.body, answer.headers, delay=3.0)
        return answer

    def _check(self, payload: Any, *, creating: bool) -> Answer | None:
        if not isinstance(payload, dict):
            return _schema("model_type", "body", "Input should be an object")
        for key in payload:
            if key not in EMAIL_INPUT:
                return _schema("extra_forbidden", key, "Extra inputs are not permitted")
        if creating and not payload.get("subject"):
            return _schema("missing", "subject", "Field required")
        if "status" in payload and payload["status"] not in STATUSES:
            return _coded(400, "status_invalid", f"{payload['status']!r} is not a valid status.")
        if str(payload.get("body", "")).lstrip().startswith("---"):
            return _coded(400, "body_contains_frontmatter", "The body appears to contain front matter.")
        slug = payload.get("slug")
        if slug is not None and not re.fullmatch(r"[a-zA-Z0-9_-]{1,100}", str(slug)):
            return _schema("string_pattern_mismatch", "slug", "String should match pattern")
        return None

    def create(self, payload: Any) -> Answer:
        problem = self._check(payload, creating=True)
        if problem:
            return problem
        if payload.get("slug") and any(e["slug"] == payload["slug"] for e in self.emails.values()):
            return _coded(400, "slug_invalid", f"The slug {payload['slug']!r} is already in use.")
        if "status" not in payload:
            self.sent_without_status += 1
        self.counter += 1
        email_id = f"em_{self.counter:06d}"
        slug = payload.get("slug") or email_id
        email = {"id": email_id, "subject": payload["subject"], "body": payload.get("body", ""),
                 "status": payload.get("status", "about_to_send"), "slug": slug,
                 "description": payload.get("description", ""), "metadata": payload.get("metadata") or {},
                 "canonical_url": payload.get("canonical_url", ""), "publish_date": None,
                 "absolute_url": f"{self.base}/archive/{slug}/",
                 "creation_date": f"2026-04-10T12:00:{self.counter:02d}Z",
                 "modification_date": f"2026-04-10T12:00:{self.counter:02d}Z"}
        self.emails[email_id] = email
        return Answer(201, email, _limits())

    def update(self, email_id: str, payload: Any) -> Answer:
        email = self.emails.get(email_id)
        if email is None:
            return _coded(404, "not_found", "Not found.")
        problem = self._check(payload, creating=False)
        if problem:
            return problem
        email.update({k: v for k, v in payload.items()})
        self.counter += 1
        email["modification_date"] = f"2026-04-10T12:30:{self.counter:02d}Z"
        return Answer(200, email, _limits())

    def listing(self, call: Call) -> Answer:
        found = sorted(self.emails.values(), key=lambda e: e["creation_date"], reverse=True)
        if call.query.get("status"):
            found = [e for e in found if e["status"] == call.query["status"]]
        if call.query.get("subject"):
            found = [e for e in found if call.query["subject"].lower() in e["subject"].lower()]
        page = max(1, int(call.query.get("page", 1)))
        chosen = found[(page - 1) * self.page_size: page * self.page_size]
        following = f"{self.base}/v1/emails?page={page + 1}" if page * self.page_size < len(found) else None
        if following and call.query.get("subject"):
            following += "&subject=" + call.query["subject"].replace(" ", "+")
        previous = f"{self.base}/v1/emails?page={page - 1}" if page > 1 else None
        return Answer(200, {"results": chosen, "next": following, "previous": previous, "count": len(found)},
                      _limits())
