"""Where a document lives: its scope (kind, activity, agent, registration) and its id.

Pure. The hashed keys are what the table's unique constraint holds, so two requests name
the same document exactly when their normalised parts are equal: the agent by its Inverse
Functional Identifier (``statements.xapi.ifi``: IFI-equivalent agents match), the
registration lowercased, activity and document ids as sent (IRIs compare as strings,
Data §3.1.s2.b1).

Reading of Communication §2.3 taken here: a State request without ``registration`` is about
the documents stored without one. "No registration" is a value of the key like any
registration: a single-document GET must name one document, and a multiple-document GET or
DELETE without ``registration`` touches only the documents stored without one, never those
of the learner's registrations.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from documents.models import DocumentKind


@dataclass(frozen=True, slots=True)
class DocumentScope:
    kind: str
    activity_id: str = ""
    agent_ifi: str = ""
    registration: str | None = None

    @property
    def key(self) -> bytes:
        parts = (self.kind, self.activity_id, self.agent_ifi, self.registration or "")
        return hashlib.sha256("\x00".join(parts).encode()).digest()


def document_key(document_id: str) -> bytes:
    return hashlib.sha256(document_id.encode()).digest()


def state_scope(activity_id: str, agent_ifi: str, registration: str | None) -> DocumentScope:
    return DocumentScope(DocumentKind.STATE, activity_id, agent_ifi, registration)


def activity_profile_scope(activity_id: str) -> DocumentScope:
    return DocumentScope(DocumentKind.ACTIVITY_PROFILE, activity_id=activity_id)


def agent_profile_scope(agent_ifi: str) -> DocumentScope:
    return DocumentScope(DocumentKind.AGENT_PROFILE, agent_ifi=agent_ifi)


def etag_of(content: bytes) -> str:
    """Communication §3.1.s4.b2: the lowercase hexadecimal SHA-1 of the contents."""
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()
