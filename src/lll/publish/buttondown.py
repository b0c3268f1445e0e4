"""Buttondown: the issue as a draft email, updated in place.

Contract notes (publishing-contracts.md §2): ``Authorization: Token KEY``, ``X-API-Version``
pinned; **``status`` always sent** (omitting it sends the email to every subscriber);
no front matter in ``body`` (400 ``body_contains_frontmatter``); no unknown fields (422);
``X-Idempotency-Key`` stable per issue and content, so a retried POST returns the first
answer; a deterministic ``slug`` (a duplicate slug is refused) and ``metadata`` to find the
email again; an email that is no longer a draft (a person sent or scheduled it) is never
touched.
"""

from __future__ import annotations

from typing import Any

from lll.errors import PublishError
from lll.publish.http import ApiPublisher, Response
from lll.publish.ledger import Gone, RemoteObject, Unclear
from lll.publish.model import PublishableIssue

API_VERSION = "2026-04-01"
DRAFT = "draft"


def explain(response: Response) -> str:
    data = response.data
    if isinstance(data, dict):
        detail = data.get("detail")
        if isinstance(detail, list):
            return "; ".join(f"{'.'.join(str(x) for x in d.get('loc', []))}: {d.get('msg', d.get('type', ''))}"
                             for d in detail if isinstance(d, dict))[:300]
        code = f"{data['code']}: " if data.get("code") else ""
        if detail:
            return f"{code}{detail}"[:300]
    return " ".join(response.text.split())[:200] or "no message"


def slug_for(issue: PublishableIssue) -> str:
    return f"lll-{issue.date}"


class ButtondownPublisher(ApiPublisher):
    name = "buttondown"
    supports_public = False
    public = False

    label = "Buttondown"
    extra_headers = {"X-API-Version": API_VERSION}
    explain = staticmethod(explain)

    def auth(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Token {key}"}

    def fields(self, issue: PublishableIssue) -> dict[str, Any]:
        fields: dict[str, Any] = {"subject": issue.title, "body": issue.body_markdown, "status": DRAFT,
                                  "description": issue.description,
                                  "metadata": {"lll_issue": issue.date, "lll_hash": issue.content_hash}}
        if issue.url:
            fields["canonical_url"] = issue.url
        return fields

    # -- RemoteOps -------------------------------------------------------------------------

    def find(self, issue: PublishableIssue) -> RemoteObject | None:
        path: str | None = "/emails"
        params: dict[str, Any] | None = {"subject": issue.title, "ordering": "-creation_date"}
        for _ in range(50):
            if path is None:
                break
            response = self.api.request("GET", path, params=params)
            if response.status != 200 or not isinstance(response.data, dict):
                raise self.api.refused("the list of emails", response)
            for item in response.data.get("results", []):
                meta = item.get("metadata") or {}
                if item.get("slug") == slug_for(issue) or meta.get("lll_issue") == issue.date:
                    return self._object(item, issue)
            path, params = response.data.get("next"), None
        return None

    def create(self, issue: PublishableIssue) -> RemoteObject:
        body = dict(self.fields(issue), slug=slug_for(issue))
        key = f"lll-{issue.date}-{issue.content_hash[:24]}"
        response = self.api.request("POST", "/emails", json_body=body, headers={"X-Idempotency-Key": key})
        if response.status in (200, 201) and isinstance(response.data, dict) and response.data.get("id"):
            created = self._object(response.data, issue)
            if response.data.get("status") != DRAFT:  # never expected: we always send status
                raise PublishError(f"Buttondown made email {created.id} with status "
                                   f"{response.data.get('status')!r}, not a draft: check it in Buttondown now",
                                   target=self.name)
            return created
        message = explain(response)
        if response.status == 400 and "slug" in message:  # the slug is taken: our email exists
            raise Unclear(f"Buttondown refused the email ({message})", target=self.name, status=400,
                          retry=False)
        hint = ("the body starts with front matter" if "frontmatter" in message
                else "fix the draft or the settings and run `lll publish` again")
        raise self.api.refused("the email", response, hint)

    def update(self, remote_id: str, issue: PublishableIssue, detail: dict[str, Any]) -> RemoteObject:
        current = self.api.request("GET", f"/emails/{remote_id}")
        if current.status == 404:
            raise Gone(f"Buttondown email {remote_id} is gone", target=self.name, status=404)
        if current.status != 200 or not isinstance(current.data, dict):
            raise self.api.refused(f"email {remote_id}", current)
        status = current.data.get("status")
        if status != DRAFT:
            raise PublishError(f"Buttondown email {remote_id} is {status!r}, no longer a draft: LLL will not "
                               "change it; edit it in Buttondown", target=self.name)
        response = self.api.request("PATCH", f"/emails/{remote_id}", json_body=self.fields(issue))
        if response.status == 404:
            raise Gone(f"Buttondown email {remote_id} is gone", target=self.name, status=404)
        if response.status == 200 and isinstance(response.data, dict):
            return self._object(response.data, issue)
        raise self.api.refused(f"the update of email {remote_id}", response)

    def _object(self, item: dict[str, Any], issue: PublishableIssue) -> RemoteObject:
        same = (item.get("subject") == issue.title and str(item.get("body", "")).strip()
                == issue.body_markdown.strip() and item.get("status") == DRAFT)
        status = str(item.get("status") or "")
        return RemoteObject(id=str(item["id"]), url=str(item.get("absolute_url") or ""),
                            state="draft" if status == DRAFT else "public", same=same,
                            detail={"status": status})


def register_publishers(register: Any) -> None:
    register("buttondown", ButtondownPublisher)
