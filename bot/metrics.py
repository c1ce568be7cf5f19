"""Prometheus metrics for deliveries, work and effects."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

DELIVERIES_RECEIVED = Counter(
    "workflow_bot_deliveries_received_total",
    "Webhook deliveries answered, by event and answer.",
    ["event", "answer"],
    registry=REGISTRY,
)
DELIVERIES_PROCESSED = Counter(
    "workflow_bot_deliveries_processed_total",
    "Deliveries the worker finished, by event and outcome.",
    ["event", "outcome"],
    registry=REGISTRY,
)
DELIVERY_SECONDS = Histogram(
    "workflow_bot_delivery_seconds",
    "Time a worker spent on one delivery.",
    ["event"],
    registry=REGISTRY,
)
EFFECTS = Counter(
    "workflow_bot_effects_total",
    "Outbox effects carried out, by topic and outcome.",
    ["topic", "outcome"],
    registry=REGISTRY,
)
INBOX_DEPTH = Gauge(
    "workflow_bot_inbox_depth",
    "Deliveries per state, read at scrape time.",
    ["state"],
    registry=REGISTRY,
)
# Hours, not seconds, matter for people: buckets from a minute to a month.
_HUMAN_BUCKETS = (60, 600, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400)
TASK_CYCLE_SECONDS = Histogram(
    "workflow_bot_task_cycle_seconds",
    "Time from a task's creation to its approval.",
    buckets=_HUMAN_BUCKETS,
    registry=REGISTRY,
)
REVIEW_TURNAROUND_SECONDS = Histogram(
    "workflow_bot_review_turnaround_seconds",
    "Time from a task's submission to its first review by a person.",
    buckets=_HUMAN_BUCKETS,
    registry=REGISTRY,
)
