"""Answers at once: hundreds of delegates pressing an answer button together.

Starts, on loopback, a fresh PostgreSQL database, fakes of Slack and Telegram (published rate
limits on), and ``itinera run`` in a child process serving Slack's events and Telegram's
webhook. Once every delegate has their invitation, each presses the first answer of their
first question at once, ``--concurrency`` requests in flight: Slack ``block_actions`` signed as
Slack signs them, Telegram ``callback_query`` updates posted by the fake to the webhook. Then
the same presses go to a bare app in another child (slack-bolt and python-telegram-bot that
only acknowledge), in the same run. Prints the throughput (presses acknowledged a second, from
the first press to the last acknowledgement, for both apps alike), acknowledgement p50/p99,
the time from press to the next question seen at the fake platform and the presses processed
end to end a second (Itinera only: to the last next question), the CPU time a press (every
process of the app, from the first press to the last thing awaited; with ``--split``, web's
and worker's) and its ratio to the bare app's, and the throughput's ratio to the bare app's,
against the targets (ack p99 < 100 ms, throughput >= 0.6 of the bare app's, next
question p99 < 300 ms).

    python bench/answers.py                          # 200 Slack + 200 Telegram delegates
    python bench/answers.py --slack 1000 --telegram 1000 --concurrency 16
    python bench/answers.py --split                  # web and worker in two processes
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    SERVER,
    SIGNING_SECRET,
    WEBHOOK_SECRET,
    Child,
    free_port,
    fresh_database,
    itinera_env,
    percentile,
    seed,
    wait_healthy,
)

from bot.fakes.limits import SLACK
from bot.fakes.slack_api import FakeSlackApi, FakeUser, SignedSender, SlackUser
from bot.fakes.telegram_api import FakeTelegram, FloodControl
from bot.fakes.telegram_api import FakeUser as TelegramUser


@dataclass
class Timings:
    ack: list[float] = field(default_factory=list)
    next: list[float] = field(default_factory=list)
    failed: int = 0
    seconds: float = 0.0
    """From the first press to the last thing awaited (the last next question, for Itinera)."""
    acked_seconds: float = 0.0
    """From the first press to the last acknowledgement."""
    why: Counter[str] = field(default_factory=Counter)
    cpu: float = 0.0
    """The app's CPU seconds (all its processes) from the first press to the last thing
    awaited."""
    cpu_by: dict[str, float] = field(default_factory=dict)
    """With ``--split``: each process's share of ``cpu``, by its role."""

    @property
    def throughput(self) -> float:
        """Presses acknowledged a second: the same measure for both apps."""
        return len(self.ack) / self.acked_seconds if self.acked_seconds else 0.0

    @property
    def processed(self) -> float:
        """Presses whose next question reached the platform, a second, end to end."""
        return len(self.next) / self.seconds if self.seconds and self.next else 0.0


Press = Callable[[], Awaitable[tuple[float, Awaitable[None] | None]]]
"""Press once; returns the acknowledgement's latency and, if the next screen is awaited, what
waits for it."""


async def run_presses(presses: list[Press], *, concurrency: int, within: float) -> Timings:
    timings = Timings()
    gate = asyncio.Semaphore(concurrency)

    async def one(press: Press) -> None:
        async with gate:
            started = time.perf_counter()
            try:
                ack, nxt = await press()
            except Exception as error:
                timings.failed += 1
                timings.why[f"{type(error).__name__}: {error}"[:120]] += 1
                return
            timings.ack.append(ack)
            last_ack[0] = time.perf_counter()
        if nxt is not None:
            try:
                async with asyncio.timeout(within):
                    await nxt
                timings.next.append(time.perf_counter() - started)
            except TimeoutError:
                timings.failed += 1
                timings.why["no next question within 30 s"] += 1

    started = time.perf_counter()
    last_ack = [started]
    await asyncio.gather(*(one(press) for press in presses))
    timings.seconds = time.perf_counter() - started
    timings.acked_seconds = last_ack[0] - started
    return timings


