"""Response headers of the resources that serve no documents (Communication §2.5, §2.4,
§2.8, §3.1)."""

import hashlib

import pytest

from tests.conftest import XAPIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("version", [None, "1.0.3", "2.0.0"])
def test_about_get_carries_a_quoted_sha1_etag_of_its_body(version):
    """Communication §3.1.s4.b1: "An LRS responding to a GET request MUST add an ETag HTTP
    header to the response"; b2: the hexadecimal SHA-1 of the contents; b4: enclosed in
    quotes. About answers GETs (§2.8.s4) like every other resource."""
    response = XAPIClient(None, version=version).get("/xapi/about")
    assert response.status_code == 200
    digest = hashlib.sha1(response.content, usedforsecurity=False).hexdigest()
    assert response["ETag"] == f'"{digest}"'


def test_about_head_carries_the_etag_of_the_get(db):
    """Communication §1.1.s3.b1: HEAD answers as the GET would, body omitted."""
    client = XAPIClient(None)
    assert client.request("head", "/xapi/about")["ETag"] == client.get("/xapi/about")["ETag"]
