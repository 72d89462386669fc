"""Support staff find and read documents in the admin, and cannot change them."""

import json
from urllib.parse import urlencode

import pytest

from documents.models import Document

URL = "/admin/documents/document/"
ACTIVITY = "https://courses.example.org/au-1"


@pytest.fixture
def documents(xapi):
    for name, content in (("ada", b'{"bookmark": "page-7"}'), ("bob", b"\x00\x01binary")):
        agent = json.dumps({"mbox": f"mailto:{name}@example.org"})
        query = urlencode({"activityId": ACTIVITY, "stateId": "resume", "agent": agent})
        content_type = "application/json" if name == "ada" else "application/octet-stream"
        response = xapi.request(
            "put", f"/xapi/activities/state?{query}", data=content, content_type=content_type
        )
        assert response.status_code == 204, response.content
    return Document.objects.order_by("agent_ifi")


def test_support_staff_find_documents_by_agent_and_read_them(support, documents):
    listed = support.get(URL, {"q": "mailto:ada@"}).content.decode()
    assert "mbox:mailto:ada@example.org" in listed
    assert "mbox:mailto:bob@example.org" not in listed
    ada, bob = documents
    page = support.get(f"{URL}{ada.pk}/change/").content.decode()
    assert "page-7" in page
    assert (
        "8 bytes of application/octet-stream"
        in support.get(f"{URL}{bob.pk}/change/").content.decode()
    )


def test_support_staff_filter_by_tenant_and_activity(support, documents):
    tenant_id = documents[0].tenant_id
    listed = support.get(URL, {"tenant__id__exact": tenant_id, "q": ACTIVITY}).content.decode()
    assert listed.count("resume") >= 2


def test_support_staff_cannot_change_or_delete_documents(support, documents):
    document = documents[0]
    response = support.post(f"{URL}{document.pk}/change/", {"content_type": "text/plain"})
    assert response.status_code == 403
    assert support.post(f"{URL}{document.pk}/delete/", {"post": "yes"}).status_code == 403
    assert support.get(f"{URL}add/").status_code == 403
    assert Document.objects.get(pk=document.pk).content_type == "application/json"
