"""The local API's shared port: connections to it answer without Nagle's delay (uvicorn's own
socket for several processes left it on, and each response then waited ~40 ms for an ACK)."""

from __future__ import annotations

import asyncio
import socket

import pytest
from docjobs.local.api_server import _listen


def _accepted_nodelay(listener: socket.socket) -> int:
    """TCP_NODELAY on a connection asyncio accepts from `listener`, as uvicorn's server does."""

    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Protocol(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Protocol, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 5)
        finally:
            writer.close()
            server.close()

    return asyncio.run(main())


def test_connections_to_the_shared_port_send_without_nagles_delay():
    listener = _listen(0)
    try:
        assert listener.proto == socket.IPPROTO_TCP
        assert listener.get_inheritable()  # handed to the serving processes
        assert _accepted_nodelay(listener) != 0
    finally:
        listener.close()


def test_a_socket_like_uvicorns_would_have_left_nagle_on():
    """The check above can fail: a socket with its protocol unnamed, as uvicorn binds it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    try:
        assert _accepted_nodelay(listener) == 0
    finally:
        listener.close()


def test_a_port_in_use_is_refused():
    taken = _listen(0)
    taken.listen()
    try:
        with pytest.raises(OSError):
            _listen(taken.getsockname()[1]).close()
    finally:
        taken.close()