def slack_presses(
    slack: FakeSlackApi, sender: SignedSender, users: list[str], *, watch: bool
) -> list[Press]:
    def press_for(uid: str) -> Press:
        person = SlackUser(slack, sender, uid)

        async def press() -> tuple[float, Awaitable[None] | None]:
            shown = person.screen()
            before = shown.updates
            t0 = time.perf_counter()
            answer = await person.press(message=shown)
            ack = time.perf_counter() - t0
            if answer.status_code != 200:
                raise RuntimeError(f"Slack press answered {answer.status_code}")

            def moved(_: FakeSlackApi) -> bool:
                return shown.updates > before or person.screen().ts != shown.ts

            nxt = slack.wait_for(moved, within=30) if watch else None
            return ack, nxt

        return press

    return [press_for(uid) for uid in users]


def telegram_presses(
    telegram: FakeTelegram, users: list[TelegramUser], *, watch: bool
) -> list[Press]:
    def press_for(user: TelegramUser) -> Press:
        async def press() -> tuple[float, Awaitable[None] | None]:
            shown = telegram.last_keyboard_message(user)
            assert shown is not None and shown.buttons
            edits, count = shown.edits, len(telegram.bot_messages(user))
            data = next(b.data for b in shown.buttons if b.data)
            assert data is not None
            before = len(telegram.webhook_deliveries)
            t0 = time.perf_counter()
            update_id = await telegram.press(user, shown.message_id, data)
            ack = time.perf_counter() - t0
            statuses = [s for u, s in telegram.webhook_deliveries[before:] if u == update_id]
            if not statuses or statuses[-1] != 200:
                raise RuntimeError(f"Telegram webhook answered {statuses}")

            def moved() -> bool:
                return shown.edits > edits or len(telegram.bot_messages(user)) > count

            nxt = telegram.wait_for(moved, within=30, what="the next question") if watch else None
            return ack, nxt

        return press

    return [press_for(user) for user in users]


def show(name: str, timings: Timings, bare: Timings | None) -> dict[str, float]:
    ms = [t * 1000 for t in timings.ack]
    line = (
        f"{name:15} {len(ms)} presses, {timings.failed} failed, {timings.throughput:.0f}/s; "
        f"ack p50 {percentile(ms, 0.5):.0f} ms p99 {percentile(ms, 0.99):.0f} ms"
    )
    figures = {"ack_p99": percentile(ms, 0.99), "throughput": timings.throughput}
    if timings.next:
        nxt = [t * 1000 for t in timings.next]
        line += (
            f"; next question p50 {percentile(nxt, 0.5):.0f} ms p99 {percentile(nxt, 0.99):.0f} ms"
        )
        figures["next_p99"] = percentile(nxt, 0.99)
    if bare is not None and bare.throughput:
        figures["ratio"] = timings.throughput / bare.throughput
        line += f"; {figures['ratio']:.2f} of the bare app's throughput"
    if timings.next:
        line += f"; {timings.processed:.0f}/s processed end to end"
    if timings.cpu and timings.ack:
        figures["cpu_ms"] = timings.cpu * 1000 / len(timings.ack)
        line += f"; {figures['cpu_ms']:.1f} ms of CPU a press"
        if timings.cpu_by:
            shares = ", ".join(
                f"{role} {seconds * 1000 / len(timings.ack):.1f}"
                for role, seconds in timings.cpu_by.items()
            )
            line += f" ({shares})"
        if bare is not None and bare.cpu and bare.ack:
            ratio = timings.cpu / len(timings.ack) / (bare.cpu / len(bare.ack))
            line += f", {ratio:.1f} times the bare app's"
    print(line)
    for why, count in timings.why.most_common(3):
        print(f"{'':15} failed {count}: {why}")
    return figures


