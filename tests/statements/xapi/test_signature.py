"""Data §2.6 (Signed Statements): JWS checks of the signature attachment."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from statements.xapi.errors import StatementError
from statements.xapi.signature import (
    SIGNATURE_USAGE_TYPE,
    check_signature_declaration,
    signature_attachments,
    verify_jws,
)

STATEMENT = {
    "version": "1.0.0",
    "id": "33cff416-e331-4c9d-969e-5373a1756120",
    "actor": {"mbox": "mailto:example@example.com", "objectType": "Agent"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
    "object": {"id": "http://example.com/activities/tax-tips", "objectType": "Activity"},
    "timestamp": "2013-04-01T12:00:00Z",
}
RSA_HASHES = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}
NOW = dt.datetime.now(dt.UTC)


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def der_b64(certificate: x509.Certificate) -> str:
    """An x5c entry: standard base64 of the DER certificate (RFC 7515 §4.1.6)."""
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode()


def sign(
    key: rsa.RSAPrivateKey,
    payload: dict | bytes = STATEMENT,
    *,
    alg: str = "RS256",
    chain: list[x509.Certificate] | None = None,
    **header,
) -> bytes:
    """A JWS in Compact Serialization (RFC 7515 §7.1) made with an RSA key; ``chain`` becomes
    the x5c header, other keywords are further header parameters."""
    if chain is not None:
        header["x5c"] = [der_b64(certificate) for certificate in chain]
    header = {"alg": alg, **header}
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    signing_input = b64url(orjson.dumps(header)) + b"." + b64url(body)
    signature = key.sign(signing_input, padding.PKCS1v15(), RSA_HASHES[alg]())
    return signing_input + b"." + b64url(signature)


def certificate(
    common_name: str,
    key,
    *,
    issuer_name: str | None = None,
    issuer_key=None,
    ca: bool = False,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name or common_name)])
    not_after = not_after or NOW + dt.timedelta(days=365)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - dt.timedelta(days=730))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key or key, hashes.SHA256())
    )


@dataclass(frozen=True)
class Pki:
    root_key: rsa.RSAPrivateKey
    root: x509.Certificate
    intermediate_key: rsa.RSAPrivateKey
    intermediate: x509.Certificate
    leaf_key: rsa.RSAPrivateKey
    leaf: x509.Certificate
    other_key: rsa.RSAPrivateKey

    @property
    def chain(self) -> list[x509.Certificate]:
        return [self.leaf, self.intermediate, self.root]


@pytest.fixture(scope="module")
def pki() -> Pki:
    """A root CA, an intermediate CA, a signer and an unrelated key, all RSA 2048."""
    root_key, intermediate_key, leaf_key, other_key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(4)
    )
    root = certificate("Test Root", root_key, ca=True)
    intermediate = certificate(
        "Test Intermediate", intermediate_key, issuer_name="Test Root", issuer_key=root_key, ca=True
    )
    leaf = certificate(
        "Statement Signer", leaf_key, issuer_name="Test Intermediate", issuer_key=intermediate_key
    )
    return Pki(root_key, root, intermediate_key, intermediate, leaf_key, leaf, other_key)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def rejected(match: str):
    return pytest.raises(StatementError, match=match)


# --- accepted signatures --------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_rs_signature_with_x5c_chain_verifies(pki, alg):
    """§2.6.s4.b4: "The JWS signature MUST use an algorithm of RS256, RS384, or RS512";
    §2.6.s5.b3.b3: "If the JWS header includes an X.509 certificate, validate the signature
    against that certificate as defined in JWS"."""
    jws = sign(pki.leaf_key, alg=alg, chain=pki.chain)
    assert verify_jws(jws) == STATEMENT


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_rs_signature_without_x5c_is_accepted_when_well_formed(pki, alg):
    """§2.6.s5.b3.b3 checks the signature only "If the JWS header includes an X.509
    certificate", and x5c is a SHOULD (§2.6.s4.b6): without one nothing can be verified, and a
    well-formed JWS is accepted."""
    assert verify_jws(sign(pki.other_key, alg=alg)) == STATEMENT


def test_self_signed_certificate_alone_verifies(pki):
    """RFC 7515 §4.1.6: x5c holds the certificate "containing the public key corresponding to
    the key used to digitally sign the JWS" first; a chain of one is allowed."""
    assert verify_jws(sign(pki.root_key, chain=[pki.root])) == STATEMENT


