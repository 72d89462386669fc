"""Signed statements: JWS checks (Data §2.6).

A signed statement carries a JSON Web Signature (RFC 7515) as an attachment with usageType
``SIGNATURE_USAGE_TYPE``; its payload is the statement as serialized before the signature was
added. The LRS "MUST reject requests to store Statements that contain malformed signatures"
(§2.6.s5.b1) and, to tell, MUST decode the JWS and load the payload, check the payload against
the received statement, validate the signature against the X.509 certificate if the JWS header
includes one, and check the signature requirements of §2.6.s4 (§2.6.s5.b3).

This module does the JWS part (``verify_jws``) and finds the declarations
(``signature_attachments``, ``check_signature_declaration``); comparing the payload with the
statement is the caller's, with the equivalence rules, as ``verify_jws`` documents.

The spec says the certificate check "is intended as a way to catch mistakes in the signature,
not as a security measure" (§2.6 note). So the certificate chain is checked for consistency
only: each certificate in ``x5c`` must be signed by the next one, but no certificate is checked
against a trust root, a validity period or a revocation list. An accepted signature says the
JWS is well formed and, where a certificate came with it, that it verifies with that
certificate's key; it says nothing about who signed (and clients "MUST NOT assume a signature
is valid simply because an LRS has accepted it", §2.6.s6.b2).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

from statements.xapi.equivalence import equivalent
from statements.xapi.errors import StatementError, join_path

__all__ = [
    "SIGNATURE_USAGE_TYPE",
    "check_signature_declaration",
    "signature_attachments",
    "verify_jws",
]

SIGNATURE_USAGE_TYPE = "http://adlnet.gov/expapi/attachments/signature"

# §2.6.s4.b4: "The JWS signature MUST use an algorithm of RS256, RS384, or RS512."
_HASH_BY_ALGORITHM: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}
# RFC 7515 §2: base64url with the trailing "=" padding removed.
_BASE64URL_RE = re.compile(rb"[A-Za-z0-9_-]*")
_SIGNATURE_CONTENT_TYPE = "application/octet-stream"


def signature_attachments(statement: dict) -> list[dict]:
    """The statement's attachment declarations whose usageType marks them as signatures.

    Only the statement's own ``attachments`` are searched: the signature covers the whole
    statement (§2.6.s4.b3), so a signature declared inside a SubStatement is not a statement
    signature. Order is kept. Declarations that are not objects are skipped (the statement
    validator reports them).
    """
    declared = statement.get("attachments")
    if not isinstance(declared, list):
        return []
    return [
        declaration
        for declaration in declared
        if isinstance(declaration, dict) and declaration.get("usageType") == SIGNATURE_USAGE_TYPE
    ]


def statement_without_signature(statement: dict) -> dict:
    """The statement as it was before it was signed (§2.6.s4.b3): without its signature
    declarations, and without ``attachments`` when nothing else was declared. This is what
    ``verify_jws``'s payload is compared with, under the statement equivalence rules."""
    declared = statement.get("attachments")
    if not isinstance(declared, list):
        return statement
    kept = [
        declaration
        for declaration in declared
        if not (
            isinstance(declaration, dict) and declaration.get("usageType") == SIGNATURE_USAGE_TYPE
        )
    ]
    unsigned = {key: value for key, value in statement.items() if key != "attachments"}
    if kept:
        unsigned["attachments"] = kept
    return unsigned


def check_signature_declaration(declaration: dict, *, path: str = "") -> None:
    """Reject a signature declaration whose contentType is not ``application/octet-stream``.

    §2.6.s4.b1 requires the signature attachment to have "a contentType of
    application/octet-stream", and the LRS MUST "validate that the signature requirements
    outlined above have been met" (§2.6.s5.b3.b4). The type/subtype is compared
    case-insensitively; parameters are ignored. ``path`` locates the declaration, e.g.
    ``attachments[0]``.
    """
    content_type = declaration.get("contentType")
    essence = content_type.split(";", 1)[0].strip().lower() if isinstance(content_type, str) else ""
    if essence != _SIGNATURE_CONTENT_TYPE:
        raise StatementError(
            "a signature attachment must have contentType application/octet-stream (Data §2.6)",
            join_path(path, "contentType"),
        )


