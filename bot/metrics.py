"""What ``GET /metrics`` shows (Prometheus' text format, with ``prometheus-client``).

Messages sent, failed and throttled per channel (from the senders), the outbox's and the inbox's
depth and age (read from the database every few seconds by :meth:`Metrics.refresh`), how long
an event waited between being stored and applied, and whether this process leads the scheduled
work. Nothing carries a token or an answer's text.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from surveys.queues import InboundEvent, OutboundMessage
from surveys.service.sending import Refused, RetryLater, Sent, Verdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sent = Counter(
            "itinera_messages_sent",
            "Messages the platform accepted.",
            ["channel", "method"],
            registry=self.registry,
        )
        self.failed = Counter(
            "itinera_messages_failed",
            "Messages refused for good.",
            ["channel"],
            registry=self.registry,
        )
        self.throttled = Counter(
            "itinera_messages_throttled",
            "Rate limits met (429).",
            ["channel"],
            registry=self.registry,
        )
        self.retried = Counter(
            "itinera_messages_retried",
            "Transient failures, tried again later.",
            ["channel"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "itinera_outbox_pending",
            "Messages waiting to be sent.",
            ["channel"],
            registry=self.registry,
        )
        self.outbox_age = Gauge(
            "itinera_outbox_oldest_seconds",
            "Age of the oldest message waiting.",
            ["channel"],
            registry=self.registry,
        )
        self.outbox_failed = Gauge(
            "itinera_outbox_failed",
            "Messages refused for good, in the outbox.",
            ["channel"],
            registry=self.registry,
        )
        self.inbox_depth = Gauge(
            "itinera_inbox_pending", "Events stored and not applied yet.", registry=self.registry
        )
        self.inbox_age = Gauge(
            "itinera_inbox_oldest_seconds",
            "Age of the oldest event waiting.",
            registry=self.registry,
        )
        self.applied = Histogram(
            "itinera_event_seconds",
            "From an event being stored to its being applied.",
            ["channel"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.leader = Gauge(
            "itinera_leader",
            "1 while this process leads the scheduled work.",
            registry=self.registry,
        )

    def on_send(self, channel: str, message: OutboundMessage, verdict: Verdict) -> None:
        match verdict:
            case Sent():
                self.sent.labels(channel, message.method).inc()
            case RetryLater(rate_limited=True):
                self.throttled.labels(channel).inc()
            case RetryLater():
                self.retried.labels(channel).inc()
            case Refused():
                self.failed.labels(channel).inc()

    def on_applied(self, event: InboundEvent, now: datetime) -> None:
        waited = (now - event.received_at).total_seconds()
        self.applied.labels(event.channel).observe(max(waited, 0.0))

    def render(self) -> bytes:
        return generate_latest(self.registry)


__all__ = ["CONTENT_TYPE", "Metrics"]