def test_leaf_and_intermediate_without_root_verify(pki):
    """RFC 7515 §4.1.6: each following certificate directly certifies the one preceding it; the
    root may be left out."""
    assert verify_jws(sign(pki.leaf_key, chain=[pki.leaf, pki.intermediate])) == STATEMENT


def test_expired_certificate_still_verifies():
    """§2.6 note: validating against the included certificate "is intended as a way to catch
    mistakes in the signature, not as a security measure"; validity dates are not checked."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    expired = certificate("Expired", key, not_after=NOW - dt.timedelta(days=3650))
    assert verify_jws(sign(key, chain=[expired])) == STATEMENT


def test_spec_appendix_d_example_verifies():
    """Data Appendix D: the spec's example signed Statement (RS256, an x5c chain of two 1024-bit
    certificates signed with SHA-1 and expired in 2014, a header serialized with CRLF)."""
    payload = verify_jws(SPEC_APPENDIX_D_JWS)
    assert payload["id"] == "33cff416-e331-4c9d-969e-5373a1756120"
    assert payload["timestamp"] == "2013-04-01T12:00:00Z"
    # Data Appendix D declares the attachment with this sha2.
    assert (
        hashlib.sha256(SPEC_APPENDIX_D_JWS).hexdigest()
        == "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634"
    )


def test_surrounding_white_space_is_ignored(pki):
    """A trailing newline after the compact serialization (as a file written by a tool may
    have) does not make the signature malformed."""
    assert verify_jws(b"  " + sign(pki.leaf_key, chain=pki.chain) + b"\r\n") == STATEMENT


def test_payload_is_returned_as_signed(pki):
    """§2.6.s5.b3.b1: "Decode the JWS signature, and load the signed serialization of the
    Statement from the JWS signature payload"; the caller compares it (§2.6.s5.b3.b2)."""
    serialization = b'{\r\n  "verb": {"id": "http://example.com/v"},\r\n  "id": "x"\r\n}'
    assert verify_jws(sign(pki.leaf_key, serialization, chain=pki.chain)) == {
        "verb": {"id": "http://example.com/v"},
        "id": "x",
    }


# --- signatures that do not verify ----------------------------------------------------------------


def test_signature_by_another_key_is_rejected(pki):
    """§2.6.s5.b3.b3: the signature is validated against the certificate in the header; a
    signature made with a key other than the certificate's fails."""
    with rejected("does not verify with the key of the x5c certificate"):
        verify_jws(sign(pki.other_key, chain=pki.chain))


def test_tampered_payload_is_rejected(pki):
    """§2.6.s1: a signature gives "evidence of the authenticity and integrity of the
    Statement"; a payload changed after signing does not verify."""
    header, _, signature = sign(pki.leaf_key, chain=pki.chain).split(b".")
    forged = b64url(orjson.dumps(STATEMENT | {"timestamp": "2014-04-01T12:00:00Z"}))
    with rejected("does not verify"):
        verify_jws(b".".join([header, forged, signature]))


@pytest.mark.parametrize(
    "change", [{"alg": "RS512"}, {"kid": "added after signing"}, {"typ": "JWT"}]
)
def test_tampered_header_is_rejected(pki, change):
    """RFC 7515 §5.2: the signature covers the protected header; a header changed after signing
    (even to another allowed algorithm) does not verify."""
    _, payload, signature = sign(pki.leaf_key, chain=pki.chain).split(b".")
    header = {"alg": "RS256", "x5c": [der_b64(c) for c in pki.chain]} | change
    with rejected("does not verify"):
        verify_jws(b".".join([b64url(orjson.dumps(header)), payload, signature]))


def test_truncated_signature_is_rejected(pki):
    """§2.6.s5.b1: "The LRS MUST reject requests to store Statements that contain malformed
    signatures"."""
    header, payload, signature = sign(pki.leaf_key, chain=pki.chain).split(b".")
    with rejected("does not verify"):
        verify_jws(b".".join([header, payload, signature[:-8]]))


