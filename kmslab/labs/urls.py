from django.urls import path

from . import views

app_name = "labs"

R = "runs/<uuid:sandbox_id>/"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("progress/", views.progress, name="progress"),
    path("<slug:slug>/start/", views.start, name="start"),
    path(R, views.run_page, name="run"),
    path(R + "hints/<str:objective_id>/", views.hint, name="hint"),
    path(R + "reset/", views.reset, name="reset"),
    path(R + "debrief/", views.debrief, name="debrief"),
    path(R + "certificate/", views.certificate, name="certificate"),
]
