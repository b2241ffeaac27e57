"""Who a Slack user is in Itinera, and where to write to a participant on Slack.

Inbound: a Slack user id is matched to a participant by the ``slack`` identity the roster gave
(``slack_user_id``); failing that, by the email Slack knows for the user (``users.info``), and
the identity is then linked so the next lookup is one query. Outbound: a participant without a
Slack id is found by email (``users.lookupByEmail``); the DM channel from ``conversations.open``
(rate-limited) is cached with :meth:`IdentityRepository.set_address`.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from surveys.ports import IdentityRepository, RosterRepository
from surveys.records import Channel, Participant

CHANNEL = Channel.SLACK.value
_NOT_FOUND = frozenset({"users_not_found", "user_not_found"})


def _email_key(email: str) -> str:
    return email.strip().casefold()


class SlackIdentities:
    def __init__(
        self, *, roster: RosterRepository, identities: IdentityRepository, client: AsyncWebClient
    ) -> None:
        self._roster = roster
        self._identities = identities
        self._client = client

    async def participant_for(self, user_id: str) -> Participant | None:
        """The participant this Slack user is, or None if the roster does not know them."""
        known = await self._roster.find_by_identity(CHANNEL, user_id)
        if known is not None:
            return known
        try:
            info = await self._client.users_info(user=user_id)
        except SlackApiError as error:
            if error.response.get("error") in _NOT_FOUND:
                return None
            raise
        email = ((info.get("user") or {}).get("profile") or {}).get("email")
        if not email:
            return None
        wanted = _email_key(email)
        for participant in await self._roster.list_participants():
            if _email_key(participant.email) == wanted:
                if await self._identities.identity(participant.id, CHANNEL) is not None:
                    return None  # linked to another Slack account: do not take it over
                await self._roster.link_identity(participant.id, CHANNEL, user_id)
                return await self._roster.get_participant(participant.id)
        return None

    async def user_id_for(self, participant: Participant, *, look_up: bool = True) -> str | None:
        """The participant's Slack user id, looked up by email (and linked) if not yet known
        and ``look_up``."""
        identity = await self._identities.identity(participant.id, CHANNEL)
        if identity is not None:
            return identity.external_id
        if participant.slack_user_id:
            return participant.slack_user_id
        if not look_up:
            return None
        try:
            found = await self._client.users_lookupByEmail(email=participant.email)
        except SlackApiError as error:
            if error.response.get("error") in _NOT_FOUND:
                return None
            raise
        user_id = str((found.get("user") or {}).get("id") or "")
        if not user_id:
            return None
        await self._roster.link_identity(participant.id, CHANNEL, user_id)
        return user_id

    async def dm_channel(self, participant: Participant, user_id: str | None = None) -> str | None:
        """The direct-message channel with the participant (cached), None if not on Slack."""
        identity = await self._identities.identity(participant.id, CHANNEL)
        if identity is not None and identity.address:
            return identity.address
        user_id = user_id or await self.user_id_for(participant)
        if user_id is None:
            return None
        opened = await self._client.conversations_open(users=[user_id])
        channel = str(opened["channel"]["id"])
        if await self._identities.identity(participant.id, CHANNEL) is None:
            await self._roster.link_identity(participant.id, CHANNEL, user_id)
        await self._identities.set_address(participant.id, CHANNEL, channel)
        return channel