def test_chain_with_a_missing_link_is_rejected(pki):
    """RFC 7515 §4.1.6: "Each following certificate MUST directly certify the one preceding
    it"; here the root did not issue the leaf."""
    with rejected(r"x5c\[1\] did not issue x5c\[0\]"):
        verify_jws(sign(pki.leaf_key, chain=[pki.leaf, pki.root]))


def test_chain_with_a_forged_issuer_is_rejected(pki):
    """RFC 7515 §4.1.6: the next certificate must certify the previous one; a certificate with
    the issuer's name but another key did not sign it."""
    impostor = certificate("Test Intermediate", pki.other_key, ca=True)
    with rejected(r"signature on x5c\[0\] does not verify with the key of x5c\[1\]"):
        verify_jws(sign(pki.leaf_key, chain=[pki.leaf, impostor]))


def test_certificate_without_rsa_key_is_rejected(ec_key):
    """§2.6.s4.b4: an RS* signature needs an RSA key; a certificate with an EC key cannot have
    made it."""
    signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_certificate = certificate("EC signer", ec_key)
    with rejected("has no RSA key"):
        verify_jws(sign(signer, chain=[ec_certificate]))


# --- algorithms other than RS256/384/512 ----------------------------------------------------------


def hs256_jws() -> bytes:
    signing_input = b64url(b'{"alg":"HS256"}') + b"." + b64url(orjson.dumps(STATEMENT))
    return signing_input + b"." + b64url(hmac.digest(b"secret", signing_input, "sha256"))


def es256_jws(key: ec.EllipticCurvePrivateKey) -> bytes:
    signing_input = b64url(b'{"alg":"ES256"}') + b"." + b64url(orjson.dumps(STATEMENT))
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return signing_input + b"." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def test_alg_none_is_rejected():
    """§2.6.s4.b4: "The JWS signature MUST use an algorithm of RS256, RS384, or RS512"; an
    unsecured JWS (alg none, RFC 7515 Appendix A.5) has no signature at all."""
    jws = b64url(b'{"alg":"none"}') + b"." + b64url(orjson.dumps(STATEMENT)) + b"."
    with rejected("alg is 'none'"):
        verify_jws(jws)


def test_alg_hs256_is_rejected():
    """§2.6.s4.b4: a correctly made HMAC signature is still not an RSA + SHA one."""
    with rejected("alg is 'HS256'"):
        verify_jws(hs256_jws())


def test_alg_es256_is_rejected(ec_key):
    """§2.6.s4.b4: a correctly made ECDSA signature is still not an RSA + SHA one."""
    with rejected("alg is 'ES256'"):
        verify_jws(es256_jws(ec_key))


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        ({"alg": "PS256"}, "'PS256'"),
        ({"alg": "rs256"}, "'rs256'"),
        ({"alg": "RS1024"}, "'RS1024'"),
        ({"alg": 256}, "missing"),
        ({"typ": "JWT"}, "missing"),
    ],
)
def test_other_or_missing_alg_is_rejected(header, shown):
    """§2.6.s4.b4: only "RS256", "RS384" or "RS512" (JWS algorithm names are case-sensitive,
    RFC 7515 §4.1.1)."""
    payload = b64url(orjson.dumps(STATEMENT))
    with rejected(f"alg is {shown}"):
        verify_jws(b64url(orjson.dumps(header)) + b"." + payload + b".c2ln")


def test_crit_header_is_rejected(pki):
    """RFC 7515 §4.1.11: a recipient that does not understand a critical extension MUST reject
    the JWS; none is understood here."""
    with rejected("crit"):
        verify_jws(sign(pki.leaf_key, chain=pki.chain, crit=["exp"], exp=1))


# --- malformed JWS --------------------------------------------------------------------------------

GOOD_HEADER = b64url(b'{"alg":"RS256"}')
GOOD_PAYLOAD = b64url(orjson.dumps(STATEMENT))
GOOD_SIGNATURE = b64url(b"\x01" * 256)


