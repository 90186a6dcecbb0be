"""A TLS-terminating reverse proxy, as the README's workshop deployment puts one in front of kmslab.serve.

https in, plain http out to the worker, each request with the headers nginx's
usual kmslab block sets: X-Forwarded-Proto (overwriting the browser's),
X-Forwarded-For; the Host header passed on, or (keep_host=False, nginx's
default) replaced by the upstream's. Websocket upgrades pass through.
One request per connection, to keep the header rewriting simple.
"""
import asyncio
import datetime
import ipaddress
import ssl
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .api.live import free_port


def self_signed_certificate(directory):
    """(certificate file, key file) for 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "proxy.crt", directory / "proxy.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


DROPPED = (b"x-forwarded-", b"connection:", b"host:")


class TlsProxy:
    def __init__(self, directory, keep_host=True):
        self.cert_file, key_file = self_signed_certificate(directory)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(self.cert_file, key_file)
        self.keep_host = keep_host
        self.port = free_port()
        self.base = f"https://127.0.0.1:{self.port}"
        self.upstream_port = None  # set once the worker it fronts has its port
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.server = asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(10)

    async def _listen(self):
        return await asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=self.context)

    async def _serve(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ssl.SSLError):
            writer.close()
            return
        request_line, *headers = head[:-4].split(b"\r\n")
        upgrade = any(h.lower().startswith(b"upgrade:") for h in headers)
        host = next(h for h in headers if h.lower().startswith(b"host:"))
        headers = [h for h in headers if not h.lower().startswith(DROPPED)] + [
            host if self.keep_host else f"Host: 127.0.0.1:{self.upstream_port}".encode(),
            b"X-Forwarded-Proto: https",
            b"X-Forwarded-For: 127.0.0.1",
            b"Connection: Upgrade" if upgrade else b"Connection: close",
        ]
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        up_writer.write(b"\r\n".join([request_line, *headers]) + b"\r\n\r\n")
        await asyncio.gather(self._pipe(reader, up_writer, writer), self._pipe(up_reader, writer, up_writer))

    @staticmethod
    async def _pipe(source, destination, other):
        try:
            while data := await source.read(65536):
                destination.write(data)
                await destination.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            for w in (destination, other):
                w.close()

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
