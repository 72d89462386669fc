from django.urls import path

from statements.api.definitions import ActivitiesView, AgentsView
from statements.api.views import StatementsView

# A trailing slash is accepted for each, as for every xAPI resource.
urlpatterns = []
for _route, _view in {
    "statements": StatementsView,
    "activities": ActivitiesView,
    "agents": AgentsView,
}.items():
    urlpatterns += [
        path(_route, _view.as_view(), name=f"xapi-{_route}"),
        path(f"{_route}/", _view.as_view()),
    ]
