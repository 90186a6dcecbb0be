"""What keeps other sites out: the websockets' origin check, the Content-Security-Policy, rate limits.

Django's CSRF check covers the forms; a websocket has no CSRF token, and a
browser opens one from any page, with the site's cookies, so the handshake's
Origin must be the site's own — the whole origin, as the same-origin policy
compares it (scheme, host and port): a page served from another port of the
same host is another site.
"""
import time

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.cache import cache
from django.http.request import split_domain_port, validate_host
from django.shortcuts import render


def own_origins(scope):
    """The origins a page of this site has: KMSLAB_BASE_URL's, and the one this request came to.

    The second is what `make run PORT=…` and a test's server on a free port
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


# The views that anyone may POST to without any sandbox and that make something
# that lasts: a sandbox (the list page's form), a claim on one, a lab run.
RATE_LIMITED_VIEWS = {"console:home", "console:claim", "labs:start", "workshops:start"}


def client_address(request):
    """The address the request came from; behind the proxy, the one the proxy saw.

    The proxy appends the address it saw to X-Forwarded-For, so only the last
    entry is its word; earlier ones are whatever the browser sent."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and request.headers.get("X-Forwarded-For"):
        return request.headers["X-Forwarded-For"].rsplit(",", 1)[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


class CreationRateLimitMiddleware:
    """At most KMSLAB_CREATE_RATE creations (sandboxes, claims, lab runs) per client address a minute.

    A fixed one-minute window in the cache: per process by default, in Redis
    (shared by every worker) when KMSLAB_REDIS_URL is set."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        if request.method != "POST" or request.resolver_match.view_name not in RATE_LIMITED_VIEWS:
            return None
        window = int(time.time() // 60)
        counter = f"kmslab-create:{client_address(request)}:{window}"
        cache.add(counter, 0, timeout=120)
        if cache.incr(counter) <= settings.KMSLAB_CREATE_RATE:
            return None
        retry_after = 60 - int(time.time()) % 60
        response = render(request, "429.html", {"rate": settings.KMSLAB_CREATE_RATE, "retry_after": retry_after},
                          status=429)
        response["Retry-After"] = str(retry_after)
        return response


# Join codes and instructors' passwords: failed attempts one client address may make in ten minutes.
GUESS_WINDOW = 600


def _guess_counter(request, what):
    return f"kmslab-guess:{what}:{client_address(request)}:{int(time.time() // GUESS_WINDOW)}"


def guessing_refused(request, what):
    """A 429 page when this address has failed `what` ("join", "login") too often lately, else None."""
    failed = cache.get(_guess_counter(request, what), 0)
    if failed < settings.KMSLAB_GUESS_RATE:
        return None
    retry_after = GUESS_WINDOW - int(time.time()) % GUESS_WINDOW
    response = render(request, "429.html", {"rate": settings.KMSLAB_GUESS_RATE, "retry_after": retry_after,
                                            "guesses": True}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def count_failed_guess(request, what):
    counter = _guess_counter(request, what)
    cache.add(counter, 0, timeout=GUESS_WINDOW * 2)
    cache.incr(counter)
