"""Pure xAPI statement handling: no ORM, no database, no HTTP framework.

Everything here is a function from JSON-like values (``dict``/``list``/``str``/numbers/
``bool``/``None`` as ``orjson.loads`` produces them) or bytes to values or a
``StatementError``. Version is passed as ``v2: bool`` (False: 1.0.x rules, True: 2.0 rules,
ARCHITECTURE.md §8). Modules:

- ``errors``: ``StatementError(message, path)``, ``join_path``.
- ``validate``: ``validate_statement(doc, *, v2, path="") -> dict`` checks one statement
  against the Data section and returns a normalised deep copy (context activities as
  arrays, 2.0 timestamps in UTC); ``validate_statements(body, *, v2) -> list[dict]`` for a
  POST body (one statement or an array); ``validate_agent(doc, *, v2, path) -> dict`` for an
  Agent or Group given as a query parameter.
- ``ifi``: ``ifi_key(actor) -> str | None``, the canonical string of an Agent's or
  identified Group's Inverse Functional Identifier, used in every lookup column.
- ``lookups``: ``extract_lookups(statement) -> Lookups``, the values stored in the lookup
  columns of the ``statements`` table.
- ``equivalence``: ``fingerprint(statement) -> bytes`` and ``equivalent(a, b) -> bool``
  under the Statement comparison requirements (Data §2.3.1).
- ``formats``: the ``ids`` and ``canonical`` formats of GET, Accept-Language parsing, and
  what a 1.0.3 reader is served of a statement stored under 2.0.
- ``multipart``: ``multipart/mixed`` statement requests and responses with attachments.
- ``signature``: JWS verification of signed statements.
"""
