from django.urls import path

from lrs.views import AboutView

# Communication §2.0 lists the resources; each app routes its own (progress_site/urls.py),
# with a trailing slash accepted for each.
urlpatterns = [
    path("about", AboutView.as_view(), name="xapi-about"),
    path("about/", AboutView.as_view()),
]