def verify_jws(jws: bytes, *, path: str = "") -> dict:
    """Check a statement signature and return its payload, the statement as signed.

    ``jws`` is the data of the signature attachment part. Accepted: JWS Compact Serialization
    (``header.payload.signature``, base64url without padding) whose protected header names
    ``alg`` RS256, RS384 or RS512 and has no ``crit`` (no extension is understood here, and
    RFC 7515 §4.1.11 requires rejecting those that are not), with a non-empty payload that is a
    JSON object and a non-empty signature. Surrounding ASCII white space is ignored.

    If the header has ``x5c``, the signature MUST verify (§2.6.s5.b3.b3): the first certificate's
    RSA public key checks the signature over the received ``header.payload`` text, and each
    certificate of the chain must be issued and signed by the one after it (RFC 7515 §4.1.6).
    Expiry dates, trust roots and revocation are not checked (see the module docstring); this is
    why the spec's own Appendix D example, whose certificates expired in 2014 and are signed with
    SHA-1, passes.

    Without ``x5c`` there is nothing to verify the signature with: §2.6.s5.b3 makes the check
    conditional ("If the JWS header includes an X.509 certificate"), and x5c is only a SHOULD
    (§2.6.s4.b6). Such a JWS is accepted when well formed. A key given another way (``x5u``,
    ``jku``, ``jwk``) is not fetched or used: it is not an included certificate.

    JWS JSON Serialization is not supported and is rejected with a message saying so.
    §2.6.s4.b2 says compact SHOULD* be used, JSON is "strongly discouraged" and to be forbidden
    in a later version; About §2.1 asks to treat a SHOULD* as a MUST while still supporting
    adopters who do not, so this is a deliberate gap, not a spec rule.

    What the caller must still do (§2.6.s5.b3.b2, "Validate that the original Statement is
    logically equivalent to the received Statement", with the Statement comparison requirements
    of Data §2.3.1):

    - Compare the returned payload with the received statement as the client sent it (after
      validation, before this LRS fills in id, stored, authority, version or timestamp),
      with the signature declaration removed from its ``attachments`` and ``attachments``
      removed if that leaves it empty: the payload is "the complete Statement before the
      signature was added" (§2.6.s4.b3). Every other attachment declaration is compared.
    - Differences that the exceptions to immutability (Data §2.3.1) could have caused MUST be
      ignored: ``stored`` and ``authority`` wherever they differ (an LRS overwrites them,
      §2.4.8, §2.4.9), and ``id``, ``timestamp`` and ``version`` when the payload lacks them and
      the received statement has them (an LRS assigns them when absent; an earlier LRS may
      have, if the statement was forwarded). A present ``timestamp`` compares as an instant, not
      as text (§2.3.1.b4); a present ``id`` or ``version`` must be equal. The rest follows the
      equivalence rules (Group members unordered, case-insensitive parts, Verb display and
      Activity definitions ignored per §2.3.1.b2-b3, duration compared as a string).
    - A signature declaration whose data did not arrive as a part (a fileUrl only) cannot be
      decoded, which §2.6.s5.b3.b1 requires: reject it too. Call
      ``check_signature_declaration`` on each declaration.

    Raises ``StatementError`` (with ``path`` as its path) on every failure; no exception of the
    cryptography library escapes.
    """
    text = jws.strip()
    if text.startswith(b"{"):
        raise StatementError(
            "the signature uses JWS JSON Serialization; send it in JWS Compact Serialization "
            "(header.payload.signature, Data §2.6)",
            path,
        )
    segments = text.split(b".")
    if len(segments) != 3:
        raise StatementError(
            "the signature is not a JWS in Compact Serialization: that has 3 dot-separated "
            f"parts (header.payload.signature), this has {len(segments)}",
            path,
        )
    header_b64, payload_b64, signature_b64 = segments

    header = _json_object(_decode_base64url(header_b64, "header", path), "header", path)
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in _HASH_BY_ALGORITHM:
        shown = repr(algorithm[:20]) if isinstance(algorithm, str) else "missing"
        raise StatementError(
            f"the JWS alg is {shown}; a statement signature must use RS256, RS384 or RS512 "
            "(Data §2.6)",
            path,
        )
    if "crit" in header:
        raise StatementError(
            "the JWS header has a crit parameter; no JWS extensions are supported (RFC 7515)",
            path,
        )

    payload_bytes = _decode_base64url(payload_b64, "payload", path)
    if not payload_bytes:
        raise StatementError(
            "the JWS payload is empty; it must be the signed statement (Data §2.6)", path
        )
    payload = _json_object(payload_bytes, "payload", path)

    signature = _decode_base64url(signature_b64, "signature", path)
    if not signature:
        raise StatementError("the JWS signature is empty", path)

    if "x5c" in header:
        chain = _certificate_chain(header["x5c"], path)
        _check_chain(chain, path)
        _check_signature(chain[0], algorithm, signature, header_b64 + b"." + payload_b64, path)
    return payload


def _decode_base64url(segment: bytes, what: str, path: str) -> bytes:
    if not _BASE64URL_RE.fullmatch(segment) or len(segment) % 4 == 1:
        raise StatementError(
            f"the JWS {what} is not base64url without padding (RFC 7515)",
            path,
        )
    try:
        return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise StatementError(f"the JWS {what} is not valid base64url", path) from None


def _json_object(data: bytes, what: str, path: str) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise StatementError(f"the JWS {what} is not valid UTF-8 JSON", path) from None
    if not isinstance(value, dict):
        raise StatementError(f"the JWS {what} must be a JSON object", path)
    return value


