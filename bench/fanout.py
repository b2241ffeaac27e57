"""Fan-out at platform speed: a round's invitations to thousands of delegates on both channels.

Starts, on loopback, a fresh PostgreSQL database, fakes of Slack and Telegram that enforce the
platforms' published rate limits (or ``--scale`` times them) and answer 429 beyond them, and
``itinera run`` in a child process (its scheduler, its outbox, its paced senders, exactly as
deployed). A round to every delegate opens; the first tick enqueues the invitations and the
senders deliver them. Prints, per scale: delivered/expected, duplicates, 429s, and the
achieved rate as a fraction of what the limits allow (the least time the limits permit for
that many messages, over the time from the first invitation delivered to the last).

    python bench/fanout.py                                   # 600 + 600 delegates, x1 and x10
    python bench/fanout.py --slack 5000 --telegram 5000      # the full run (about 16 minutes)
    python bench/fanout.py --scale 10 --database-url postgresql+asyncpg://postgres@host/db
    python bench/fanout.py --replicas 2                      # two itinera run on one database
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from harness import SERVER, Child, free_port, fresh_database, itinera_env, seed, wait_healthy

from bot.fakes.limits import SLACK, TELEGRAM
from bot.fakes.slack_api import FakeSlackApi, FakeUser
from bot.fakes.telegram_api import FakeTelegram, FloodControl


@dataclass
class Progress:
    """When each channel's first and latest invitation arrived (seconds, monotonic)."""

    first: dict[str, float]
    last: dict[str, float]
    count: dict[str, int]


async def watch(
    counters: dict[str, object], expected: dict[str, int], children: list[Child], *, within: float
) -> Progress:
    """Sample the fakes' counts every 20 ms until every channel has its expected number,
    nothing moved for 30 s, or ``within`` seconds passed."""
    progress = Progress({}, {}, {name: 0 for name in counters})
    started = time.monotonic()
    moved = started
    while True:
        now = time.monotonic()
        for name, count in ((name, _count(fake)) for name, fake in counters.items()):
            if count > progress.count[name]:
                progress.first.setdefault(name, now)
                progress.last[name] = now
                progress.count[name] = count
                moved = now
        if all(progress.count[name] >= expected[name] for name in expected):
            return progress
        if now - moved > 30 or now - started > within:
            return progress
        for child in children:
            child.check()
        await asyncio.sleep(0.02)


def _count(fake: object) -> int:
    if isinstance(fake, FakeSlackApi):
        return len(fake.messages)
    assert isinstance(fake, FakeTelegram) and fake.limits is not None
    return fake.limits.accepted


async def one_scale(args: argparse.Namespace, scale: float, folder: Path) -> dict[str, float]:
    name = f"itinera_fanout_{os.getpid()}"
    async with fresh_database(args.database_url, name) as url:
        started = time.monotonic()
        seeded = await seed(url, slack=args.slack, telegram=args.telegram)
        print(
            f"\n== x{scale:g}: {args.slack} Slack + {args.telegram} Telegram delegates "
            f"(roster and round in {time.monotonic() - started:.1f} s)"
        )
        slack_limits, telegram_limits = SLACK.scaled(scale), FloodControl.published(scale=scale)
        users = [FakeUser(uid, f"{uid.lower()}@example.org") for uid in seeded.slack]
        async with (
            FakeSlackApi(users=users, limits=slack_limits, validate_blocks=False) as slack,
            FakeTelegram(flood=telegram_limits) as telegram,
        ):
            for chat in seeded.telegram:
                telegram.user(chat, f"User {chat}")
            ports = [free_port() for _ in range(args.replicas)]
            # Several replicas take Telegram's updates by webhook (one address for all), as
            # only one process may long-poll a bot; one replica polls, as by default.
            envs = [
                itinera_env(
                    database_url=url,
                    port=port,
                    slack_api=slack.url if args.slack else None,
                    telegram_api=telegram.url if args.telegram else None,
                    telegram_token=telegram.token,
                    telegram_webhook=args.replicas > 1,
                    webhook_port=ports[0],
                )
                for port in ports
            ]
            allowed = {
                "slack": slack_limits.allowed_seconds(args.slack, conversations=args.slack),
                "telegram": TELEGRAM.scaled(scale).allowed_seconds(
                    args.telegram, chats=args.telegram
                ),
            }
            expected = {"slack": args.slack, "telegram": args.telegram}
            expected = {k: v for k, v in expected.items() if v}
            fakes: dict[str, object] = {"slack": slack, "telegram": telegram}
            fakes = {k: v for k, v in fakes.items() if k in expected}
            t0 = time.monotonic()
            with contextlib.ExitStack() as stack:
                children = [
                    stack.enter_context(
                        Child(
                            [__file__, "serve", "--scale", str(scale)],
                            env=env,
                            log=folder / f"itinera-x{scale:g}-{n}.log",
                        )
                    )
                    for n, env in enumerate(envs)
                ]
                for port, child in zip(ports, children, strict=True):
                    await wait_healthy(f"http://127.0.0.1:{port}", child)
                ready = time.monotonic()
                idle = sum(child.cpu_seconds() for child in children)
                within = 3 * max(allowed.values()) + 120
                progress = await watch(fakes, expected, children, within=within)
                cpu = sum(child.cpu_seconds() for child in children)
            return report(
                scale=scale,
                slack=slack,
                telegram=telegram,
                seeded_slack=seeded.slack,
                seeded_telegram=seeded.telegram,
                expected=expected,
                allowed=allowed,
                progress=progress,
                startup=ready - t0,
                cpu=cpu,
                fanout_cpu=cpu - idle,
            )