@pytest.mark.parametrize(
    ("jws", "message"),
    [
        (b"", "has 1"),
        (b"just-one-part", "has 1"),
        (GOOD_HEADER + b"." + GOOD_PAYLOAD, "has 2"),
        (b".".join([GOOD_HEADER, GOOD_PAYLOAD, GOOD_SIGNATURE, b"x"]), "has 4"),
        (b".".join([GOOD_HEADER, b"k", b"iv", GOOD_PAYLOAD, GOOD_SIGNATURE]), "has 5"),
        (b'{"payload":"e30","signatures":[]}', "JSON Serialization"),
        (b".".join([GOOD_HEADER + b"=", GOOD_PAYLOAD, GOOD_SIGNATURE]), "header is not base64url"),
        (b".".join([b"eyJhbGciOiJSUzI1NiJ9+", GOOD_PAYLOAD, GOOD_SIGNATURE]), "not base64url"),
        (b".".join([GOOD_HEADER, GOOD_PAYLOAD + b"!", GOOD_SIGNATURE]), "payload is not base64"),
        (b".".join([GOOD_HEADER, b"abcde", GOOD_SIGNATURE]), "payload is not base64url"),
        (b".".join([GOOD_HEADER, GOOD_PAYLOAD, "é".encode()]), "signature is not base64url"),
        (b".".join([b64url(b"not json"), GOOD_PAYLOAD, GOOD_SIGNATURE]), "header is not valid"),
        (b".".join([b64url(b'["RS256"]'), GOOD_PAYLOAD, GOOD_SIGNATURE]), "header must be a JSON"),
        (b".".join([GOOD_HEADER, b"", GOOD_SIGNATURE]), "payload is empty"),
        (b".".join([GOOD_HEADER, b64url(b"{not json"), GOOD_SIGNATURE]), "payload is not valid"),
        (b".".join([GOOD_HEADER, b64url(b'{"a":"\xff"}'), GOOD_SIGNATURE]), "not valid UTF-8"),
        (b".".join([GOOD_HEADER, b64url(b"[{}]"), GOOD_SIGNATURE]), "payload must be a JSON"),
        (b".".join([GOOD_HEADER, b64url(b'"statement"'), GOOD_SIGNATURE]), "must be a JSON obj"),
        (b".".join([GOOD_HEADER, GOOD_PAYLOAD, b""]), "signature is empty"),
    ],
)
def test_malformed_compact_serialization_is_rejected(jws, message):
    """§2.6.s5.b1: "The LRS MUST reject requests to store Statements that contain malformed
    signatures"; §2.6.s4.b1-b3: a JWS (RFC 7515, Compact Serialization SHOULD* be used) whose
    payload is "a valid JSON serialization of the complete Statement"."""
    with rejected(message):
        verify_jws(jws)


@pytest.mark.parametrize(
    ("x5c", "message"),
    [
        ("MIIB", "non-empty array"),
        ([], "non-empty array"),
        ([42], r"x5c\[0\] in the JWS header must be a string"),
        (["not base64!"], r"x5c\[0\] in the JWS header is not base64"),
        (["MIIB-_xx"], "not base64url|standard base64"),
        ([base64.b64encode(b"not a certificate").decode()], "not a DER-encoded X.509"),
    ],
)
def test_malformed_x5c_is_rejected(pki, x5c, message):
    """RFC 7515 §4.1.6: x5c "is represented as a JSON array of certificate value strings", each
    "base64-encoded (not base64url-encoded) DER"; §2.6.s5.b3.b3 verifies against it."""
    with rejected(message):
        verify_jws(sign(pki.leaf_key, x5c=x5c))


def test_errors_carry_the_given_path():
    """StatementError.path locates the signature attachment for the client's message
    (§2.6.s5.b2: "The LRS SHOULD include a message in the response of a rejected statement")."""
    with pytest.raises(StatementError) as caught:
        verify_jws(b"a.b", path="attachments[0]")
    assert caught.value.path == "attachments[0]"


@settings(deadline=None)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_statement_error(data):
    """Property: whatever the attachment holds, the outcome is a payload or a StatementError (a
    400), never an exception from a decoder or the cryptography library."""
    try:
        result = verify_jws(data)
    except StatementError:
        return
    assert isinstance(result, dict)


@settings(deadline=None, max_examples=150)
@given(position=st.integers(min_value=0), replacement=st.sampled_from(b"Aa0_-.=+/ \x00"))
def test_any_one_byte_change_is_rejected_or_harmless(pki, position, replacement):
    """Property: changing one byte of a signed JWS with x5c either is rejected or (when the
    change falls in the unused low bits of a base64url character of the signature) decodes to
    the same signed statement."""
    jws = bytearray(sign(pki.leaf_key, chain=[pki.leaf]))
    jws[position % len(jws)] = replacement
    try:
        result = verify_jws(bytes(jws))
    except StatementError:
        return
    assert result == STATEMENT


