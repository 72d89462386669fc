from django.urls import path

from lrs.views import AboutView, UnavailableResourceView
from tenants import scopes


def _unavailable(name: str, read: tuple[str, ...], write: tuple[str, ...]):
    return UnavailableResourceView.as_view(resource_name=name, read_scopes=read, write_scopes=write)


# Communication §2.0 lists the resources; a trailing slash is accepted for each. Served
# resources are routed by their own apps (progress_site/urls.py), ahead of these.
_RESOURCES = {
    "activities/state": _unavailable("State", (scopes.STATE,), (scopes.STATE,)),
    "activities/profile": _unavailable("Activity Profile", (scopes.PROFILE,), (scopes.PROFILE,)),
    "agents/profile": _unavailable("Agent Profile", (scopes.PROFILE,), (scopes.PROFILE,)),
    "activities": _unavailable("Activities", (scopes.DEFINE,), ()),
    "agents": _unavailable("Agents", (scopes.DEFINE,), ()),
}

urlpatterns = [
    path("about", AboutView.as_view(), name="xapi-about"),
    path("about/", AboutView.as_view()),
]
for _route, _view in _RESOURCES.items():
    urlpatterns += [path(_route, _view, name=f"xapi-{_route}"), path(f"{_route}/", _view)]