def report(
    *,
    scale: float,
    slack: FakeSlackApi,
    telegram: FakeTelegram,
    seeded_slack: list[str],
    seeded_telegram: list[int],
    expected: dict[str, int],
    allowed: dict[str, float],
    progress: Progress,
    startup: float,
    cpu: float,
    fanout_cpu: float,
) -> dict[str, float]:
    start = min(progress.first.values(), default=time.monotonic())
    figures: dict[str, float] = {}
    per_dm = Counter(channel for channel, _ in slack.messages)
    per_chat = {
        chat: len(telegram.bot_messages(telegram.user(chat, ""))) for chat in seeded_telegram
    }
    reached = {
        "slack": sum(1 for uid in seeded_slack if per_dm.get(slack.dm_channel(uid), 0) >= 1),
        "telegram": sum(1 for n in per_chat.values() if n >= 1),
    }
    extra = {
        "slack": sum(max(0, n - 1) for n in per_dm.values()) + slack.duplicates.count,
        "telegram": sum(max(0, n - 1) for n in per_chat.values()) + telegram.duplicates.count,
    }
    refusals = {
        "slack": slack.limits.refusals if slack.limits else 0,
        "telegram": telegram.flood_refusals,
    }
    print(f"itinera run healthy after {startup:.1f} s; CPU used by it (all replicas): {cpu:.1f} s")
    invitations = sum(reached.values())
    if invitations:
        print(
            f"CPU from healthy to the last invitation: {fanout_cpu:.1f} s, "
            f"{1000 * fanout_cpu / invitations:.2f} ms per invitation delivered"
        )
    for name in expected:
        took = progress.last.get(name, start) - start
        fraction = allowed[name] / took if took > 0 else 0.0
        began = progress.first.get(name, start) - start
        print(
            f"{name:9} delivered {reached[name]}/{expected[name]}  duplicates {extra[name]}  "
            f"429s {refusals[name]}  took {took:.1f} s (its first after {began:.1f} s), the "
            f"limits allow {allowed[name]:.1f} s: achieved {fraction:.3f} of the allowed rate"
        )
        figures[f"{name}_fraction"] = fraction
        figures[f"{name}_delivered"] = reached[name] / expected[name]
    return figures


async def bench(args: argparse.Namespace) -> int:
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for scale in args.scale:
            figures = await one_scale(args, scale, Path(folder))
            short = [k for k, v in figures.items() if v < (0.95 if "fraction" in k else 1.0)]
            if short:
                print(f"below target: {', '.join(short)}")
                failed = True
    return 1 if failed else 0


def serve(scale: float) -> None:
    """The child: ``itinera run`` with the senders paced to ``scale`` times the limits."""
    import logging

    from bot.run import run
    from bot.settings import load_settings
    from storage.database import open_store

    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

    async def main() -> None:
        store = await open_store(settings.database_url)
        try:
            await run(settings, store, rate_scale=scale)
        finally:
            await store.close()

    asyncio.run(main())


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        parser = argparse.ArgumentParser()
        parser.add_argument("serve")
        parser.add_argument("--scale", type=float, default=1.0)
        serve(parser.parse_args().scale)
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=SERVER,
        help=f"PostgreSQL server to create a scratch database on (default {SERVER})",
    )
    parser.add_argument("--slack", type=int, default=600, help="Slack delegates (default 600)")
    parser.add_argument(
        "--telegram", type=int, default=600, help="Telegram delegates (default 600)"
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="itinera run processes on the one database (default 1)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        nargs="+",
        default=[1.0, 10.0],
        help="multiples of the published limits to run at (default: 1 10)",
    )
    sys.exit(asyncio.run(bench(parser.parse_args())))


if __name__ == "__main__":
    main()
