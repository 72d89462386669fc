from django.urls import path

from documents.api.views import ActivityProfileView, AgentProfileView, StateView

# A trailing slash is accepted for each, as for every xAPI resource (lrs.urls).
urlpatterns = []
for _route, _view in {
    "activities/state": StateView,
    "activities/profile": ActivityProfileView,
    "agents/profile": AgentProfileView,
}.items():
    urlpatterns += [
        path(_route, _view.as_view(), name=f"xapi-{_route}"),
        path(f"{_route}/", _view.as_view()),
    ]
