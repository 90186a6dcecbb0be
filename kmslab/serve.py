"""`python -m kmslab.serve [-b HOST] [-p PORT]`: kmslab under uvicorn, saying where it serves once it listens.

uvicorn with uvloop and httptools: on this machine it takes a third less CPU
per AWS call than daphne did (scripts/bench_api.py), and it serves the
websockets (the live trail, the lab feed, the workshop dashboard) with the
`websockets` package. One process per port; a workshop runs several behind a
proxy (README, "A workshop of hundreds").

`make run` prints the demo sandbox's console link and keys first; this line
comes last, only when the port is really open, so a learner who sees it can
click — and one whose port is taken sees uvicorn's "address already in use"
instead. There is no access log: the trail in the console records every AWS
call, and a line per request would cost every call.

It also bounds the request line and headers, which httptools would buffer
without limit: past 16 KB of them, kmslab answers with a 400 a client can
read — AWS's error on /aws/, the console's error page elsewhere — and hangs up.
"""
import argparse
import sys

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

HEAD_LIMIT = 16 * 1024
# After refusing a request, how long to keep reading (and dropping) what the
# client still sends: closing with unread bytes makes the kernel reset the
# connection, and a reset can destroy the answer before the client reads it.
LINGER_SECONDS = 2


class HeadTooLarge(Exception):
    """Raised from a parser callback: it stops httptools in the middle of the request's head."""


class AnsweringProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, answering the requests whose head is too big instead of buffering them."""

    in_head = False
    head_bytes = 0  # of the head being read: its request line and headers, as the parser hands them over
    fed = 0  # bytes received since the head began, while it is incomplete
    closing = None  # the timer that ends a refused connection

    def data_received(self, data):
        if self.closing is not None:
            return  # what a refused client still sends: read and dropped
        super().data_received(data)
        # Every byte fed while the head is still incomplete belongs to it: this bounds what
        # httptools keeps of one long header, which it hands over only once it is complete.
        if self.in_head and self.closing is None:
            self.fed += len(data)
            if self.fed > HEAD_LIMIT:
                self.refuse()

    def on_message_begin(self):
        super().on_message_begin()
        self.in_head, self.head_bytes, self.fed = True, 0, 0

    def on_url(self, url):
        super().on_url(url)
        self.count(len(url))

    def on_header(self, name, value):
        super().on_header(name, value)
        self.count(len(name) + len(value) + 4)  # ": " and CRLF

    def on_headers_complete(self):
        self.in_head = False
        super().on_headers_complete()

    def count(self, size):
        self.head_bytes += size
        if self.head_bytes > HEAD_LIMIT:
            raise HeadTooLarge

    def send_400_response(self, msg):
        # uvicorn's answer to anything the parser refused, a callback's exception included.
        if self.head_bytes > HEAD_LIMIT:
            self.refuse()
        else:
            super().send_400_response(msg)

    def refuse(self):
        headers = {}
        for name, value in self.headers:  # lower-case names, as far as the parser got
            name, value = name.decode("latin-1"), value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        path = self.url.split(b"?", 1)[0]
        if path == b"/aws" or path.startswith(b"/aws/"):
            from kmslab.api.endpoint import header_section_too_large

            status, response_headers, body = header_section_too_large(headers, HEAD_LIMIT)
        else:
            status, response_headers, body = 400, [(b"content-type", b"text/html; charset=utf-8")], _error_page()
        head = [STATUS_LINE[status]]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers + response_headers]
        head += [b"content-length: " + str(len(body)).encode() + b"\r\n", b"connection: close\r\n\r\n"]
        self.transport.write(b"".join(head) + body)
        # FIN once the answer is out; drop what still comes; close after LINGER_SECONDS.
        self.transport.write_eof()
        self.closing = self.loop.call_later(LINGER_SECONDS, self.transport.abort)

    def connection_lost(self, exc):
        if self.closing is not None:
            self.closing.cancel()
        super().connection_lost(exc)


_page = []


def _error_page():
    """templates/400.html, rendered once: it needs no request, and rendering per refusal would cost CPU to anyone."""
    if not _page:
        from django.template.loader import render_to_string

        _page.append(render_to_string("400.html").encode())
    return _page[0]


class AnnouncingServer(uvicorn.Server):
    async def startup(self, sockets=None):
        await super().startup(sockets)  # exits, after logging why, when it cannot listen
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        host = f"[{host}]" if ":" in host else host
        sys.stdout.write(f"kmslab is serving at http://{host}:{port}/ (Ctrl-C stops it)\n")
        sys.stdout.flush()


def config(host, port):
    return uvicorn.Config(
        "kmslab.asgi:application", host=host, port=port,
        loop="uvloop", http=AnsweringProtocol, ws="websockets-sansio",
        # Channels' router has no lifespan; kmslab reads X-Forwarded-* itself (its settings, its rate limits).
        lifespan="off", proxy_headers=False,
        access_log=False, log_level="warning", server_header=False,
        # Ctrl-C or a worker's SIGTERM: open websockets get this long to close before the process ends anyway.
        timeout_graceful_shutdown=5,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kmslab.serve", description=__doc__.split("\n")[0])
    parser.add_argument("-b", "--bind", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=8000, help="the port (default 8000)")
    args = parser.parse_args(argv)
    AnnouncingServer(config(args.bind, args.port)).run()


if __name__ == "__main__":
    main()
