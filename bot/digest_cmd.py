"""``itinera digest ROUND``, and :func:`publish_digest`, which the weekly schedule calls too.

A digest is written as three files side by side, ``digest-round-<id>-<YYYY-MM-DD>.md``,
``.html`` and ``.png`` (the date is the UTC day it was made), then posted to the organisers'
channels: the Markdown text (compact: no tables) with the chart attached.

A digest run (its figures, for "since the last digest") is recorded when the digest reached at
least one channel, unless told otherwise: a digest only written to files is a preview, and the
next one still compares with the last one organisers were sent.

Example::

    files = await publish_digest(store, 3, messengers=[slack], now=clock.now(),
                                 folder=Path("digests"), language="fr",
                                 classification="UNHCR internal")
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer

from bot import terminal
from bot.secrets import configured_secrets, mask
from surveys.digest import (
    DEFAULT_MIN_GROUP,
    DIGEST_LANGUAGES,
    Digest,
    DigestPlan,
    DigestRun,
    build_digest,
    is_digest_language,
    render_markdown,
)
from surveys.digest import summary as digest_summary
from surveys.errors import DeliveryError
from surveys.ports import Clock, DigestQueries, Messenger, RoundRepository, SurveyRepository
from surveys.service import organising

if TYPE_CHECKING:  # storage and the renderers (matplotlib) load when a digest is made
    from bot.settings import Settings
    from storage.database import Store

log = logging.getLogger("itinera.digest")


class DigestStore(Protocol):
    """What a digest reads besides its counts: the round and its survey version."""

    @property
    def surveys(self) -> SurveyRepository: ...

    @property
    def rounds(self) -> RoundRepository: ...


@dataclass(frozen=True)
class DigestFiles:
    """What :func:`publish_digest` wrote and where it posted."""

    digest: Digest
    markdown: Path
    html: Path
    png: Path
    posted_to: tuple[str, ...] = ()
    """Channels that accepted the digest."""
    failures: tuple[str, ...] = ()
    """One message per channel that refused it."""
    run: DigestRun | None = None
    """The recorded run, if this digest was recorded."""

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        return (self.markdown, self.html, self.png)


def file_stem(round_id: int, now: datetime) -> str:
    return f"digest-round-{round_id}-{now.astimezone(UTC):%Y-%m-%d}"


def digest_queries_for(store: DigestStore, queries: DigestQueries | None = None) -> DigestQueries:
    """``queries`` if given, else the store's own (``store.digests``), else SQL on its database."""
    if queries is not None:
        return queries
    own = getattr(store, "digests", None)
    if own is not None:
        return own  # type: ignore[no-any-return]
    from storage.database import Store
    from storage.digests import SqlAlchemyDigestQueries

    if isinstance(store, Store) and store.database is not None:
        return SqlAlchemyDigestQueries(store.database.sessions)
    raise TypeError(
        f"{type(store).__name__} has no digest queries: pass queries= "
        "(storage.memory_digests.InMemoryDigestQueries for the in-memory store)"
    )


async def make_digest(
    store: DigestStore,
    round_id: int,
    *,
    now: datetime,
    language: str | None = None,
    classification: str | None = None,
    queries: DigestQueries | None = None,
    min_group: int = DEFAULT_MIN_GROUP,
    delegations: Collection[str] | None = None,
) -> Digest:
    """Compute a round's digest, compared with its last recorded run; records nothing.

    ``min_group`` is ``ITINERA_MIN_GROUP``: in an anonymous round, figures that would cover
    fewer responses are left out. ``delegations``: count only theirs (an organiser scoped to
    regions, see ``Taken.delegations``)."""
    digests = digest_queries_for(store, queries)
    round_ = await store.rounds.get_round(round_id)
    survey = (await store.surveys.get_version(round_.survey_version_id)).definition
    previous = await digests.last_run(round_id)
    data = await digests.digest_data(
        round_id,
        plan=DigestPlan.of(survey),
        since=previous.created_at if previous else None,
        delegations=delegations,
    )
    return build_digest(
        survey=survey,
        round_=round_,
        data=data,
        previous=previous,
        now=now,
        language=language,
        classification=classification,
        min_group=min_group,
    )


