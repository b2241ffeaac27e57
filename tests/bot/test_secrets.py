"""No configured secret in anything Itinera prints or logs: the CLI is run through failures
with known secrets set (a Telegram token the API refuses, a refused digest post, a database
URL with a password) and every byte of its output and every log record is searched."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import typer
from typer.testing import CliRunner, Result

from bot import secrets
from bot.bootstrap import ChannelStartError
from bot.cli import app
from bot.digest_cmd import digest_command
from bot.fakes.telegram_api import FakeTelegram
from bot.settings import Settings, load_settings
from storage.database import Store
from surveys.errors import DeliveryError
from surveys.ports import Messenger

TELEGRAM_TOKEN = "987654:AAHsecretTelegramTokenValue_x1"
WEBHOOK_SECRET = "webhook-Secret_value_42"
SLACK_TOKEN = "xoxb-1111-2222-slackSecretToken"
SIGNING_SECRET = "f00dfacesigningsecret0123456789"
APP_TOKEN = "xapp-1-A111-appLevelSecret"
DB_PASSWORD = "Pa55/w:rd@db"
SECRETS = [TELEGRAM_TOKEN, WEBHOOK_SECRET, SLACK_TOKEN, SIGNING_SECRET, APP_TOKEN, DB_PASSWORD]
"""Every secret, searched for as written and as it would appear in a URL."""

sqlite_only = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)


def forms(secret: str) -> set[str]:
    found = {secret, quote(secret, safe=""), quote(secret, safe=":")}
    # The part of a Telegram token after its public bot id is the secret itself.
    found |= {part for part in secret.split(":") if len(part) > 12}
    return found


def leaks(*outputs: str | bytes, records: Sequence[logging.LogRecord] = ()) -> list[str]:
    """Each secret form found in the outputs or in the records (message, args, traceback)."""
    texts = [o.decode("utf-8", "replace") if isinstance(o, bytes) else o for o in outputs]
    for record in records:
        texts += [record.getMessage(), str(record.args), record.exc_text or ""]
        if record.exc_info and record.exc_info[1] is not None:
            texts.append(repr(record.exc_info[1]))
    return sorted(
        {form for secret in SECRETS for form in forms(secret) for text in texts if form in text}
    )


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> dict[str, str]:
    values = {
        "ITINERA_DATABASE_URL": database_url,
        "ITINERA_ACTOR": "olga",
        "ITINERA_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "ITINERA_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ITINERA_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ITINERA_SLACK_APP_TOKEN": APP_TOKEN,
        "ITINERA_HTTP_PORT": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record at DEBUG, httpx's request lines (which carry Bot API URLs) included."""
    caplog.set_level(logging.DEBUG)
    httpx_log = logging.getLogger("httpx")
    before = httpx_log.level
    httpx_log.setLevel(logging.DEBUG)
    yield caplog
    httpx_log.setLevel(before)


async def invoke(*args: str, application: typer.Typer = app) -> Result:
    """The CLI in a thread: it runs its own event loop, as ``itinera`` does."""
    return await asyncio.to_thread(CliRunner().invoke, application, list(args))


def readable_failure(result: Result) -> None:
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert "error:" in result.output or "Not posted:" in result.output


