"""DEV Community (Forem API v1): the issue as a draft article, updated in place.

Contract notes (shared/spec/publishing-contracts.md §1) this follows:

- ``api-key`` header and the v1 ``Accept``; the body wrapped in ``{"article": …}``;
- no front matter in ``body_markdown`` (front matter beats the JSON fields, ``published``
  included), and a hidden ``<!-- lll-issue: DATE -->`` marker to find the article again;
- ``published: false`` on create; public only when asked (``--public``); on update
  ``published`` is sent only to make it public, so a person's own publishing is kept;
- tags as a JSON array of at most 4 alphanumeric tags, resent on every update (DEV drops
  them otherwise); ``published_at`` never sent;
- no idempotency key on DEV: the id is kept the moment a 201 arrives; without an id the
  article is looked up in ``/articles/me/all`` (marker, then title) before any create;
  a 422 on create is looked up too (DEV has answered 422 to a POST that created it);
- both 429 shapes (JSON with ``Retry-After: 30``, text ``Retry later``, or none at all)
  and at most one write a second.
"""

from __future__ import annotations

import time
from typing import Any

from lll.publish.http import ApiPublisher, Response
from lll.publish.ledger import Gone, RemoteObject, Unclear
from lll.publish.model import PublishableIssue, devto_tags
from lll.publish.registry import PublishContext

ACCEPT_V1 = "application/vnd.forem.api-v1+json"
PER_PAGE = 1000
MAX_PAGES = 20


def explain(response: Response) -> str:
    if isinstance(response.data, dict) and response.data.get("error"):
        return str(response.data["error"])[:300]
    return " ".join(response.text.split())[:200] or "no message"


def _hint(message: str) -> str:
    if "Tag" in message or "tag" in message:
        return "fix [newsletter] tags in lll.toml: at most 4, letters and digits only"
    if "Title" in message:
        return "the title must be at most 128 characters: shorten [newsletter] name"
    if "Canonical url" in message:
        return "another article on DEV already uses this canonical URL"
    if "already been taken" in message:
        return "DEV holds an article with this title and body that /articles/me/all does not list"
    return "fix the draft or the settings and run `lll publish` again"


def _tags(item: dict[str, Any]) -> list[str]:
    """DEV swaps the types: ``tag_list`` is an array in /me lists and a string in a single
    article, where ``tags`` is the array."""
    for key in ("tags", "tag_list"):
        value = item.get(key)
        if isinstance(value, list):
            return sorted(str(v) for v in value)
    value = item.get("tag_list") or item.get("tags") or ""
    return sorted(t.strip() for t in str(value).split(",") if t.strip())


class DevtoPublisher(ApiPublisher):
    name = "devto"
    label = "DEV"
    supports_public = True
    extra_headers = {"Accept": ACCEPT_V1}
    explain = staticmethod(explain)

    def __init__(self, ctx: PublishContext) -> None:
        super().__init__(ctx)
        self.public = ctx.public
        self._last_write: float | None = None

    def auth(self, key: str) -> dict[str, str]:
        return {"api-key": key}

    # -- RemoteOps -------------------------------------------------------------------------

    def body(self, issue: PublishableIssue) -> str:
        return issue.body_markdown.rstrip() + "\n\n" + issue.marker + "\n"

    def article(self, issue: PublishableIssue, *, update: bool) -> dict[str, Any]:
        article: dict[str, Any] = {"title": issue.title, "body_markdown": self.body(issue),
                                   "tags": list(devto_tags(issue.tags)), "description": issue.description}
        if self.public:
            article["published"] = True
        elif not update:
            article["published"] = False
        return {"article": article}

    def find(self, issue: PublishableIssue) -> RemoteObject | None:
        by_title = None
        for page in range(1, MAX_PAGES + 1):
            response = self.api.request("GET", "/articles/me/all", params={"per_page": PER_PAGE, "page": page})
            if response.status != 200 or not isinstance(response.data, list):
                raise self.api.refused("the list of your articles", response)
            for item in response.data:
                if issue.marker in str(item.get("body_markdown", "")):
                    return self._object(item, issue)
                if by_title is None and str(item.get("title", "")).strip() == issue.title.strip():
                    by_title = item
            if len(response.data) < PER_PAGE:
                break
        return self._object(by_title, issue) if by_title else None

    def create(self, issue: PublishableIssue) -> RemoteObject:
        self._gate()
        response = self.api.request("POST", "/articles", json_body=self.article(issue, update=False))
        if response.status in (200, 201) and isinstance(response.data, dict) and response.data.get("id"):
            return self._object(response.data, issue)
        if response.status == 422:
            message = explain(response)
            raise Unclear(self.api.redact(f"DEV refused the article (422): {message}; {_hint(message)}"),
                          target=self.name, status=422, retry=False)
        raise self.api.refused("the article", response, _hint(explain(response)))

    def update(self, remote_id: str, issue: PublishableIssue, detail: dict[str, Any]) -> RemoteObject:
        self._gate()
        response = self.api.request("PUT", f"/articles/{remote_id}", json_body=self.article(issue, update=True))
        if response.status == 404:
            raise Gone(f"DEV article {remote_id} is gone", target=self.name, status=404)
        if response.status == 200 and isinstance(response.data, dict):
            return self._object(response.data, issue)
        raise self.api.refused(f"the update of article {remote_id}", response, _hint(explain(response)))

    # -- helpers ---------------------------------------------------------------------------

    def _object(self, item: dict[str, Any], issue: PublishableIssue) -> RemoteObject:
        public = bool(item.get("published")) or bool(item.get("published_at"))
        same = (str(item.get("title", "")).strip() == issue.title.strip()
                and str(item.get("body_markdown", "")).strip() == self.body(issue).strip()
                and _tags(item) == sorted(devto_tags(issue.tags)))
        return RemoteObject(id=str(item["id"]), url=str(item.get("url") or ""),
                            state="public" if public else "draft", same=same)

    def _gate(self) -> None:
        """DEV allows one write a second per key: space writes out."""
        interval = self.ctx.config.publish.write_interval
        if self._last_write is not None and interval > 0:
            wait = self._last_write + interval - time.monotonic()
            if wait > 0:
                self.ctx.sleep(wait)
        self._last_write = time.monotonic()


def register_publishers(register: Any) -> None:
    register("devto", DevtoPublisher)
