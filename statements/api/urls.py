from django.urls import path

from statements.api.views import StatementsView

urlpatterns = [
    path("statements", StatementsView.as_view(), name="xapi-statements"),
    path("statements/", StatementsView.as_view()),
]
