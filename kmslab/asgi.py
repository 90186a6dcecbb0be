"""The ASGI entry point: the AWS endpoint, websockets and Django side by side.

`/aws/` is the hot path that boto3 and the CLI hit: a lean ASGI application
that goes through the same sandboxes layer as the console but skips Django's
request cycle (about 1 ms of CPU per request here, see shared/research/perf-baseline.md).
While KMSLAB_ALLOW_ANY_CREDENTIALS is on, `POST /kmslab-api/reset` (or moto's
`/aws/moto-api/reset`) empties the open sandbox beside it; otherwise the first is
Django's, a 404, and the second the AWS endpoint's.
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kmslab.settings")

from django.conf import settings  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from kmslab.api.endpoint import aws_endpoint, reset_endpoint  # noqa: E402
from kmslab.api.open_sandbox import MOTO_RESET_PATH, RESET_PATH  # noqa: E402
from kmslab.console.routing import websocket_urlpatterns  # noqa: E402
from kmslab.labs.routing import websocket_urlpatterns as lab_websockets  # noqa: E402
from kmslab.sandboxes.runner import serve_broadcasts_from_this_loop  # noqa: E402
from kmslab.security import SameOriginWebsockets  # noqa: E402
from kmslab.workshops.routing import websocket_urlpatterns as workshop_websockets  # noqa: E402


async def http(scope, receive, send):
    serve_broadcasts_from_this_loop()
    if scope["path"] in (RESET_PATH, MOTO_RESET_PATH) and settings.KMSLAB_ALLOW_ANY_CREDENTIALS:
        await reset_endpoint(scope, receive, send)
    elif scope["path"] == "/aws" or scope["path"].startswith("/aws/"):
        await aws_endpoint(scope, receive, send)
    else:
        await django_app(scope, receive, send)


# A learner is a token in the session, which the consumers check; an
# instructor is a Django user (the dashboard's consumer checks scope["user"]).
application = ProtocolTypeRouter(
    {
        "http": http,
        "websocket": SameOriginWebsockets(AuthMiddlewareStack(
            URLRouter(websocket_urlpatterns + lab_websockets + workshop_websockets))),
    }
)