async def bench(args: argparse.Namespace) -> int:
    name = f"itinera_answers_{os.getpid()}"
    async with fresh_database(args.database_url, name) as url:
        seeded = await seed(url, slack=args.slack, telegram=args.telegram)
        users = [FakeUser(uid, f"{uid.lower()}@example.org") for uid in seeded.slack]
        async with (
            FakeSlackApi(users=users, limits=SLACK, validate_blocks=False) as slack,
            FakeTelegram(flood=FloodControl.published()) as telegram,
        ):
            people = [telegram.user(chat, f"User {chat}") for chat in seeded.telegram]
            with tempfile.TemporaryDirectory() as folder:
                itinera = await _itinera(args, url, slack, telegram, people, Path(folder))
                bare = await _bare(args, slack, telegram, people, Path(folder))
    print(
        f"\n{args.slack} Slack + {args.telegram} Telegram delegates, concurrency {args.concurrency}"
    )
    for key, timings in bare.items():
        show(f"bare {key}", timings, None)
    ok = True
    for key, timings in itinera.items():
        figures = show(f"itinera {key}", timings, bare[key])
        met = (
            figures["ack_p99"] < 100
            and figures.get("ratio", 0) >= 0.6
            and figures.get("next_p99", 1e9) < 300
            and not timings.failed
        )
        ok = ok and met
        print(
            f"{'':15} targets (ack p99 < 100 ms, >= 0.6 of bare, next p99 < 300 ms): "
            f"{'met' if met else 'NOT met'}"
        )
    return 0 if ok else 1


async def _itinera(
    args: argparse.Namespace,
    url: str,
    slack: FakeSlackApi,
    telegram: FakeTelegram,
    people: list[TelegramUser],
    folder: Path,
) -> dict[str, Timings]:
    port = free_port()
    env = itinera_env(
        database_url=url,
        port=port,
        slack_api=slack.url,
        telegram_api=telegram.url,
        telegram_token=telegram.token,
        telegram_webhook=True,
    )
    fanout = [str(Path(__file__).with_name("fanout.py")), "serve", "--scale", "1"]
    running: list[Child] = []
    with contextlib.ExitStack() as children:
        if args.split:
            # ITINERA_ROLE: one process serves the webhooks (and sends), the other applies
            # what they stored (and sends, and runs the schedule); both on one database.
            web = Child(fanout, env=env | {"ITINERA_ROLE": "web"}, log=folder / "web.log")
            worker_port = free_port()
            worker_env = env | {"ITINERA_ROLE": "worker", "ITINERA_HTTP_PORT": str(worker_port)}
            worker = Child(fanout, env=worker_env, log=folder / "worker.log")
            running = [children.enter_context(web), children.enter_context(worker)]
            await wait_healthy(f"http://127.0.0.1:{port}", web)
            await wait_healthy(f"http://127.0.0.1:{worker_port}", worker)
        else:
            child = children.enter_context(Child(fanout, env=env, log=folder / "itinera.log"))
            running = [child]
            await wait_healthy(f"http://127.0.0.1:{port}", child)
        # Every invitation delivered (at the platforms' rates) before anyone presses.
        await slack.wait_for(lambda s: len(s.messages) >= args.slack, within=600)
        await telegram.wait_for(
            lambda: all(telegram.last_keyboard_message(p) for p in people), within=600
        )
        sender = SignedSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
        before = [child.cpu_seconds() for child in running]
        try:
            result = await _both(args, slack, sender, telegram, people, watch=True)
        finally:
            await sender.aclose()
        used = [child.cpu_seconds() - b for child, b in zip(running, before, strict=True)]
        result["all"].cpu = sum(used)
        if args.split:
            result["all"].cpu_by = {"web": used[0], "worker": used[1]}
    return result


async def _bare(
    args: argparse.Namespace,
    slack: FakeSlackApi,
    telegram: FakeTelegram,
    people: list[TelegramUser],
    folder: Path,
) -> dict[str, Timings]:
    port = free_port()
    env = {
        "BARE_PORT": str(port),
        "BARE_SLACK_API": slack.url,
        "BARE_TELEGRAM_API": telegram.url,
        "BARE_TELEGRAM_TOKEN": telegram.token,
    }
    with Child([__file__, "bare"], env=env, log=folder / "bare.log") as child:
        await wait_healthy(f"http://127.0.0.1:{port}", child)
        telegram.webhook_url = f"http://127.0.0.1:{port}/telegram/webhook"
        telegram.webhook_secret = WEBHOOK_SECRET
        sender = SignedSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
        before = child.cpu_seconds()
        try:
            result = await _both(args, slack, sender, telegram, people, watch=False)
        finally:
            await sender.aclose()
        result["all"].cpu = child.cpu_seconds() - before
        return result


