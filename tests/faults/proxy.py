"""A TCP proxy on loopback between ``itinera run`` and PostgreSQL, to cut the database off.

Three kinds of outage, each until :meth:`TcpProxy.restore`, and one for good:

- :meth:`refuse`: nothing listens on the port any more (new connections are refused); the
  connections already open go on working;
- :meth:`drop`: every open connection is reset, and new ones are refused;
- :meth:`blackhole`: connections are accepted but nothing is forwarded either way, on new and
  open connections alike (a network that loses packets); :meth:`restore` forwards again what
  was held back, as TCP retransmits once the path is back;
- :meth:`stall`: the connections open now forward nothing more, ever, yet stay open (a
  firewall or NAT that forgot them: a half-open path that no error ever reports); new
  connections work.

Example::

    async with TcpProxy("127.0.0.1", 5432) as proxy:
        url = db.with_host("127.0.0.1", proxy.port)
        await proxy.drop()
        ...
        await proxy.restore()
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from types import TracebackType

CHUNK = 65536


class _Link:
    """One client connection and its connection to the server."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.server: asyncio.StreamWriter | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.stalled = False

    def abort(self) -> None:
        for writer in (self.client, self.server):
            if writer is not None:
                writer.transport.abort()
        for task in self.tasks:
            task.cancel()


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.port = 0
        self.accepted = 0
        self.outages: list[str] = []

    async def __aenter__(self) -> TcpProxy:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        await self._listen()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._flowing.set()
        await self._close_listener()
        for link in list(self._links):
            link.abort()
        self._links.clear()

    # --- the outages --------------------------------------------------------------------------

    async def refuse(self) -> None:
        self.outages.append("refuse")
        await self._close_listener()

    async def drop(self) -> None:
        self.outages.append("drop")
        await self._close_listener()
        for link in list(self._links):
            link.abort()
        self._links.clear()

    async def blackhole(self) -> None:
        self.outages.append("blackhole")
        self._flowing.clear()

    async def stall(self) -> None:
        self.outages.append("stall")
        for link in self._links:
            link.stalled = True

    async def restore(self) -> None:
        if self._server is None:
            await self._listen()
        self._flowing.set()

    # --- internals ------------------------------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )

    async def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            # Not wait_closed(): it waits for the open connections, which stay.

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(writer)
        self._links.add(link)
        try:
            await self._flowing.wait()
            try:
                up_reader, up_writer = await asyncio.open_connection(*self._target)
            except OSError:
                link.abort()
                return
            link.server = up_writer
            link.tasks = [
                asyncio.create_task(self._pipe(link, reader, up_writer)),
                asyncio.create_task(self._pipe(link, up_reader, writer)),
            ]
            await asyncio.wait(link.tasks, return_when=asyncio.FIRST_COMPLETED)
            if link.stalled:
                # The client gave up on it; the server never hears, and keeps its end (and its
                # transaction, and its locks) until it closes it itself.
                await asyncio.wait(link.tasks)
        finally:
            link.abort()
            self._links.discard(link)

    async def _pipe(
        self, link: _Link, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                data = await source.read(CHUNK)
                if not data:
                    break
                if link.stalled:
                    continue  # lost on the way: the other end never hears of it
                await self._flowing.wait()
                sink.write(data)
                await sink.drain()
        if link.stalled:
            return
        with contextlib.suppress(OSError):
            sink.close()


__all__ = ["TcpProxy"]
