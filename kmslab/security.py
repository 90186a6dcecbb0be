"""What keeps other sites out: the websockets' origin check and the Content-Security-Policy.

Django's CSRF check covers the forms; a websocket has no CSRF token, and a
browser opens one from any page, with the site's cookies, so the handshake's
Origin must be the site's own — the whole origin, as the same-origin policy
compares it (scheme, host and port): a page served from another port of the
same host is another site.
"""
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host


def own_origins(scope):
    """The origins a page of this site has: KMSLAB_BASE_URL's, and the one this request came to.

    The second is what `make run PORT=…` and a test's daphne on a free port
    serve: http://<Host header>, when that host is one the site answers to.
    Behind a TLS-terminating proxy it is https, as the proxy's
    X-Forwarded-Proto says (trusted exactly when the CSRF check trusts it).
    """
    headers = dict(scope.get("headers", []))
    origins = {settings.KMSLAB_ORIGIN}
    host = headers.get(b"host", b"").decode("latin-1").lower()
    domain, _ = split_domain_port(host)
    if domain and validate_host(domain, settings.ALLOWED_HOSTS):
        scheme = "https" if scope.get("scheme") == "wss" else "http"
        proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        if proxy:
            name = proxy[0].removeprefix("HTTP_").lower().replace("_", "-").encode()
            if headers.get(name, b"").decode("latin-1") == proxy[1]:
                scheme = "https"
        origins.add(f"{scheme}://{host}")
    return origins


class SameOriginWebsockets:
    """Refuses a websocket handshake whose Origin is missing or not one of the site's own origins."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            origin = dict(scope.get("headers", [])).get(b"origin", b"").decode("latin-1").lower()
            if origin not in own_origins(scope):
                return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


# Only kmslab's own files: its stylesheet and the vendored htmx. No inline
# script, no inline style (htmx's indicator styles are in kmslab.css, and
# base.html turns off htmx's own injection), no eval. `data:` images are the MFA
# QR codes and the empty favicon; connect-src 'self' covers the websockets
# (CSP Level 3 matches ws:/wss: to the page's own http:/https: origin).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
