from django.urls import include, path

urlpatterns = [
    path("", include("kmslab.console.urls")),
]
