"""``TelegramMessenger``: the core's :class:`~surveys.ports.Messenger` on Telegram.

Invitations and reminders show the delegate's screen (the intro and current question, or their
summary) after a preface; digests go to ``ITINERA_TELEGRAM_DIGEST_CHAT`` if set, else to every
organiser enrolled on Telegram, as a photo with its caption when the text is short enough, else
a photo followed by the text (their Markdown shown as Telegram formatting). Telegram's
refusals arrive as :class:`~surveys.errors.DeliveryError` (``permanent`` for a blocked bot).
"""

from __future__ import annotations

import html
import logging
import re

from handlers.telegram.delivery import CAPTION_LIMIT, Courier, ScreenPresenter
from handlers.telegram.render import markdown_blocks, messages, units
from handlers.telegram.services import TelegramRepositories
from surveys.conversation import Show
from surveys.errors import DeliveryError
from surveys.records import Channel, Participant, Role
from surveys.service.answering import Conversation

log = logging.getLogger("itinera.telegram")

CHANNEL = Channel.TELEGRAM.value


class TelegramMessenger:
    channel: str = CHANNEL

    def __init__(
        self,
        *,
        repos: TelegramRepositories,
        conversation: Conversation,
        courier: Courier,
        presenter: ScreenPresenter,
        digest_chat: int | str | None = None,
    ) -> None:
        self._digest_chat = digest_chat
        self._repos = repos
        self._conversation = conversation
        self._courier = courier
        self._presenter = presenter

    async def chat_of(self, participant: Participant) -> int | None:
        """The private chat with the participant (their user id), if they enrolled."""
        identity = await self._repos.identities.identity(participant.id, CHANNEL)
        if identity is None:
            return None
        address = identity.address or identity.external_id
        return int(address) if address.lstrip("-").isdigit() else None

    async def reachable(self, participant: Participant) -> bool:
        return await self.chat_of(participant) is not None

    async def send_screen(
        self, participant: Participant, round_id: int, *, preface: str | None = None
    ) -> str | None:
        chat_id = await self.chat_of(participant)
        if chat_id is None:
            raise DeliveryError(CHANNEL, participant.id, "not enrolled on Telegram", permanent=True)
        screen = await self._conversation.act(participant, round_id, Show())
        shown = await self._presenter.show(chat_id, screen, preface=preface)
        return str(shown)

    async def post_digest(self, *, text: str, image: bytes | None, image_name: str) -> None:
        """Post the digest to the configured chat, else to each organiser enrolled on Telegram;
        fails if nobody received it."""
        if self._digest_chat is not None:
            await self._post(self._digest_chat, text=text, image=image, image_name=image_name)
            return
        organisers = [
            participant
            for participant in await self._repos.roster.list_participants()
            if participant.role is Role.ORGANISER
        ]
        delivered, failures = 0, []
        for organiser in organisers:
            chat_id = await self.chat_of(organiser)
            if chat_id is None:
                continue
            try:
                await self._post(chat_id, text=text, image=image, image_name=image_name)
                delivered += 1
            except DeliveryError as error:
                log.warning("digest not delivered to organiser %s: %s", organiser.id, error)
                failures.append(error)
        if delivered == 0:
            reason = failures[0].reason if failures else "no organiser has enrolled on Telegram"
            permanent = all(error.permanent for error in failures)
            raise DeliveryError(CHANNEL, "organisers", reason, permanent=permanent)

    async def _post(
        self, chat_id: int | str, *, text: str, image: bytes | None, image_name: str
    ) -> None:
        rendered = messages(markdown_blocks(text), None)
        if image is None:
            await self._courier.send_all(chat_id, rendered)
            return
        if len(rendered) == 1 and units(visible(rendered[0].text)) <= CAPTION_LIMIT:
            caption = rendered[0].text
            await self._courier.send_photo(chat_id, image, filename=image_name, caption=caption)
            return
        await self._courier.send_photo(chat_id, image, filename=image_name, caption=None)
        await self._courier.send_all(chat_id, rendered)


def visible(markup: str) -> str:
    """The text of our own HTML (tags we make carry no ``<`` of their own)."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", markup))


def digest_chat(value: str | None) -> int | str | None:
    """``ITINERA_TELEGRAM_DIGEST_CHAT``: a chat id (``-100...``) or a ``@channel`` name."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    return int(value) if value.lstrip("-").isdigit() else value
