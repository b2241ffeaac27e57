"""The service layer: every use case of Itinera, written once for Slack, Telegram and the CLI.

- :mod:`.actors`: who asks (a roster participant on a channel, or the CLI's user) and the
  role checks every use case makes;
- :mod:`.organising`: import surveys and rosters, launch, close and extend rounds, follow
  them (overview, status), ask for a digest;
- :mod:`.answering`: a delegate answering, one transaction per action, with the check that an
  input is applied only to the screen it was made on;
- :mod:`.delegates`: what delegates ask besides answering (their current round, language,
  timezone, enrolment).

Channels parse what arrived, make one call here and render the typed result; the CLI does the
same. Each use case runs in one unit of work (``store.transaction()``).
"""
