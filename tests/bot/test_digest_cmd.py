"""``itinera digest ROUND`` and ``publish_digest``, on a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from bot.cli import State
from bot.digest_cmd import (
    digest,
    digest_command,
    file_stem,
    publish_digest,
)
from bot.settings import Settings
from bot.survey_files import read_survey_file
from storage.database import Store, open_store
from storage.memory import InMemoryStore
from storage.memory_digests import InMemoryDigestQueries
from surveys.engine import Typed
from surveys.errors import DeliveryError, NotFoundError
from surveys.records import Audience, Delegation, Participant, ParticipantData, Role
from surveys.service import organising
from surveys.service.actors import Actor
from tests.support import act_as, refused

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class FakeMessenger:
    """Records the digests it is asked to post; ``refuse`` makes it fail like a channel."""

    channel: str
    refuse: bool = False
    posts: list[tuple[str, bytes | None, str]] = field(default_factory=list)

    async def reachable(self, participant: Participant) -> bool:
        return True

    async def send_screen(
        self, participant: Participant, round_id: int, *, preface: str | None = None
    ) -> str | None:
        raise AssertionError("a digest writes to organisers only")

    async def post_digest(
        self, *, round_id: int, key: str, text: str, image: bytes | None, image_name: str
    ) -> None:
        if self.refuse:
            raise DeliveryError(self.channel, "organisers", "channel_not_found", permanent=True)
        self.posts.append((text, image, image_name))


async def seed(store: Store | InMemoryStore, now: datetime) -> int:
    """A round of three delegations; France submits with a comment, Senegal starts."""
    survey = read_survey_file(EXAMPLE)
    await organising.import_survey(store, Actor.command_line("test"), survey, now=now)
    await store.roster.import_roster(
        [
            Delegation("FRA", "France", "Western European and other States"),
            Delegation("SEN", "Senegal", "African States"),
            Delegation("MEX", "Mexico", "Latin American and Caribbean States"),
        ],
        [
            ParticipantData("Claire Dubois", "claire@example.org", Role.DELEGATE, "FRA"),
            ParticipantData("Aminata Diop", "aminata@example.org", Role.DELEGATE, "SEN"),
            ParticipantData("Lucía Hernández", "lucia@example.org", Role.DELEGATE, "MEX"),
        ],
    )
    launched = await organising.launch(
        store,
        Actor.command_line("test"),
        organising.LaunchRequest(
            survey_id=survey.id,
            audience=Audience("all"),
            closes=now + timedelta(days=10),
        ),
        now=now,
    )
    round_id = launched.round.id
    ids = {p.email: p.id for p in await store.roster.list_participants()}

    async def act(email: str, *actions: Typed | str) -> None:
        for action in actions:
            screen = await act_as(
                store,
                round_id=round_id,
                participant_id=ids[email],
                action=action,
                now=now,
            )
            assert not refused(screen), screen.notice

    for theme in range(5):
        comment: Typed | str = Typed("<b>Fully</b> behind it") if theme == 0 else "skip"
        await act("claire@example.org", Typed(str(4 - theme % 2)), Typed("1"), Typed("1"), comment)
    await act("claire@example.org", Typed("1"), Typed("no"), "submit")
    await act("aminata@example.org", Typed("5"))
    return round_id


def run_seed(database_url: str) -> int:
    async def work() -> int:
        store = await open_store(database_url)
        try:
            return await seed(store, datetime.now(UTC))
        finally:
            await store.close()

    return asyncio.run(work())


def cli_app(messengers: list[FakeMessenger] | None) -> typer.Typer:
    """The digest command as ``itinera`` registers it, with fake channels (or none)."""
    app = typer.Typer()

    @app.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = State(Settings())

    if messengers is None:
        app.command("digest")(digest)
    else:

        @asynccontextmanager
        async def source(
            _settings: Settings, _store: Store
        ) -> AsyncIterator[Sequence[FakeMessenger]]:
            yield messengers

        app.command("digest")(digest_command(source))  # type: ignore[arg-type]
    return app


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("ITINERA_DATABASE_URL", database_url)
    monkeypatch.setenv("ITINERA_DIGEST_FOLDER", str(tmp_path / "default-folder"))
    monkeypatch.chdir(tmp_path)
    return database_url


def invoke(app: typer.Typer, *args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def test_the_command_writes_three_files_and_posts_to_every_channel(
    env: str, tmp_path: Path
) -> None:
    round_id = run_seed(env)
    slack, telegram = FakeMessenger("slack"), FakeMessenger("telegram")
    app = cli_app([slack, telegram])

    result = invoke(app, "digest", str(round_id), "--out", str(tmp_path / "out"))

    assert result.exit_code == 0, result.output
    stem = file_stem(round_id, datetime.now(UTC))
    paths = [tmp_path / "out" / f"{stem}{suffix}" for suffix in (".md", ".html", ".png")]
    assert result.output.splitlines() == [*map(str, paths), "Posted to slack, telegram."]
    markdown, html, png = paths
    text = markdown.read_text(encoding="utf-8")
    assert text.startswith("# Digest: Route-based approach: alignment with national priorities")
    assert "1 of 3 delegations has answered (33%)." in text
    assert "> \\<b\\>Fully\\</b\\> behind it" in text
    assert "> — France" in text
    assert '<img src="data:image/png;base64,' in html.read_text(encoding="utf-8")  # standalone
    assert png.read_bytes().startswith(PNG_SIGNATURE)

    for messenger in (slack, telegram):
        [(posted, image, image_name)] = messenger.posts
        assert image == png.read_bytes() and image_name == png.name
        assert posted.startswith("# Digest:")
        assert "|" not in posted  # compact: no tables for chat apps
        assert posted.rstrip().endswith(f"{markdown.name}, {html.name}")

    # The run was recorded: the next digest compares with it and has no new comment.
    again = invoke(app, "digest", str(round_id), "--out", str(tmp_path / "out"), "--lang", "fr")
    assert again.exit_code == 0, again.output
    french = markdown.read_text(encoding="utf-8")
    assert "## Depuis la dernière synthèse" in french
    assert "Aucune nouvelle observation." in french


def test_files_only_by_default_folder_and_nothing_recorded_without_posting(
    env: str, tmp_path: Path
) -> None:
    round_id = run_seed(env)
    messenger = FakeMessenger("slack")
    app = cli_app([messenger])

    result = invoke(app, "digest", str(round_id), "--no-post")

    assert result.exit_code == 0, result.output
    assert messenger.posts == []
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert all(Path(line).parent == tmp_path / "default-folder" for line in lines)
    # Not posted, so not recorded: the next digest is still a first digest.
    again = invoke(app, "digest", str(round_id), "--no-post")
    assert "This is the first digest of this round." in Path(lines[0]).read_text(encoding="utf-8")
    assert again.exit_code == 0


def test_without_channels_the_command_says_so(env: str) -> None:
    round_id = run_seed(env)
    result = invoke(cli_app(None), "digest", str(round_id))
    assert result.exit_code == 0, result.output
    assert "Not posted: no digest channel is configured" in result.output


def test_a_refusing_channel_is_reported_and_the_others_still_get_it(env: str) -> None:
    round_id = run_seed(env)
    refusing, working = FakeMessenger("telegram", refuse=True), FakeMessenger("slack")
    result = invoke(cli_app([refusing, working]), "digest", str(round_id))
    assert result.exit_code == 0, result.output
    assert "Posted to slack." in result.output
    assert "Not posted: telegram: message to organisers not delivered: channel_not_found" in (
        result.output
    )
    assert len(working.posts) == 1

    alone = invoke(cli_app([refusing]), "digest", str(round_id))
    assert alone.exit_code == 1


def test_unknown_rounds_and_unmigrated_databases_are_refused(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = invoke(cli_app(None), "digest", "999")
    assert missing.exit_code == 1
    assert "error: no round 999" in missing.output

    monkeypatch.setenv("ITINERA_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    unmigrated = invoke(cli_app(None), "digest", "1")
    assert unmigrated.exit_code == 1
    assert "run `itinera db upgrade` first" in unmigrated.output


async def test_publish_digest_on_the_in_memory_store(tmp_path: Path) -> None:
    store = InMemoryStore()
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    round_id = await seed(store, now)
    queries = InMemoryDigestQueries(store)
    messenger = FakeMessenger("slack")

    files = await publish_digest(
        store,
        round_id,
        messengers=[messenger],
        now=now + timedelta(hours=2),
        folder=tmp_path,
        language="es",
        queries=queries,
    )

    assert [path.name for path in files.paths] == [
        f"digest-round-{round_id}-2026-03-02{suffix}" for suffix in (".md", ".html", ".png")
    ]
    assert all(path.is_file() for path in files.paths)
    assert files.posted_to == ("slack",) and files.failures == ()
    assert files.run is not None and files.run.figures == files.digest.figures
    assert await queries.last_run(round_id) == files.run
    assert files.digest.language == "es"
    assert "1 de 3 delegaciones ha respondido" in files.markdown.read_text(encoding="utf-8")

    preview = await publish_digest(
        store,
        round_id,
        messengers=[],
        now=now + timedelta(days=1),
        folder=tmp_path,
        queries=queries,
    )
    assert preview.run is None and preview.digest.change is not None
    forced = await publish_digest(
        store,
        round_id,
        messengers=[],
        now=now + timedelta(days=1),
        folder=tmp_path,
        record=True,
        queries=queries,
    )
    assert forced.run is not None

    with pytest.raises(NotFoundError):
        await publish_digest(store, 999, messengers=[], now=now, folder=tmp_path, queries=queries)
    with pytest.raises(TypeError, match="pass queries="):
        await publish_digest(store, round_id, messengers=[], now=now, folder=tmp_path)


def test_the_marking_and_the_reader_language_reach_every_file(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_id = run_seed(env)
    monkeypatch.setenv("ITINERA_DIGEST_CLASSIFICATION", "UNHCR internal")
    messenger = FakeMessenger("telegram")
    out = tmp_path / "ar"

    result = invoke(
        cli_app([messenger]), "digest", str(round_id), "--out", str(out), "--lang", "ar"
    )

    assert result.exit_code == 0, result.output
    markdown, html, _png = (Path(line) for line in result.output.splitlines()[:3])
    page = html.read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in page
    assert '<p class="classification">UNHCR internal</p>' in page
    assert markdown.read_text(encoding="utf-8").splitlines()[2] == "**UNHCR internal**"
    [(posted, _image, _name)] = messenger.posts
    assert "**UNHCR internal**" in posted and "باختصار" in posted


def test_a_language_without_a_digest_is_refused_with_the_choices(env: str) -> None:
    round_id = run_seed(env)
    result = invoke(cli_app(None), "digest", str(round_id), "--lang", "de")
    assert result.exit_code == 2
    words = " ".join(result.output.replace("│", " ").split())  # the error box, flattened
    assert "no digest in 'de': choose one of ar, zh, en, fr, ru, es" in words
