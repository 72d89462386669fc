"""Session, user and messages exist for the admin and not for API requests."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import checks
from django.http import HttpResponse
from django.test import RequestFactory

from progress_site.browser_middleware import (
    AuthenticationMiddleware,
    MessageMiddleware,
    SessionMiddleware,
)


def _through_the_stack(path: str):
    seen = {}

    def view(request):
        seen["session"] = hasattr(request, "session")
        seen["user"] = getattr(request, "user", None)
        seen["messages"] = hasattr(request, "_messages")
        return HttpResponse("ok")

    handler = SessionMiddleware(AuthenticationMiddleware(MessageMiddleware(view)))
    response = handler(RequestFactory().get(path))
    assert response.status_code == 200
    return seen


@pytest.mark.parametrize("path", ["/xapi/statements", "/xapi/about", "/api/v1/attempts"])
def test_api_requests_get_no_session_user_or_messages(path):
    assert _through_the_stack(path) == {"session": False, "user": None, "messages": False}


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/xapi", "/apiary"])
def test_other_paths_get_djangos_session_user_and_messages(path):
    seen = _through_the_stack(path)
    assert seen["session"] is True
    assert seen["messages"] is True
    assert isinstance(seen["user"], AnonymousUser)


def test_the_admins_middleware_checks_still_pass():
    errors = [m for m in checks.run_checks(tags=["admin"]) if m.level >= checks.ERROR]
    assert errors == []
