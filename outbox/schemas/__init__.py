"""Versioned JSON Schemas of event payloads (the envelope's ``data``), one file per type and
version: ``<type>.v<version>.json`` in this package (docs/events.md).

``validate_event`` uses ``jsonschema`` and costs about 200 µs per event (ARCHITECTURE.md
§10), so it is for tests and tooling, not the enqueue path: emitters check their payloads
against these schemas in their tests, and the relay publishes what was enqueued.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import jsonschema
from jsonschema import Draft202012Validator

from outbox.events import SCHEMA_VERSIONS

_DIRECTORY = Path(__file__).resolve().parent


class UnknownSchema(LookupError):
    """No schema for that event type and version."""


class InvalidEvent(ValueError):
    """A payload does not match its schema; the message names the field and the rule."""


def schema_path(event_type: str, version: int) -> Path:
    return _DIRECTORY / f"{event_type}.v{version}.json"


@functools.cache
def _validator(event_type: str, version: int) -> Draft202012Validator:
    if version not in SCHEMA_VERSIONS.get(event_type, ()):
        raise UnknownSchema(f"no schema for event type {event_type!r} version {version!r}")
    schema = json.loads(schema_path(event_type, version).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_for(event_type: str, version: int) -> dict:
    """The JSON Schema (a copy: callers may change it) of ``event_type`` at ``version``."""
    return copy.deepcopy(_validator(event_type, version).schema)


def validate_event(event_type: str, version: int, data: dict) -> None:
    """Raise ``InvalidEvent`` unless ``data`` matches the schema; ``UnknownSchema`` for an
    unknown type or version. Every violation is reported, each with its JSON path."""
    validator = _validator(event_type, version)
    errors = sorted(validator.iter_errors(data), key=lambda error: list(error.absolute_path))
    if errors:
        details = "; ".join(_describe(error) for error in errors)
        raise InvalidEvent(f"{event_type} v{version} payload is invalid: {details}")


def _describe(error: jsonschema.ValidationError) -> str:
    path = "".join(f"[{part!r}]" for part in error.absolute_path) or "(payload)"
    if error.validator == "oneOf" and error.context:
        # A nullable field: the useful message is the non-null branch's.
        reasons = [_describe(sub) for sub in error.context if sub.validator != "type"]
        return "; ".join(reasons) + " (or null)" if reasons else f"{path}: {error.message}"
    return f"{path}: {error.message}"
