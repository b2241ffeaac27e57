"""Sending stored messages to Slack's Web API, and what Slack's answer means for them.

:class:`SlackTransport` makes one call per outbox message with slack_sdk's
``AsyncWebClient`` (its own retry handlers off: the sender decides when to try again) and
turns the answer into a verdict: sent (with the message's ``ts`` and channel), try later (a 429
with its ``Retry-After``, a 5xx, a dropped connection), refused for good (the user or channel is
gone), or refused for the whole channel (the token is invalid or revoked: nothing can be sent
until it is fixed).

Every call of the client (the transport's, identity lookups, Bolt's) goes over the transport's
one aiohttp session once it has sent its first message: without a session of its own, the SDK
opens and closes one, and with it a TCP connection, at every call.

Example::

    transport = SlackTransport(AsyncWebClient(token=token, base_url=url))
    verdict = await transport.send(message)
"""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.presenter import CHANNEL, FILE_UPLOAD, RESPONSE_URL
from surveys.queues import OutboundMessage
from surveys.service.sending import Refused, RetryLater, Sent, Verdict

CHANNEL_WIDE_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)
"""Slack error codes that mean no message can be sent with this token."""

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "is_archived",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "expired_trigger_id",
        "invalid_trigger_id",
        "view_too_large",
    }
)
"""Slack error codes after which the same message will never get through."""

PER_CHANNEL_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
"""Methods whose rate limit is per conversation: a 429 pauses only that conversation."""


class SlackTransport:
    channel = CHANNEL

    def __init__(self, client: AsyncWebClient, *, timeout: float = 10.0) -> None:
        self._client = client
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            if self._client.session is self._session:
                self._client.session = None
            await self._session.close()
            self._session = None

    async def check(self) -> str | None:
        try:
            await self._client.auth_test()
        except SlackApiError as error:
            return str(error.response.get("error") or error)
        except (SlackRequestError, aiohttp.ClientError, TimeoutError) as error:
            return f"{type(error).__name__}: {error}"
        return None

    async def send(self, message: OutboundMessage) -> Verdict:
        session = self._session_open()
        if self._client.session is None or self._client.session.closed:
            self._client.session = session  # kept connections for every call of the client
        try:
            if message.method == RESPONSE_URL:
                return await self._respond(message.body)
            if message.method == FILE_UPLOAD:
                return await self._upload(message.body)
            answer = await self._client.api_call(message.method, json=dict(message.body))
        except SlackApiError as error:
            return self._refusal(message, error)
        except (SlackRequestError, aiohttp.ClientError, TimeoutError, OSError) as error:
            return RetryLater(f"{type(error).__name__}: {error}")
        return self._sent(message, answer.data if isinstance(answer.data, dict) else {})

    def _sent(self, message: OutboundMessage, data: dict[str, Any]) -> Sent:
        ts = data.get("ts") or message.body.get("ts")
        channel = data.get("channel") or message.body.get("channel")
        return Sent(platform_id=str(ts) if ts else None, address=str(channel) if channel else None)

    def _refusal(self, message: OutboundMessage, error: SlackApiError) -> Verdict:
        response = error.response
        code = str(response.get("error") or f"HTTP {response.status_code}")
        if response.status_code == 429:
            after = _retry_after(response.headers)
            return RetryLater(
                code,
                after=after,
                rate_limited=True,
                per_address=message.method in PER_CHANNEL_METHODS,
            )
        if code in CHANNEL_WIDE_ERRORS:
            return Refused(code, channel_wide=True)
        if code in PERMANENT_ERRORS:
            return Refused(code)
        return RetryLater(code)

    async def _respond(self, body: dict[str, Any]) -> Verdict:
        """POST a reply to a ``response_url``; 404 or 410: it has expired."""
        session = self._session_open()
        try:
            async with session.post(
                str(body["url"]), data=json.dumps(body["payload"]), headers=_JSON
            ) as answer:
                if answer.status == 429:
                    return RetryLater("ratelimited", after=_retry_after(answer.headers))
                if answer.status in (404, 410):
                    return Refused(f"response_url expired (HTTP {answer.status})")
                if answer.status == 400:
                    return Refused(f"response_url refused it: {(await answer.text())[:200]}")
                if answer.status >= 400:
                    return RetryLater(f"response_url answered HTTP {answer.status}")
        except (aiohttp.ClientError, TimeoutError) as error:
            return RetryLater(f"{type(error).__name__}: {error}")
        ts, channel = body.get("ts"), body.get("channel")
        return Sent(platform_id=str(ts) if ts else None, address=str(channel) if channel else None)

    async def _upload(self, body: dict[str, Any]) -> Verdict:
        content = base64.b64decode(str(body["content"]))
        await self._client.files_upload_v2(
            channel=body["channel"],
            file=content,
            filename=body.get("filename"),
            title=body.get("title"),
            initial_comment=body.get("initial_comment"),
        )
        return Sent(platform_id=None, address=str(body["channel"]))

    def _session_open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


_JSON = {"Content-Type": "application/json; charset=utf-8"}


def _retry_after(headers: Any) -> float | None:
    value = None
    if headers is not None:
        for name in ("Retry-After", "retry-after"):
            found = headers.get(name)
            if found:
                value = found[0] if isinstance(found, list) else found
                break
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


__all__ = ["CHANNEL_WIDE_ERRORS", "PERMANENT_ERRORS", "SlackTransport"]
