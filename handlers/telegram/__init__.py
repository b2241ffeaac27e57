"""Telegram: delegates enrol with a one-time link and answer rounds in a private chat.

Pure translators (:mod:`.callbacks`, :mod:`.inbound`, :mod:`.render`, :mod:`.keyboards`) turn
updates into core actions and screens into messages. :mod:`.receiver` stores every update in
the one inbox before Telegram is answered (the webhook or the poller of :mod:`.runtime`);
:mod:`.events` applies it through the core's use cases; what to show is enqueued as outbox
messages by :mod:`.presenter` and sent by the paced sender through :mod:`.transport`.
:mod:`.delivery` is the channel's side of invitations, reminders and digests. Survey state
lives in our database only.
"""