# --- declarations ---------------------------------------------------------------------------------


def signature_declaration(**extra) -> dict:
    return {
        "usageType": SIGNATURE_USAGE_TYPE,
        "display": {"en-US": "Signature"},
        "contentType": "application/octet-stream",
        "length": 4235,
        "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
    } | extra


def test_signature_attachments_are_found_by_usage_type():
    """§2.6.s4.b1: the JWS is "an Attachment with a usageType of
    http://adlnet.gov/expapi/attachments/signature"; other attachments and a SubStatement's
    declarations are not the statement's signature."""
    other = signature_declaration(usageType="http://example.com/certificate")
    first, second = signature_declaration(), signature_declaration(sha2="ab" * 32)
    sub = {"objectType": "SubStatement", "attachments": [signature_declaration()]}
    statement = STATEMENT | {"object": sub, "attachments": [other, first, "junk", second]}

    assert signature_attachments(statement) == [first, second]
    assert signature_attachments(STATEMENT) == []
    assert signature_attachments(STATEMENT | {"attachments": None}) == []


@pytest.mark.parametrize(
    "content_type", ["application/octet-stream", "Application/Octet-Stream ; x=y"]
)
def test_signature_declaration_with_octet_stream_is_accepted(content_type):
    """§2.6.s4.b1: the signature attachment has "a contentType of application/octet-stream"."""
    check_signature_declaration(signature_declaration(contentType=content_type))


@pytest.mark.parametrize("content_type", ["application/jose", "text/plain", None, 7])
def test_signature_declaration_with_other_content_type_is_rejected(content_type):
    """§2.6.s4.b1 with §2.6.s5.b3.b4: the LRS MUST "Validate that the signature requirements
    outlined above have been met", contentType application/octet-stream among them."""
    with pytest.raises(StatementError, match="application/octet-stream") as caught:
        check_signature_declaration(
            signature_declaration(contentType=content_type), path="attachments[1]"
        )
    assert caught.value.path == "attachments[1].contentType"


