"""Review: the editor's page (``lll serve``). The draft rendered sentence by sentence,
each tied to the source span it rests on; what fails verification highlighted; the
stories left out and why; the cost; the Markdown to edit, re-verify, save and approve
(which publishes to the configured targets)."""

from lll.review.app import create_app
from lll.review.service import Approval, IssueView, Review, Saved

__all__ = ["Approval", "IssueView", "Review", "Saved", "create_app"]