async def _both(
    args: argparse.Namespace,
    slack: FakeSlackApi,
    sender: SignedSender,
    telegram: FakeTelegram,
    people: list[TelegramUser],
    *,
    watch: bool,
) -> dict[str, Timings]:
    """Slack's and Telegram's delegates press at once, interleaved."""
    slack_side = slack_presses(slack, sender, [u for u in slack.users], watch=watch)
    telegram_side = telegram_presses(telegram, people, watch=watch)
    kinds: dict[int, str] = {}
    mixed: list[Press] = []
    for n in range(max(len(slack_side), len(telegram_side))):
        for kind, side in (("slack", slack_side), ("telegram", telegram_side)):
            if n < len(side):
                kinds[len(mixed)] = kind
                mixed.append(side[n])
    per_kind = {"slack": Timings(), "telegram": Timings(), "all": Timings()}

    def tagged(index: int, press: Press) -> Press:
        async def run() -> tuple[float, Awaitable[None] | None]:
            ack, nxt = await press()
            per_kind[kinds[index]].ack.append(ack)
            if nxt is None:
                return ack, None

            async def waited() -> None:
                t0 = time.perf_counter()
                await nxt
                per_kind[kinds[index]].next.append(time.perf_counter() - t0 + ack)

            return ack, waited()

        return run

    overall = await run_presses(
        [tagged(i, p) for i, p in enumerate(mixed)], concurrency=args.concurrency, within=30
    )
    for kind in ("slack", "telegram"):
        per_kind[kind].seconds = overall.seconds
        per_kind[kind].acked_seconds = overall.acked_seconds
    per_kind["all"] = overall
    return per_kind


# --- the bare app --------------------------------------------------------------------------------


def bare() -> None:
    """slack-bolt and python-telegram-bot behind one Starlette app, acknowledging only."""
    import uvicorn
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route
    from telegram import Update
    from telegram.ext import Application, CallbackQueryHandler, ContextTypes

    port = int(os.environ["BARE_PORT"])
    client = AsyncWebClient(token="xoxb-bench", base_url=os.environ["BARE_SLACK_API"])
    bolt = AsyncApp(client=client, signing_secret=SIGNING_SECRET, request_verification_enabled=True)

    @bolt.action(re.compile(".*"))
    async def acknowledge(ack: AsyncAck) -> None:
        await ack()

    slack_handler = AsyncSlackRequestHandler(bolt)
    api = os.environ["BARE_TELEGRAM_API"]
    application = (
        Application.builder()
        .token(os.environ["BARE_TELEGRAM_TOKEN"])
        .base_url(f"{api}/bot")
        .updater(None)
        .build()
    )

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()

    application.add_handler(CallbackQueryHandler(answer))

    async def slack_events(request: Request) -> Response:
        return await slack_handler.handle(request)  # type: ignore[no-any-return]

    async def telegram_webhook(request: Request) -> Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != WEBHOOK_SECRET:
            return Response(status_code=403)
        update = Update.de_json(await request.json(), application.bot)
        await application.update_queue.put(update)
        return Response()

    async def health(request: Request) -> Response:
        return Response("ok")

    async def lifespan(app: Any) -> Any:
        async with application:
            await application.start()
            yield
            await application.stop()

    web = Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
            Route("/healthz", health),
        ],
        lifespan=lifespan,
    )
    uvicorn.run(web, host="127.0.0.1", port=port, log_level="warning")


def main() -> None:
    if sys.argv[1:2] == ["bare"]:
        bare()
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=SERVER,
        help=f"PostgreSQL server to create a scratch database on (default {SERVER})",
    )
    parser.add_argument("--slack", type=int, default=200, help="Slack delegates (default 200)")
    parser.add_argument(
        "--telegram", type=int, default=200, help="Telegram delegates (default 200)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="presses in flight (16)")
    parser.add_argument(
        "--split",
        action="store_true",
        help="run Itinera as two processes, ITINERA_ROLE=web and ITINERA_ROLE=worker",
    )
    sys.exit(asyncio.run(bench(parser.parse_args())))


if __name__ == "__main__":
    main()
