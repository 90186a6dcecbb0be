from django.urls import path

from .consumers import TrailConsumer

websocket_urlpatterns = [
    path("ws/sandboxes/<uuid:sandbox_id>/trail/", TrailConsumer.as_asgi()),
]