# Data Appendix D, "JWS signature": the spec's example, signed with the example key whose
# certificate chain is in the header.
SPEC_APPENDIX_D_JWS = (
    b"ew0KICAgICJhbGciOiAiUlMyNTYiLA0KICAgICJ4NWMiOiBbDQogICAgICAgICJNSUlEQVRDQ0FtcWdBd0lCQWdJ"
    b"SkFNQjFjc051QTYra01BMEdDU3FHU0liM0RRRUJCUVVBTUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlF"
    b"d2xVWlc1dVpYTnpaV1V4R0RBV0JnTlZCQW9URDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlho"
    b"aGJYQnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFSWVRaWGhoYlhCc1pVQmxlR0Z0Y0d4bExtTnZiVEFlRncweE16QTBN"
    b"RFF4TlRJNE16QmFGdzB4TkRBME1EUXhOVEk0TXpCYU1JR1dNUXN3Q1FZRFZRUUdFd0pWVXpFU01CQUdBMVVFQ0JN"
    b"SlZHVnVibVZ6YzJWbE1SRXdEd1lEVlFRSEV3aEdjbUZ1YTJ4cGJqRVlNQllHQTFVRUNoTVBSWGhoYlhCc1pTQkRi"
    b"MjF3WVc1NU1SQXdEZ1lEVlFRTEV3ZEZlR0Z0Y0d4bE1SQXdEZ1lEVlFRREV3ZEZlR0Z0Y0d4bE1TSXdJQVlKS29a"
    b"SWh2Y05BUWtCRmhObGVHRnRjR3hsUUdWNFlXMXdiR1V1WTI5dE1JR2ZNQTBHQ1NxR1NJYjNEUUVCQVFVQUE0R05B"
    b"RENCaVFLQmdRRGp4dlpYRjMwV0w0b0tqWllYZ1IwWnlhWCt1M3k2K0pxVHFpTmtGYS9WVG5ldDZMeTJPVDZabW1j"
    b"SkVQbnEzVW5ld3BIb09RK0dmaGhUa1cxM2owNmo1aU5uNG9iY0NWV1RMOXlYTnZKSCtLbyt4dTRZbC95U1BScklQ"
    b"eVRqdEhkRzBNMlh6SWxtbUxxbStDQVMrS0NiSmVINHRmNTQza0lXQzVwQzVwM2NWUUlEQVFBQm8zc3dlVEFKQmdO"
    b"VkhSTUVBakFBTUN3R0NXQ0dTQUdHK0VJQkRRUWZGaDFQY0dWdVUxTk1JRWRsYm1WeVlYUmxaQ0JEWlhKMGFXWnBZ"
    b"MkYwWlRBZEJnTlZIUTRFRmdRVVZzM3Y1YWZFZE9lb1llVmFqQVFFNHYwV1MxUXdId1lEVlIwakJCZ3dGb0FVeVZJ"
    b"YzN5dnJhNEVCejIwSTRCRjM5SUFpeEJrd0RRWUpLb1pJaHZjTkFRRUZCUUFEZ1lFQWdTL0ZGNUQwSG5qNDRydlQ2"
    b"a2duM2tKQXZ2MmxqL2Z5anp0S0lyWVMzM2xqWEduNmdHeUE0cXRiWEEyM1ByTzR1Yy93WUNTRElDRHBQb2JoNjJ4"
    b"VENkOXFPYktoZ3dXT2kwNVBTQkxxVXUzbXdmQWUxNUxKQkpCcVBWWjRLMGtwcGVQQlU4bTZhSVpvSDU3TC85dDRP"
    b"b2FMOHlLcy9xaktGZUkxT0ZXWnh2QT0iLA0KICAgICAgICAiTUlJRE56Q0NBcUNnQXdJQkFnSUpBTUIxY3NOdUE2"
    b"K2pNQTBHQ1NxR1NJYjNEUUVCQlFVQU1IRXhDekFKQmdOVkJBWVRBbFZUTVJJd0VBWURWUVFJRXdsVVpXNXVaWE56"
    b"WldVeEdEQVdCZ05WQkFvVEQwVjRZVzF3YkdVZ1EyOXRjR0Z1ZVRFUU1BNEdBMVVFQXhNSFJYaGhiWEJzWlRFaU1D"
    b"QUdDU3FHU0liM0RRRUpBUllUWlhoaGJYQnNaVUJsZUdGdGNHeGxMbU52YlRBZUZ3MHhNekEwTURReE5USTFOVE5h"
    b"RncweU16QTBNREl4TlRJMU5UTmFNSEV4Q3pBSkJnTlZCQVlUQWxWVE1SSXdFQVlEVlFRSUV3bFVaVzV1WlhOelpX"
    b"VXhHREFXQmdOVkJBb1REMFY0WVcxd2JHVWdRMjl0Y0dGdWVURVFNQTRHQTFVRUF4TUhSWGhoYlhCc1pURWlNQ0FH"
    b"Q1NxR1NJYjNEUUVKQVJZVFpYaGhiWEJzWlVCbGVHRnRjR3hsTG1OdmJUQ0JuekFOQmdrcWhraUc5dzBCQVFFRkFB"
    b"T0JqUUF3Z1lrQ2dZRUExc0JuQldQWjBmN1dKVUZUSnk1KzAxU2xTNVo2RERENlV5ZTl2SzlBeWNnVjVCMytXQzhI"
    b"QzV1NWg5MU11akFDMUFSUFZVT3RzdlBSczQ1cUtORklnSUdSWEtQQXdaamF3RUkyc0NKUlNLVjQ3aTZCOGJEdjRX"
    b"a3VHdlFhdmVaR0kwcWxtTjVSMUVpbTJnVUl0UmoxaGdjQzlyUWF2amxuRktEWTJybFhHdWtDQXdFQUFhT0IxakNC"
    b"MHpBZEJnTlZIUTRFRmdRVXlWSWMzeXZyYTRFQnoyMEk0QkYzOUlBaXhCa3dnYU1HQTFVZEl3U0JtekNCbUlBVXlW"
    b"SWMzeXZyYTRFQnoyMEk0QkYzOUlBaXhCbWhkYVJ6TUhFeEN6QUpCZ05WQkFZVEFsVlRNUkl3RUFZRFZRUUlFd2xV"
    b"Wlc1dVpYTnpaV1V4R0RBV0JnTlZCQW9URDBWNFlXMXdiR1VnUTI5dGNHRnVlVEVRTUE0R0ExVUVBeE1IUlhoaGJY"
    b"QnNaVEVpTUNBR0NTcUdTSWIzRFFFSkFSWVRaWGhoYlhCc1pVQmxlR0Z0Y0d4bExtTnZiWUlKQU1CMWNzTnVBNitq"
    b"TUF3R0ExVWRFd1FGTUFNQkFmOHdEUVlKS29aSWh2Y05BUUVGQlFBRGdZRUFEaHdUZWJHazczNXlLaG04RHFDeHZO"
    b"bkVaME54c1lFWU9qZ1JHMXlYVGxXNXBFNjkxZlNINUFaK1Q2ZnB3cFpjV1k1UVlrb042RG53ak94R2tTZlFDMy95"
    b"R21jVURLQlB3aVo1TzJzOUMrZkUxa1VFbnJYMlhlYTRhZ1ZuZ016UjhEUTZvT2F1TFdxZWhEQitnMkVOV1JMb1Zn"
    b"UyttYTUvWWNzMEdUeXJFQ1k9Ig0KICAgIF0NCn0.ew0KICAgICJ2ZXJzaW9uIjogIjEuMC4wIiwNCiAgICAiaWQi"
    b"OiAiMzNjZmY0MTYtZTMzMS00YzlkLTk2OWUtNTM3M2ExNzU2MTIwIiwNCiAgICAiYWN0b3IiOiB7DQogICAgICAg"
    b"ICJtYm94IjogIm1haWx0bzpleGFtcGxlQGV4YW1wbGUuY29tIiwNCiAgICAgICAgIm5hbWUiOiAiRXhhbXBsZSBM"
    b"ZWFybmVyIiwNCiAgICAgICAgIm9iamVjdFR5cGUiOiAiQWdlbnQiDQogICAgfSwNCiAgICAidmVyYiI6IHsNCiAg"
    b"ICAgICAgImlkIjogImh0dHA6Ly9hZGxuZXQuZ292L2V4cGFwaS92ZXJicy9leHBlcmllbmNlZCIsDQogICAgICAg"
    b"ICJkaXNwbGF5Ijogew0KICAgICAgICAgICAgImVuLVVTIjogImV4cGVyaWVuY2VkIg0KICAgICAgICB9DQogICAg"
    b"fSwNCiAgICAib2JqZWN0Ijogew0KICAgICAgICAiaWQiOiAiaHR0cHM6Ly93d3cueW91dHViZS5jb20vd2F0Y2g_"
    b"dj14aDRrSWlIM1NtOCIsDQogICAgICAgICJvYmplY3RUeXBlIjogIkFjdGl2aXR5IiwNCiAgICAgICAgImRlZmlu"
    b"aXRpb24iOiB7DQogICAgICAgICAgICAibmFtZSI6IHsNCiAgICAgICAgICAgICAgICAiZW4tVVMiOiAiVGF4IFRp"
    b"cHMgJiBJbmZvcm1hdGlvbiA6IEhvdyB0byBGaWxlIGEgVGF4IFJldHVybiAiDQogICAgICAgICAgICB9LA0KICAg"
    b"ICAgICAgICAgImRlc2NyaXB0aW9uIjogew0KICAgICAgICAgICAgICAgICJlbi1VUyI6ICJGaWxpbmcgYSB0YXgg"
    b"cmV0dXJuIHdpbGwgcmVxdWlyZSBmaWxsaW5nIG91dCBlaXRoZXIgYSAxMDQwLCAxMDQwQSBvciAxMDQwRVogZm9y"
    b"bSINCiAgICAgICAgICAgIH0NCiAgICAgICAgfQ0KICAgIH0sDQogICAgInRpbWVzdGFtcCI6ICIyMDEzLTA0LTAx"
    b"VDEyOjAwOjAwWiINCn0.FWuwaPhwUbkk7h9sKW5zSvjsYNugvxJ-TrVaEgt_DCUT0bmKhQScRrjMB6P9O50uznPw"
    b"T66oF1NnU_G0HVhRzS5voiXE-y7tT3z0M3-8A6YK009Bk_digVUul-HA4Fpd5IjoBBGe3yzaQ2ZvzarvRuipvNEQ"
    b"CI0onpfuZZJQ0d8"
)
