"""Telegram: delegates enrol with a one-time link and answer rounds in a private chat.

Pure translators (:mod:`.callbacks`, :mod:`.inbound`, :mod:`.render`, :mod:`.keyboards`) turn
updates into core actions and screens into messages; :mod:`.listeners` are the thin
python-telegram-bot handlers; :mod:`.delivery` sends with retries; :mod:`.intake` stores each
update in the inbox before it is processed; :mod:`.runtime` runs it all in polling or webhook
mode. Survey state lives in our database only.
"""