@sqlite_only
async def test_a_refused_telegram_token_is_never_printed_or_logged(
    secret_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    async with FakeTelegram() as fake:  # its token is another: it answers 401 Unauthorized
        monkeypatch.setenv("ITINERA_TELEGRAM_API_URL", fake.url)
        invites = await invoke("roster", "invites", "--channel", "telegram")
        readable_failure(invites)
        assert "cannot ask Telegram for the bot's username" in invites.output
        assert "***" in invites.output  # said, masked: the person knows which token it was
        started = await invoke("run")
        readable_failure(started)
        assert "telegram could not start" in started.output
    asked = [r.getMessage() for r in all_logs.records if r.name == "httpx"]
    assert any("/bot***/getMe" in message for message in asked)  # the request URL, masked
    assert leaks(invites.stdout_bytes, invites.stderr_bytes, records=all_logs.records) == []
    assert leaks(started.stdout_bytes, started.stderr_bytes, records=all_logs.records) == []


@sqlite_only
async def test_a_refused_digest_post_is_reported_without_the_token(
    secret_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    all_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """A channel whose refusal quotes the bot token (as some API errors do) in its message."""
    monkeypatch.setenv("ITINERA_SLACK_BOT_TOKEN", SLACK_TOKEN)

    class Refusing:
        channel = "slack"

        async def post_digest(
            self, *, round_id: int, key: str, text: str, image: bytes | None, image_name: str
        ) -> None:
            raise DeliveryError("slack", "#digests", f"invalid_auth for token {SLACK_TOKEN}")

    @asynccontextmanager
    async def refusing(settings: Settings, store: Store) -> AsyncIterator[Sequence[Messenger]]:
        yield [Refusing()]  # type: ignore[list-item]

    application = typer.Typer()

    @application.callback()
    def main(ctx: typer.Context) -> None:
        from bot.cli import main as itinera_main

        itinera_main(ctx)

    application.command("digest")(digest_command(refusing))

    await asyncio.to_thread(_seed_round, secret_env)
    posted = await invoke("digest", "1", "--out", str(tmp_path), application=application)
    readable_failure(posted)
    assert "Not posted: slack: message to #digests not delivered: invalid_auth for token ***" in (
        posted.output
    )
    assert leaks(posted.stdout_bytes, posted.stderr_bytes, records=all_logs.records) == []


def _seed_round(env: dict[str, str]) -> None:
    examples = Path(__file__).resolve().parents[2] / "surveys" / "examples"
    for args in (
        ["survey", "import", str(examples / "route_alignment.yaml")],
        ["roster", "import", str(examples / "roster.csv")],
        ["round", "launch", "route_alignment", "--audience", "all", "--closes", "2099-01-01"],
    ):
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 0, done.output


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+asyncpg://itinera:{DB_PASSWORD}@127.0.0.1:1/itinera",
        "postgresql+asyncpg://itinera:Pa55%2Fw%3Ard%40db@127.0.0.1:1/itinera",
        f"mysql+nodriver://itinera:{DB_PASSWORD}@127.0.0.1:1/itinera",
        f"postgresql+asyncpg://itinera:{DB_PASSWORD}@127.0.0.1:notaport/itinera",
    ],
)
@pytest.mark.parametrize("command", [["round", "list"], ["db", "upgrade"], ["audit"]])
def test_a_database_that_cannot_be_opened_is_said_so_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    url: str,
    command: list[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ITINERA_DATABASE_URL", url)
    monkeypatch.setenv("ITINERA_TELEGRAM_TOKEN", TELEGRAM_TOKEN)
    result = CliRunner().invoke(app, command)
    readable_failure(result)
    assert "cannot open the database" in result.output
    assert ":***@" in result.output
    assert leaks(result.stdout_bytes, result.stderr_bytes, records=caplog.records) == []


def test_bad_settings_are_named_without_their_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITINERA_HTTP_PORT", f"port-{DB_PASSWORD}")
    monkeypatch.setenv("ITINERA_TELEGRAM_MODE", TELEGRAM_TOKEN)
    result = CliRunner().invoke(app, ["round", "list"])
    assert result.exit_code == 2
    assert "error: ITINERA_HTTP_PORT:" in result.output
    assert "ITINERA_TELEGRAM_MODE:" in result.output
    assert leaks(result.stdout_bytes, result.stderr_bytes) == []


# -- the helper ---------------------------------------------------------------------------------


def test_mask_hides_every_written_form_of_a_secret() -> None:
    text = (
        f"POST https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe; "
        f"url postgresql://u:{DB_PASSWORD}@h/db; quoted Pa55%2Fw%3Ard%40db"
    )
    masked = secrets.mask(text, [TELEGRAM_TOKEN, DB_PASSWORD])
    assert leaks(masked) == []
    assert masked.count("***") == 3


def test_the_configured_secrets_include_the_database_password() -> None:
    settings = load_settings(
        database_url=f"postgresql+asyncpg://itinera:{DB_PASSWORD}@db.example/itinera",
        telegram_token=TELEGRAM_TOKEN,
        slack_bot_token=SLACK_TOKEN,
    )
    assert set(secrets.configured_secrets(settings)) == {TELEGRAM_TOKEN, SLACK_TOKEN, DB_PASSWORD}
    assert secrets.redact_url(settings.database_url) == (
        "postgresql+asyncpg://itinera:***@db.example/itinera"
    )
    assert secrets.redact_url("sqlite+aiosqlite:///itinera.db") == "sqlite+aiosqlite:///itinera.db"


def test_log_records_are_masked_as_they_are_made(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    masker = secrets.mask_logs([SLACK_TOKEN])
    try:
        log = logging.getLogger("tests.secrets")
        log.info("calling with %s", SLACK_TOKEN)
        try:
            raise RuntimeError(f"refused {SLACK_TOKEN}")
        except RuntimeError:
            log.exception("it failed")
        log.warning("nothing secret here: %d", 3)
    finally:
        masker.use([])
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["calling with ***", "it failed", "nothing secret here: 3"]
    assert "refused ***" in (caplog.records[1].exc_text or "")
    assert leaks(caplog.text, records=caplog.records) == []


def test_a_channel_start_error_masks_what_it_quotes() -> None:
    error = ChannelStartError(
        "telegram",
        RuntimeError(f"The token `{TELEGRAM_TOKEN}` was rejected"),
        secrets=[TELEGRAM_TOKEN],
    )
    assert str(error) == (
        "telegram could not start: The token `***` was rejected (check its ITINERA_* settings)"
    )


# -- each layer on its own (the CLI's error hook masks too; these hold without it) ---------------


@pytest.fixture
def no_global_masking() -> Iterator[None]:
    """No secret registered with the log masker, as when ``bot.cli.main`` did not run."""
    masker = secrets.mask_logs([])
    before = masker.secrets
    yield
    masker.use(before)


@sqlite_only
async def test_invites_mask_a_refused_token_themselves(
    database_url: str, no_global_masking: None
) -> None:
    from bot.cli import State
    from bot.invites import roster_invites

    async with FakeTelegram() as fake:
        settings = load_settings(
            database_url=database_url, telegram_token=TELEGRAM_TOKEN, telegram_api_url=fake.url
        )
        application = typer.Typer()

        @application.callback()
        def main(ctx: typer.Context) -> None:
            ctx.obj = State(settings)

        application.command("invites")(roster_invites)
        result = await invoke("invites", application=application)
    readable_failure(result)
    assert "The token `***` was rejected" in result.output
    assert leaks(result.stdout_bytes, result.stderr_bytes) == []


def test_an_unreachable_database_is_named_without_its_password(
    capsys: pytest.CaptureFixture[str], no_global_masking: None
) -> None:
    from bot import terminal

    url = f"postgresql+asyncpg://itinera:{DB_PASSWORD}@db.example:5432/itinera"
    refused = OSError(f"could not connect to {url}")
    with pytest.raises(typer.Exit):
        raise terminal.unreachable(url, refused)
    shown = capsys.readouterr().err
    assert "cannot open the database postgresql+asyncpg://itinera:***@db.example:5432/itinera" in (
        shown
    )
    assert leaks(shown) == []