def _certificate_chain(x5c: object, path: str) -> list[x509.Certificate]:
    """The certificates of an ``x5c`` header: standard base64 (not base64url) of DER,
    the signing certificate first (RFC 7515 §4.1.6)."""
    if not isinstance(x5c, list) or not x5c:
        raise StatementError("the JWS x5c header must be a non-empty array of certificates", path)
    chain = []
    for index, encoded in enumerate(x5c):
        if not isinstance(encoded, str):
            raise StatementError(f"x5c[{index}] in the JWS header must be a string", path)
        try:
            der = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise StatementError(
                f"x5c[{index}] in the JWS header is not base64 (RFC 7515 §4.1.6 uses standard "
                "base64, not base64url)",
                path,
            ) from None
        try:
            chain.append(x509.load_der_x509_certificate(der))
        except ValueError:
            raise StatementError(
                f"x5c[{index}] in the JWS header is not a DER-encoded X.509 certificate", path
            ) from None
    return chain


def _check_chain(chain: list[x509.Certificate], path: str) -> None:
    """Each certificate must be issued and signed by the next (RFC 7515 §4.1.6: "Each
    following certificate MUST directly certify the one preceding it").

    Done by hand rather than with ``Certificate.verify_directly_issued_by``, which refuses
    SHA-1 signatures; the spec's example chain (Data Appendix D) is signed with SHA-1, and
    this check is for consistency, not for security.
    """
    for index in range(len(chain) - 1):
        subject, issuer = chain[index], chain[index + 1]
        if subject.issuer != issuer.subject:
            raise StatementError(
                f"x5c[{index + 1}] did not issue x5c[{index}]: the issuer name of x5c[{index}] "
                f"is not the subject name of x5c[{index + 1}]",
                path,
            )
        try:
            _verify_certificate_signature(subject, issuer.public_key())
        except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
            raise StatementError(
                f"the signature on x5c[{index}] does not verify with the key of x5c[{index + 1}]",
                path,
            ) from None


def _verify_certificate_signature(certificate: x509.Certificate, key: object) -> None:
    """Raise unless ``key`` made the signature on ``certificate``."""
    signed, signature = certificate.tbs_certificate_bytes, certificate.signature
    if isinstance(key, rsa.RSAPublicKey):
        scheme = certificate.signature_algorithm_parameters
        if not isinstance(scheme, padding.PKCS1v15 | padding.PSS):
            raise TypeError("not an RSA signature")
        key.verify(signature, signed, scheme, certificate.signature_hash_algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        scheme = certificate.signature_algorithm_parameters
        if not isinstance(scheme, ec.ECDSA):
            raise TypeError("not an ECDSA signature")
        key.verify(signature, signed, scheme)
    elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        key.verify(signature, signed)
    elif isinstance(key, dsa.DSAPublicKey):
        hash_algorithm = certificate.signature_hash_algorithm
        if hash_algorithm is None:
            raise TypeError("no hash algorithm")
        key.verify(signature, signed, hash_algorithm)
    else:
        raise TypeError("unsupported issuer key type")


def _check_signature(
    certificate: x509.Certificate, algorithm: str, signature: bytes, signed: bytes, path: str
) -> None:
    try:
        key = certificate.public_key()
    except (UnsupportedAlgorithm, ValueError):
        raise StatementError("the public key of the x5c certificate cannot be read", path) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise StatementError(
            f"the x5c certificate has no RSA key, so it cannot have made an {algorithm} signature",
            path,
        )
    try:
        key.verify(signature, signed, padding.PKCS1v15(), _HASH_BY_ALGORITHM[algorithm]())
    except (InvalidSignature, ValueError):
        raise StatementError(
            f"the JWS signature does not verify with the key of the x5c certificate ({algorithm}):"
            " the header or payload was changed after signing, or another key signed it",
            path,
        ) from None


def verify_statement_signatures(
    statement: dict, parts_by_sha2: dict, *, path_prefix: str = ""
) -> None:
    """Data §2.6 for one statement: every signature declaration has the right content type,
    its JWS arrived as a part and verifies, and its payload is the statement as signed
    (equivalent to it without the signature, with the same id when both carry one).

    ``parts_by_sha2`` maps lowercase digests to received parts (``multipart``).
    """
    for index, declaration in enumerate(statement.get("attachments") or []):
        if not (
            isinstance(declaration, dict) and declaration.get("usageType") == SIGNATURE_USAGE_TYPE
        ):
            continue
        path = f"{path_prefix}.attachments[{index}]".lstrip(".")
        check_signature_declaration(declaration, path=path)
        part = parts_by_sha2.get(str(declaration.get("sha2", "")).lower())
        if part is None:
            raise StatementError("the signature must be sent as an attachment part", path)
        payload = verify_jws(part.data, path=path)
        signed_id = str(payload.get("id", "")).lower()
        if signed_id and "id" in statement and signed_id != str(statement["id"]).lower():
            raise StatementError("the signed payload has another statement id", path)
        if not equivalent(statement_without_signature(statement), payload):
            raise StatementError("the signed payload does not match the statement", path)
