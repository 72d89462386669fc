"""The one error the pure xAPI layer raises."""

from __future__ import annotations


class StatementError(ValueError):
    """A document breaks a rule of the xAPI specification.

    ``path`` locates the offending value from the root of what was validated, in the form
    ``context.contextActivities.parent[0].id`` (``[3].actor.mbox`` inside a batch);
    ``""`` means the document as a whole. ``message`` says what rule was broken, for the
    client, in plain words; it never echoes more than a short excerpt of the input.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path


def join_path(base: str, key: str | int) -> str:
    """``join_path("context", "registration")`` -> ``context.registration``;
    ``join_path("parent", 0)`` -> ``parent[0]``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key
