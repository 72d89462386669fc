"""Session, authentication and messages middleware for the pages used in a browser (the
admin), and not for the API.

The xAPI resources (``/xapi/``) and the internal REST API (``/api/``) authenticate every
request by its credential (``tenants.auth``): they never read a session, a Django user or
a message. Running the three middleware on those requests anyway cost about 110 µs of CPU
each (about 6 % of a one-statement POST, measured in process). These subclasses pass API
requests straight on; every other path gets Django's own behaviour. They stay subclasses,
so Django's admin checks (which look for the middleware classes or subclasses of them)
still see them, and the CSRF middleware, which hooks into views, stays in the stack as is.

Invariant: a request under ``API_PREFIXES`` has neither ``request.session`` nor
``request.user``; code serving those paths must not need them.
"""

from __future__ import annotations

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions

API_PREFIXES = ("/xapi/", "/api/")


class _BrowserOnly:
    def __call__(self, request):
        if request.path_info.startswith(API_PREFIXES):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_BrowserOnly, sessions.SessionMiddleware):
    """Django's session middleware, except under ``API_PREFIXES``."""


class AuthenticationMiddleware(_BrowserOnly, auth.AuthenticationMiddleware):
    """Django's authentication middleware, except under ``API_PREFIXES``."""


class MessageMiddleware(_BrowserOnly, messages.MessageMiddleware):
    """Django's messages middleware, except under ``API_PREFIXES``."""
