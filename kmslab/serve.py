"""`python -m kmslab.serve [daphne's arguments]`: daphne, saying where it serves once it listens.

`make run` prints the demo sandbox's console link and keys first; this line
comes last, only when the port is really open, so a learner who sees it can
click — and one whose port is taken sees daphne's "Listen failure" instead.
"""
import sys

from daphne.cli import CommandLineInterface
from daphne.server import Server


class AnnouncingServer(Server):
    def listen_success(self, port):
        super().listen_success(port)
        address = port.getHost()
        host = f"[{address.host}]" if ":" in address.host else address.host
        sys.stdout.write(f"kmslab is serving at http://{host}:{address.port}/ (Ctrl-C stops it)\n")
        sys.stdout.flush()


class AnnouncingCLI(CommandLineInterface):
    server_class = AnnouncingServer


if __name__ == "__main__":
    AnnouncingCLI.entrypoint()
