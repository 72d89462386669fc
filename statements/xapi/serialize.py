"""JSON text of a Statement, however deeply nested.

orjson writes every Statement the LRS stores and serves, but refuses to nest deeper than
254 arrays or objects, while it reads up to 1,024; extension values may nest that deep and
are never a reason to reject a Statement (Data §4.1.s3.b2). ``json_bytes`` is orjson's
output whenever orjson can write the value, and the same bytes, written level by level,
when it cannot.

Pure: no Django, no database.
"""

from __future__ import annotations

import orjson

__all__ = ["json_bytes"]

_END = object()


def json_bytes(value: object, *, sort_keys: bool = False) -> bytes:
    """Compact JSON of a JSON value (dicts with str keys, lists, str, int, float, bool,
    None), keys in order or sorted; exactly ``orjson.dumps`` for every value it writes."""
    option = orjson.OPT_SORT_KEYS if sort_keys else 0
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError as exc:
        if "Recursion limit" not in str(exc):
            raise
    return _dumps_iteratively(value, option, sort_keys)


def _dumps_iteratively(root: object, option: int, sort_keys: bool) -> bytes:
    out = bytearray()
    # One frame per open container: its remaining items, whether it is an object, and
    # whether an item was written yet.
    stack: list[list] = []
    node = root
    while True:
        kind = type(node)
        if kind is dict:
            items = sorted(node.items(), key=lambda item: item[0]) if sort_keys else node.items()
            out += b"{"
            stack.append([iter(items), True, False])
        elif kind is list:
            out += b"["
            stack.append([iter(node), False, False])
        else:
            out += orjson.dumps(node, option=option)
        while stack:
            frame = stack[-1]
            item = next(frame[0], _END)
            if item is _END:
                out += b"}" if frame[1] else b"]"
                stack.pop()
                continue
            if frame[2]:
                out += b","
            frame[2] = True
            if frame[1]:
                key, node = item
                out += orjson.dumps(key) + b":"
            else:
                node = item
            break
        else:
            return bytes(out)
