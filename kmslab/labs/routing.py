from django.urls import path

from .consumers import LabConsumer

websocket_urlpatterns = [
    path("ws/sandboxes/<uuid:sandbox_id>/lab/", LabConsumer.as_asgi()),
]
