"""A real DNS server on 127.0.0.1 for the domain-verification tests: it answers TXT questions from a
dict the test fills, over UDP, and the resolver is pointed at it through settings.DNS_RESOLVER."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest


class DnsStandIn:
    def __init__(self) -> None:
        self.txt: dict[str, list[str]] = {}  # name (no root dot) → TXT values; a missing name is NXDOMAIN
        self.silent = False  # True: never answer, as a broken nameserver
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            if self.silent:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            if name not in self.txt:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT and self.txt[name]:
                quoted = ['"' + value.replace('"', '\\"') + '"' for value in self.txt[name]]
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "TXT", *quoted))
            self._sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()


@pytest.fixture
def dns_server(settings) -> Iterator[DnsStandIn]:
    server = DnsStandIn()
    settings.DNS_RESOLVER = f"127.0.0.1:{server.port}"
    settings.DNS_TIMEOUT_SECONDS = 0.5
    yield server
    server.close()
