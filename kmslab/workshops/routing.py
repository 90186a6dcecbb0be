from django.urls import path

from .consumers import DashboardConsumer, WorkshopConsumer

websocket_urlpatterns = [
    path("ws/workshops/<int:workshop_id>/dashboard/", DashboardConsumer.as_asgi()),
    path("ws/workshops/<int:workshop_id>/", WorkshopConsumer.as_asgi()),
]
