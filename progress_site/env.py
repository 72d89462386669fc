"""Typed readers for environment variables.

Every setting the service takes from its environment goes through one of these helpers,
so a missing or malformed value stops the process at start-up with a message that names
the variable and says what was expected, instead of failing later on first use.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
#: Marks a variable without default: its absence is a configuration error.
REQUIRED = object()


class Env:
    """Reads variables from ``environ`` (``os.environ`` by default).

    ``default`` is used when the variable is absent or empty; with no default the variable
    is required and its absence raises ``ImproperlyConfigured``.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def _raw(self, name: str, default: object) -> str | object:
        """The stripped value, or ``default`` unchanged (already typed by the caller)."""
        value = self._environ.get(name, "")
        if value.strip() == "":
            if default is REQUIRED:
                raise ImproperlyConfigured(f"{name} is required but not set")
            return default
        return value.strip()

    def str(self, name: str, default: object = REQUIRED) -> str:
        return self._raw(name, default)  # type: ignore[return-value]

    def choice(self, name: str, choices: tuple[str, ...], default: object = REQUIRED) -> str:
        value = self._raw(name, default)
        if value not in choices:
            raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        return value  # type: ignore[return-value]

    def bool(self, name: str, default: object = REQUIRED) -> bool:
        value = self._raw(name, default)
        if not isinstance(value, str):
            return value  # type: ignore[return-value]
        lowered = str(value).lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0); got {value!r}")

    def int(
        self,
        name: str,
        default: object = REQUIRED,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self._raw(name, default)
        if not isinstance(value, str):
            return value  # type: ignore[return-value]
        try:
            number = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise ImproperlyConfigured(f"{name} must be an integer; got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name} must be >= {minimum}; got {number}")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name} must be <= {maximum}; got {number}")
        return number

    def float(
        self, name: str, default: object = REQUIRED, *, minimum: float | None = None
    ) -> float:
        value = self._raw(name, default)
        if not isinstance(value, str):
            return value  # type: ignore[return-value]
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ImproperlyConfigured(f"{name} must be a number; got {value!r}")
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name} must be a number >= {minimum}; got {value!r}")
        return number

    def list(self, name: str, default: object = REQUIRED) -> list[str]:
        """A comma-separated list; empty items are dropped."""
        value = self._raw(name, default)
        if not isinstance(value, str):
            return value  # type: ignore[return-value]
        return [item.strip() for item in str(value).split(",") if item.strip()]

    def url(self, name: str, schemes: tuple[str, ...], default: object = REQUIRED) -> str:
        value = self._raw(name, default)
        _check_url(name, str(value), schemes)
        return value  # type: ignore[return-value]

    def url_list(
        self, name: str, schemes: tuple[str, ...], default: object = REQUIRED
    ) -> list[str]:
        value = self._raw(name, default)
        if not isinstance(value, str):
            return value  # type: ignore[return-value]
        urls = self.list(name)
        for url in urls:
            _check_url(name, url, schemes)
        return urls

    def mapping(self, name: str, default: object = REQUIRED) -> dict[str, str]:
        """``key=value,key=value`` pairs, for example ``eu=https://eu.example.org``."""
        value = self._raw(name, default)
        if not isinstance(value, str):
            return value  # type: ignore[return-value]
        result: dict[str, str] = {}
        for item in self.list(name):
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ImproperlyConfigured(f"{name} must be key=value pairs; got {item!r}")
            result[key.strip()] = value.strip()
        return result

    def networks(self, name: str, default: object = REQUIRED) -> list[ipaddress._BaseNetwork]:
        value = self._raw(name, default)
        if not isinstance(value, str):
            return value  # type: ignore[return-value]
        networks = []
        for item in self.list(name):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ImproperlyConfigured(
                    f"{name} must be a list of CIDR networks; got {item!r}"
                ) from None
        return networks


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not a valid URL: {url!r}") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must be a URL with scheme {' or '.join(schemes)} and a host; got {url!r}"
        )
