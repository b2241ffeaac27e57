"""python-telegram-bot's networking backend on aiohttp, for the bot that sends.

PTB leaves the HTTP client to a :class:`telegram.request.BaseRequest` subclass (its own is
httpx). Under a burst of replies the sender makes hundreds of Bot API calls a second, and
httpx's connection pool, which looks through every connection for each request, cost more
CPU than everything else a reply does (several milliseconds a call, against well under one
here). aiohttp is already what Itinera's Slack side and webhooks run on. PTB still builds
every request and reads every answer (its errors, ``retry_after``, ``migrate_to_chat_id``);
only the transfer is ours.

Example::

    bot = Bot(token, base_url=..., request=AiohttpRequest(connections=64))
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_DEFAULT = type(BaseRequest.DEFAULT_NONE)
"""PTB's "not given" marker (``DEFAULT_NONE`` and its kind): the timeouts set here apply."""


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, _DEFAULT) else value


class AiohttpRequest(BaseRequest):
    """Bot API requests over one aiohttp session with up to ``connections`` connections."""

    def __init__(
        self,
        *,
        connections: int = 64,
        read_timeout: float | None = 15.0,
        connect_timeout: float | None = 10.0,
        write_timeout: float | None = 15.0,
        media_write_timeout: float | None = 30.0,
        pool_timeout: float | None = 5.0,
    ) -> None:
        self._connections = max(connections, 1)
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._media_write_timeout = media_write_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        await self.initialize()  # at the first request, as PTB's own backend is ready at once
        assert self._session is not None
        files = request_data.multipart_data if request_data is not None else None
        fields = request_data.json_parameters if request_data is not None else {}
        data: aiohttp.FormData | dict[str, str] | None = fields or None
        if files:
            form = aiohttp.FormData()
            for name, value in fields.items():
                form.add_field(name, value)
            for name, part in files.items():
                filename, content, *rest = part
                form.add_field(
                    name, content, filename=filename, content_type=rest[0] if rest else None
                )
            data = form
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        # aiohttp's "connect" covers waiting for a pooled connection and opening one; its
        # sock_read bounds each wait for the answer (after an upload too: ``write``).
        timeout = aiohttp.ClientTimeout(
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read if not files or read is None or write is None else max(read, write),
        )
        try:
            async with self._session.request(
                method,
                url,
                data=data,
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
            ) as answer:
                return answer.status, await answer.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


__all__ = ["AiohttpRequest"]
