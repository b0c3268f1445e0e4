"""Ghost Admin API: the issue as a draft post, updated in place.

Contract notes (publishing-contracts.md §3): the Admin key is ``id:secret``; a JWT
(HS256, ``kid`` = id, ``aud`` = ``/admin/``, 5 minutes) is signed with the hex-decoded
secret and **made fresh for every request**, sent as ``Authorization: Ghost <jwt>``;
``?source=html`` on create and update (Ghost ignores ``html`` otherwise), the HTML
wrapped in an HTML card so it is kept exactly; ``status: draft`` on create, never
``published``, never the ``newsletter`` parameter; an update carries the ``updated_at``
just read (409 ``UPDATE_COLLISION`` otherwise: read again and retry once); Ghost
suffixes duplicate slugs instead of refusing them, so the post is looked up by its slug
before any create.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from lll.errors import PublishError, PublishSettingsError
from lll.publish.http import ApiPublisher, Response
from lll.publish.ledger import Gone, RemoteObject
from lll.publish.model import PublishableIssue

ACCEPT_VERSION = "v5.0"
TOKEN_LIFETIME = 300
EXCERPT_LIMIT = 300


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def admin_token(key: str, issued_at: int | None = None) -> str:
    """A Ghost Admin API JWT for ``key`` (``id:secret_hex``), valid for 5 minutes."""
    key_id, _, secret = key.partition(":")
    try:
        signing_key = bytes.fromhex(secret)
    except ValueError as exc:
        raise PublishSettingsError("ghost: LLL_GHOST_ADMIN_API_KEY must be id:secret (the Admin API key of a "
                                   "custom integration; the secret is hexadecimal)", target="ghost") from exc
    if not key_id or not signing_key:
        raise PublishSettingsError("ghost: LLL_GHOST_ADMIN_API_KEY must be id:secret (the Admin API key of a "
                                   "custom integration)", target="ghost")
    iat = int(time.time()) if issued_at is None else issued_at  # the server's clock, never LLL_NOW
    header = {"alg": "HS256", "typ": "JWT", "kid": key_id}
    payload = {"iat": iat, "exp": iat + TOKEN_LIFETIME, "aud": "/admin/"}
    signing_input = ".".join(_b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload))
    signature = hmac.new(signing_key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def explain(response: Response) -> str:
    data = response.data
    if isinstance(data, dict) and isinstance(data.get("errors"), list) and data["errors"]:
        first = data["errors"][0]
        if isinstance(first, dict):
            parts = [str(first.get(k)) for k in ("type", "message", "context") if first.get(k)]
            return ": ".join(parts)[:300]
    return " ".join(response.text.split())[:200] or "no message"


def slug_for(issue: PublishableIssue) -> str:
    return f"lll-{issue.date}"


def admin_root(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/ghost/api/admin") else f"{url}/ghost/api/admin"


class GhostPublisher(ApiPublisher):
    name = "ghost"
    supports_public = False
    public = False

    label = "Ghost"
    extra_headers = {"Accept-Version": ACCEPT_VERSION}
    explain = staticmethod(explain)

    def check_key(self, key: str) -> None:
        admin_token(key)  # a malformed key fails here, before anything is sent

    def api_root(self, base_url: str) -> str:
        return admin_root(base_url)

    def auth(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Ghost {admin_token(key)}"}  # a fresh token for every request

    def post(self, issue: PublishableIssue) -> dict[str, Any]:
        post: dict[str, Any] = {
            "title": issue.title,
            "html": f"<!--kg-card-begin: html-->\n{issue.html}\n<!--kg-card-end: html-->",
            "tags": [{"name": t} for t in issue.tags],
        }
        if issue.description:
            post["custom_excerpt"] = issue.description[:EXCERPT_LIMIT]
        if issue.url:
            post["canonical_url"] = issue.url
        return post

    # -- RemoteOps -------------------------------------------------------------------------

    def find(self, issue: PublishableIssue) -> RemoteObject | None:
        response = self.api.request("GET", f"/posts/slug/{slug_for(issue)}/")
        if response.status == 404:
            return None
        return self._object(self._one(response, "the post lookup"))

    def create(self, issue: PublishableIssue) -> RemoteObject:
        post = dict(self.post(issue), status="draft", slug=slug_for(issue))
        response = self.api.request("POST", "/posts/", params={"source": "html"}, json_body={"posts": [post]})
        if response.status in (200, 201):
            return self._object(self._one(response, "the new post"))
        raise self.api.refused("the post", response, "fix the draft or the settings and run `lll publish` again")

    def update(self, remote_id: str, issue: PublishableIssue, detail: dict[str, Any]) -> RemoteObject:
        for attempt in range(2):
            current = self.api.request("GET", f"/posts/{remote_id}/")
            if current.status == 404:
                raise Gone(f"Ghost post {remote_id} is gone", target=self.name, status=404)
            updated_at = self._one(current, f"post {remote_id}").get("updated_at")
            body = {"posts": [dict(self.post(issue), updated_at=updated_at)]}
            response = self.api.request("PUT", f"/posts/{remote_id}/", params={"source": "html"}, json_body=body)
            if response.status == 409 and attempt == 0:
                continue  # someone saved in between: read the new updated_at and try once more
            if response.status == 409:
                raise PublishError(f"Ghost reports someone else is editing post {remote_id} ({explain(response)}); "
                                   "run `lll publish` again when they are done", target=self.name, status=409)
            if response.status == 404:
                raise Gone(f"Ghost post {remote_id} is gone", target=self.name, status=404)
            if response.status == 200:
                return self._object(self._one(response, f"post {remote_id}"))
            raise self.api.refused(f"the update of post {remote_id}", response)
        raise PublishError(f"Ghost post {remote_id}: update collided twice", target=self.name)  # pragma: no cover

    def _one(self, response: Response, what: str) -> dict[str, Any]:
        if response.status >= 400:
            raise self.api.refused(what, response)
        posts = response.data.get("posts") if isinstance(response.data, dict) else None
        if not posts or not isinstance(posts[0], dict) or not posts[0].get("id"):
            raise PublishError(f"Ghost answered {response.status} without a post for {what}", target=self.name)
        return posts[0]

    def _object(self, post: dict[str, Any]) -> RemoteObject:
        status = str(post.get("status") or "draft")
        return RemoteObject(id=str(post["id"]), url=str(post.get("url") or ""),
                            state="draft" if status == "draft" else "public",
                            detail={"updated_at": post.get("updated_at"), "slug": post.get("slug"), "status": status})


def register_publishers(register: Any) -> None:
    register("ghost", GhostPublisher)
