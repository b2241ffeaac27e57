"""``SlackMessenger``: the Slack :class:`surveys.ports.Messenger` (invitations, reminders, digests).

A screen goes to the delegate's DM (``chat.postMessage``), and is recorded in the outbox as
``screen:<response_id>`` so that presses update it in place. Digests go to the organisers'
channel: text with ``chat.postMessage``, or the image with ``files_upload_v2``.

Rate limits (HTTP 429) are retried by slack_sdk's ``AsyncRateLimitErrorRetryHandler`` on the
client (see ``bot.slack_wiring``); what Slack still refuses becomes a
:class:`~surveys.errors.DeliveryError`, ``permanent`` when retrying cannot help (the channel or
user is gone).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError

from handlers.slack import answering
from handlers.slack.mrkdwn import to_mrkdwn
from handlers.slack.services import CHANNEL, SlackServices
from surveys.conversation import Show
from surveys.errors import DeliveryError
from surveys.records import Participant

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "user_not_found",
        "users_not_found",
        "account_inactive",
        "user_disabled",
        "is_archived",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "invalid_auth",
        "not_authed",
        "token_revoked",
    }
)
"""Slack error codes after which the same message will never get through."""


@contextlib.asynccontextmanager
async def delivery_errors(recipient: object) -> AsyncIterator[None]:
    """Turn Slack's refusals into :class:`DeliveryError` (permanent ones marked so)."""
    try:
        yield
    except SlackApiError as error:
        code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
        raise DeliveryError(CHANNEL, recipient, code, permanent=code in PERMANENT_ERRORS) from error
    except (SlackRequestError, aiohttp.ClientError, TimeoutError) as error:
        raise DeliveryError(CHANNEL, recipient, f"{type(error).__name__}: {error}") from error


class SlackMessenger:
    channel: str = CHANNEL

    def __init__(self, services: SlackServices) -> None:
        self._services = services

    async def reachable(self, participant: Participant) -> bool:
        async with delivery_errors(participant.email):
            return await self._services.identities.user_id_for(participant) is not None

    async def send_screen(
        self, participant: Participant, round_id: int, *, preface: str | None = None
    ) -> str | None:
        services = self._services
        async with delivery_errors(participant.email):
            user_id = await services.identities.user_id_for(participant)
            if user_id is None:
                raise DeliveryError(
                    CHANNEL, participant.email, "no Slack account found", permanent=True
                )
            screen = await services.conversation.act(participant, round_id, Show())
            return await answering.show(
                services, participant, screen, user_id=user_id, preface=preface
            )

    async def post_digest(self, *, text: str, image: bytes | None, image_name: str) -> None:
        channel = self._services.digest_channel
        if not channel:
            raise DeliveryError(
                CHANNEL,
                "digest",
                "no digest channel (ITINERA_SLACK_DIGEST_CHANNEL)",
                permanent=True,
            )
        client = self._services.client
        text = to_mrkdwn(text)
        async with delivery_errors(channel):
            if image is None:
                await client.chat_postMessage(channel=channel, text=text, mrkdwn=True)
            else:
                await client.files_upload_v2(
                    channel=channel,
                    file=image,
                    filename=image_name,
                    title=image_name,
                    initial_comment=text,
                )
