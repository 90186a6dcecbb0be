from django.urls import include, path

urlpatterns = [
    path("labs/", include("kmslab.labs.urls")),
    path("", include("kmslab.workshops.urls")),
    path("", include("kmslab.console.urls")),
]