def write_digest_files(digest: Digest, folder: Path, stem: str) -> tuple[Path, Path, Path, bytes]:
    """Write the Markdown, HTML and PNG files (CPU-bound: run it in a thread).

    The HTML page carries the chart inside it, so it can be forwarded alone; the PNG beside it
    is the same chart, for posts."""
    from bot.digest_render import render_chart, render_html

    folder.mkdir(parents=True, exist_ok=True)
    markdown, html, png = (folder / f"{stem}{suffix}" for suffix in (".md", ".html", ".png"))
    image = render_chart(digest)
    png.write_bytes(image)
    html.write_text(render_html(digest, chart=image), encoding="utf-8")
    markdown.write_text(render_markdown(digest), encoding="utf-8")
    return markdown, html, png, image


async def publish_digest(
    store: DigestStore,
    round_id: int,
    *,
    messengers: Sequence[Messenger],
    now: datetime,
    folder: Path,
    language: str | None = None,
    classification: str | None = None,
    record: bool | None = None,
    queries: DigestQueries | None = None,
    min_group: int = DEFAULT_MIN_GROUP,
    delegations: Collection[str] | None = None,
) -> DigestFiles:
    """Make a round's digest, write its three files into ``folder``, post it to ``messengers``.

    ``classification`` is the marking it carries (``ITINERA_DIGEST_CLASSIFICATION``).
    A channel that refuses (``DeliveryError``) is reported in ``failures`` and the others still
    get it. The run is recorded when ``record`` is True, or (``None``) when at least one channel
    accepted the digest. ``min_group`` is ``ITINERA_MIN_GROUP``. ``delegations``: a digest of
    only theirs (an organiser scoped to regions), never recorded as the round's run. Raises
    ``NotFoundError`` for an unknown round.
    """
    digests = digest_queries_for(store, queries)
    digest = await make_digest(
        store,
        round_id,
        now=now,
        language=language,
        classification=classification,
        queries=digests,
        min_group=min_group,
        delegations=delegations,
    )
    stem = file_stem(round_id, now)
    markdown, html, png, image = await asyncio.to_thread(write_digest_files, digest, folder, stem)
    text = render_markdown(digest, compact=True, files=f"{markdown.name}, {html.name}")
    posted: list[str] = []
    failures: list[str] = []
    for messenger in messengers:
        try:
            await messenger.post_digest(
                round_id=round_id,
                key=f"digest:{round_id}:{now.isoformat(timespec='seconds')}",
                text=text,
                image=image,
                image_name=png.name,
            )
        except DeliveryError as error:
            log.warning("digest of round %s not posted: %s", round_id, error)
            failures.append(str(error))
        else:
            posted.append(messenger.channel)
    run = None
    if delegations is None and (record or (record is None and posted)):
        run = await digests.record_run(round_id, figures=digest.figures, now=now)
    return DigestFiles(
        digest=digest,
        markdown=markdown,
        html=html,
        png=png,
        posted_to=tuple(posted),
        failures=tuple(failures),
        run=run,
    )


class StoreDigestService:
    """The :class:`~surveys.ports.DigestService` chat commands use: publish now, to the
    organisers' channels (``messengers``)."""

    def __init__(
        self,
        store: DigestStore,
        *,
        folder: Path,
        clock: Clock,
        classification: str | None = None,
        messengers: Sequence[Messenger] = (),
        min_group: int = DEFAULT_MIN_GROUP,
    ) -> None:
        self._store = store
        self._folder = folder
        self._clock = clock
        self._classification = classification
        self._min_group = min_group
        self.messengers = tuple(messengers)

    async def publish(
        self,
        round_id: int,
        *,
        language: str | None = None,
        delegations: Collection[str] | None = None,
    ) -> str:
        files = await publish_digest(
            self._store,
            round_id,
            messengers=self.messengers,
            now=self._clock.now(),
            folder=self._folder,
            language=language,
            classification=self._classification,
            min_group=self._min_group,
            delegations=delegations,
        )
        return digest_summary(files.digest)


