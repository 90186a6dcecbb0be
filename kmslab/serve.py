"""`python -m kmslab.serve [daphne's arguments]`: daphne, saying where it serves once it listens.

`make run` prints the demo sandbox's console link and keys first; this line
comes last, only when the port is really open, so a learner who sees it can
click — and one whose port is taken sees daphne's "Listen failure" instead.

It also answers requests too big for daphne's HTTP parser (twisted's
HTTPChannel, whose limits daphne has no option for): a request line or a
header line over 16 KB, or more than 16 KB of them together. Twisted hangs up
on the first without a word and answers the second with a bare status line;
kmslab answers both with a 400 a client can read: AWS's error on /aws/, the
console's error page elsewhere. Twisted offers no public hook for this, so
AnsweringChannel uses HTTPChannel's private names (Twisted 26.10);
tests/api/test_limits_live.py fails if an upgrade moves them.
"""
import sys

from daphne.cli import CommandLineInterface
from daphne.server import Server
from twisted.web.http import RESPONSES, HTTPChannel, _GenericHTTPChannelProtocol

# After refusing a request, how long to keep reading (and dropping) what the
# client still sends: closing with unread bytes makes the kernel reset the
# connection, and a reset can destroy the answer before the client reads it.
LINGER_SECONDS = 2


class AnsweringChannel(HTTPChannel):
    """Twisted's HTTP/1.1 channel, answering the requests it will not read instead of hanging up."""

    refused = False

    def lineLengthExceeded(self, line):
        # Twisted (LineReceiver) just closes. On the request line, `line` is its start: the method and the path.
        if self._HTTPChannel__first_line:
            self._refuse(line.split(b" ", 2)[1] if b" " in line else b"", None)
        else:
            self._refuse(self._path, self.requests[-1].requestHeaders)

    def _respondToBadRequestAndDisconnect(self):
        if self._receivedHeaderSize <= self.totalHeadersSize:
            return super()._respondToBadRequestAndDisconnect()  # malformed, not too big: twisted's 400
        self._refuse(self._path, self.requests[-1].requestHeaders if self.requests else None)

    def _refuse(self, path, received):
        # The headers read so far tell /aws/'s protocol (X-Amz-Target: JSON), the one twisted holds
        # back until the next line (it may continue on it) among them.
        headers = {}
        for name, values in (received.getAllRawHeaders() if received is not None else ()):
            headers[name.decode("latin-1").lower()] = ",".join(v.decode("latin-1") for v in values)
        name, _, value = self._HTTPChannel__header.partition(b":")
        if value:
            headers.setdefault(name.decode("latin-1").strip().lower(), value.decode("latin-1").strip())
        if path == b"/aws" or path.startswith(b"/aws/"):
            from kmslab.api.endpoint import header_section_too_large

            status, response_headers, body = header_section_too_large(headers, self.totalHeadersSize)
        else:
            status, response_headers, body = 400, [(b"content-type", b"text/html; charset=utf-8")], _error_page()
        head = [b"HTTP/1.1 %d %s" % (status, RESPONSES[status])]
        head += [field + b": " + content for field, content in response_headers]
        head += [b"content-length: " + str(len(body)).encode(), b"connection: close"]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        # Stop parsing, send FIN once the answer is out, drop what still comes, close after LINGER_SECONDS.
        self.dataReceived = self.lineReceived = self.rawDataReceived = lambda data: None
        self._networkProducer.unregisterProducer()
        self.transport.loseWriteConnection()
        self.refused = True
        self.setTimeout(LINGER_SECONDS)

    def timeoutConnection(self):
        if self.refused:
            self.transport.abortConnection()
        else:
            super().timeoutConnection()


_page = []


def _error_page():
    """templates/400.html, rendered once: it needs no request, and rendering per refusal would cost CPU to anyone."""
    if not _page:
        from django.template.loader import render_to_string

        _page.append(render_to_string("400.html").encode())
    return _page[0]


class AnnouncingServer(Server):
    def listen_success(self, port):
        super().listen_success(port)
        address = port.getHost()
        host = f"[{address.host}]" if ":" in address.host else address.host
        sys.stdout.write(f"kmslab is serving at http://{host}:{address.port}/ (Ctrl-C stops it)\n")
        sys.stdout.flush()

    # daphne's run() makes its HTTP factory and listens at once: the setter is
    # where kmslab's channel goes in, before any connection is accepted.
    @property
    def http_factory(self):
        return self.__dict__["http_factory"]

    @http_factory.setter
    def http_factory(self, factory):
        factory.protocol = lambda: _GenericHTTPChannelProtocol(AnsweringChannel())
        self.__dict__["http_factory"] = factory


class AnnouncingCLI(CommandLineInterface):
    server_class = AnnouncingServer


if __name__ == "__main__":
    AnnouncingCLI.entrypoint()
