"""Attachments (Data §2.4.11) and the signature attachment rules (Data §2.6)."""

from __future__ import annotations

import pytest

from statements.xapi.validate import validate_statement
from tests.statements.xapi.test_validate_builders import (
    SHA256,
    SIGNATURE,
    VERSIONS,
    drop,
    minimal,
    put,
    rejects,
)


def attachment(**extra: object) -> dict:
    return {
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": "text/plain; charset=ascii",
        "length": 27,
        "sha2": SHA256,
        **extra,
    }


def with_attachments(*items: object) -> dict:
    return put(minimal(), "attachments", list(items))


@VERSIONS
@pytest.mark.parametrize(
    "item",
    [
        attachment(),
        attachment(description={"en-US": "Described"}, fileUrl="http://example.com/a.txt"),
        attachment(length=0, contentType="application/vnd.example+json"),
        attachment(contentType='multipart/mixed; boundary="abc def"'),
        attachment(sha2="a" * 56),
        attachment(sha2="A" * 96),
        attachment(sha2="0" * 128),
        attachment(usageType=SIGNATURE, contentType="application/octet-stream"),
    ],
)
def test_attachment_is_accepted(v2, item):
    """Data §2.4.11.s2: usageType, display, contentType, length, sha2 (+ description, fileUrl)."""
    doc = with_attachments(item)
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
def test_empty_attachments_array_is_accepted(v2):
    """Data §2.4.11: attachments is an ordered array of Attachment objects."""
    doc = with_attachments()
    assert validate_statement(doc, v2=v2) == doc


@VERSIONS
@pytest.mark.parametrize("key", ["usageType", "display", "contentType", "length", "sha2"])
def test_attachment_required_properties(v2, key):
    """Data §2.4.11.s2: usageType, display, contentType, length and sha2 are required."""
    doc = with_attachments(attachment(), drop(attachment(), key))
    rejects(doc, f"attachments[1].{key}", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("usageType", "certificate"),
        ("display", "A test attachment"),
        ("contentType", "text"),
        ("contentType", "text/"),
        ("contentType", "text plain"),
        ("contentType", ""),
        ("contentType", 1),
        ("length", -1),
        ("length", 27.0),
        ("length", "27"),
        ("length", True),
        ("sha2", "abc"),
        ("sha2", "g" * 64),
        ("sha2", "a" * 40),
        ("sha2", "a" * 65),
        ("sha2", ""),
        ("fileUrl", "a.txt"),
        ("fileUrl", None),
        ("fileURL", "http://example.com/a.txt"),
    ],
)
def test_attachment_properties_are_validated(v2, key, value):
    """Data §2.4.11.s2: IRI, language maps, Internet media type, integer length, SHA-2 hex, IRL."""
    rejects(with_attachments(attachment(**{key: value})), f"attachments[0].{key}", v2=v2)


@VERSIONS
@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("display", {"en US": "x"}, "attachments[0].display.en US"),
        ("description", {"en-US": 1}, "attachments[0].description.en-US"),
    ],
)
def test_attachment_language_maps_are_validated(v2, key, value, path):
    """Data §2.4.11.s2, §4.2: display and description are language maps."""
    rejects(with_attachments(attachment(**{key: value})), path, v2=v2)


@VERSIONS
@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/jose"])
def test_signature_attachment_must_be_octet_stream(v2, content_type):
    """Data §2.6.s4.b1: a signature attachment has contentType application/octet-stream."""
    item = attachment(usageType=SIGNATURE, contentType=content_type)
    rejects(with_attachments(item), "attachments[0].contentType", v2=v2)


@VERSIONS
@pytest.mark.parametrize("value", [attachment(), "attachment", None])
def test_attachments_must_be_an_array_of_objects(v2, value):
    """Data §2.4.s1: attachments is an ordered array of Attachment objects."""
    if isinstance(value, dict):
        rejects(put(minimal(), "attachments", value), "attachments", v2=v2)
    else:
        rejects(with_attachments(attachment(), value), "attachments[1]", v2=v2)