# -- the command ----------------------------------------------------------------------------

MessengerSource = Callable[["Settings", "Store"], AbstractAsyncContextManager[Sequence[Messenger]]]
"""Opens the messengers that post digests (the organisers' Slack channel, Telegram chat)."""


@asynccontextmanager
async def no_messengers(_settings: Settings, _store: Store) -> AsyncIterator[Sequence[Messenger]]:
    """No channel: digests are written to files only."""
    yield ()


def digest_command(messengers: MessengerSource = no_messengers) -> Callable[..., None]:
    """The ``digest`` command, posting through ``messengers`` (register it on the CLI app)."""

    def digest(
        ctx: typer.Context,
        round_id: Annotated[
            int,
            typer.Argument(help="The round's id (see `itinera round list`).", **terminal.ROUND_ID),
        ],
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", help="Folder for the files; ITINERA_DIGEST_FOLDER (digests) by default."
            ),
        ] = None,
        post: Annotated[
            bool,
            typer.Option(
                "--post/--no-post",
                help="Post to the organisers' Slack channel and Telegram chat, if configured.",
            ),
        ] = True,
        lang: Annotated[
            str | None,
            typer.Option(
                "--lang",
                help="Language of the digest: ar, zh, en, fr, ru or es; the survey's default.",
            ),
        ] = None,
    ) -> None:
        """Write a round's digest (Markdown, HTML, PNG chart) and post it to the organisers.

        Response rates overall, by region and by delegation; who has not answered; scores and
        choices by theme; new comments; change since the last digest.
        """
        state = terminal.state_of(ctx)
        settings = state.settings
        folder = out or Path(settings.digest.folder)
        if lang is not None and not is_digest_language(lang):
            raise typer.BadParameter(
                f"no digest in {lang!r}: choose one of {', '.join(DIGEST_LANGUAGES)}",
                param_hint="--lang",
            )

        async def work(store: Store) -> DigestFiles:
            actor = await terminal.actor_of(store, state)
            taken = await organising.record_export(
                store,
                actor,
                round_id,
                format="md,html,png" + (",post" if post else ""),
                now=terminal.now(),
                taken_as="digest",
            )
            source = messengers if post else no_messengers
            async with source(settings, store) as channels:
                return await publish_digest(
                    store,
                    round_id,
                    messengers=channels,
                    now=terminal.now(),
                    folder=folder,
                    language=lang,
                    classification=settings.digest.classification,
                    min_group=settings.min_group,
                    delegations=taken.delegations,
                )

        files = terminal.run(terminal.with_store(settings, work))
        for path in files.paths:
            typer.echo(str(path))
        if files.posted_to:
            typer.echo(f"Posted to {', '.join(files.posted_to)}.")
        elif post and not files.failures:
            typer.echo(
                "Not posted: no digest channel is configured "
                "(ITINERA_SLACK_DIGEST_CHANNEL, ITINERA_TELEGRAM_DIGEST_CHAT)."
            )
        for failure in files.failures:
            typer.echo(f"Not posted: {mask(failure, configured_secrets(settings))}", err=True)
        if files.failures and not files.posted_to:
            raise typer.Exit(1)

    return digest


digest = digest_command()
"""The command without channels (files only); the CLI registers ``digest_command(source)``."""


__all__ = [
    "DigestFiles",
    "DigestStore",
    "MessengerSource",
    "digest",
    "digest_command",
    "digest_queries_for",
    "file_stem",
    "make_digest",
    "no_messengers",
    "publish_digest",
    "write_digest_files",
]
