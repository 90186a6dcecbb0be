from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "workshops"

W = "instructor/workshops/<int:workshop_id>/"

urlpatterns = [
    # Learners.
    path("join/", views.join, name="join"),
    path("workshops/<int:workshop_id>/", views.learn, name="learn"),
    path("workshops/<int:workshop_id>/labs/<slug:slug>/start/", views.start, name="start"),
    path("workshops/<int:workshop_id>/resume-link/", views.new_resume_link, name="new_resume_link"),
    path("resume/<str:secret>/", views.resume, name="resume"),
    # Instructors.
    path("login/", views.login, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("instructor/", views.workshops, name="list"),
    path(W, views.dashboard_page, name="dashboard"),
    path(W + "learners/<int:learner_id>/", views.learner_page, name="learner"),
    path(W + "runs/<uuid:sandbox_id>/reset/", views.reset_run, name="reset_run"),
    path(W + "clock/", views.advance_clock, name="advance_clock"),
    path(W + "announce/", views.announce, name="announce"),
    path(W + "hints/", views.hints, name="hints"),
    path(W + "learner-clock/", views.learner_clock, name="learner_clock"),
    path(W + "stuck/", views.stuck_minutes, name="stuck_minutes"),
    path(W + "retention/", views.retention, name="retention"),
    path(W + "closes/", views.closes, name="closes"),
    path(W + "join-code/", views.join_code, name="join_code"),
    path(W + "close/", views.close, name="close"),
    path(W + "reopen/", views.reopen, name="reopen"),
    path(W + "delete/", views.delete, name="delete"),
    path(W + "progress.<str:fmt>", views.export_progress, name="export"),
]
