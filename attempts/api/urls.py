from django.urls import path

from attempts.api.views import AttemptsView, CompletionsView, RollupView

urlpatterns = [
    path("attempts", AttemptsView.as_view(), name="api-attempts"),
    path("completions", CompletionsView.as_view(), name="api-completions"),
    path("rollups", RollupView.as_view(), name="api-rollups"),
]
