"""One POST to a checked address: the connection goes to the IP the guard approved, while the Host
header and the TLS server name (SNI, and the certificate check) use the URL's host name. Redirects are
never followed (http.client does not follow them)."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

from accounts.outbound.guard import Destination

RESPONSE_KEEP = 2000  # characters of the receiver's answer kept for the delivery log


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all (refused, timed out, TLS failed)
    body: str
    error: str


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed address, verifying the certificate for the URL's host name."""

    def __init__(self, address: str, *, server_name: str, port: int, timeout: float) -> None:
        super().__init__(address, port=port, timeout=timeout, context=ssl.create_default_context())
        self._server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)  # type: ignore[attr-defined]


def post(destination: Destination, *, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    connection: http.client.HTTPConnection
    if destination.scheme == "https":
        connection = _PinnedHTTPSConnection(
            destination.address, server_name=destination.host, port=destination.port, timeout=timeout
        )
    else:
        connection = http.client.HTTPConnection(destination.address, port=destination.port, timeout=timeout)
    default_port = 443 if destination.scheme == "https" else 80
    host_header = destination.host if ":" not in destination.host else f"[{destination.host}]"
    if destination.port != default_port:
        host_header += f":{destination.port}"
    try:
        connection.putrequest("POST", destination.path, skip_host=True, skip_accept_encoding=True)
        for name, value in {
            "Host": host_header,
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "User-Agent": "Tandem-Webhooks/1",
            **headers,
        }.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        text = response.read(RESPONSE_KEEP * 4).decode("utf-8", "replace")[:RESPONSE_KEEP]
        return Answer(status=response.status, body=text, error="")
    except TimeoutError:
        return Answer(status=None, body="", error=f"No answer within {timeout:g} seconds.")
    except ssl.SSLError as exc:
        return Answer(status=None, body="", error=f"The TLS connection failed: {exc.reason or exc}."[:300])
    except (OSError, http.client.HTTPException) as exc:
        return Answer(status=None, body="", error=f"The connection failed: {exc}."[:300])
    finally:
        connection.close()
