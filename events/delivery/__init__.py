"""Webhook delivery: claim due deliveries, POST each one signed (Standard Webhooks), record the outcome.

Contract
- At least once, never in a promised order; every attempt of a delivery carries the same `webhook-id`
  (its event's id) and the same body, so receivers dedupe on it.
- A pending delivery is `free` (`locked_until` null or past), `queued` (a claim: `locked_until` ahead,
  `attempt_started_at` null; a deliver task is on its way) or `in flight` (a worker set
  `attempt_started_at` and is sending). Only `deliveries_dispatch` claims, within the endpoint's cap
  (a success hands its claim on, one for one; retries and pings only make a delivery due and
  dispatch); only `delivery_deliver` starts an attempt, with a conditional UPDATE queued -> in flight
  that one caller wins: a duplicate task, or a stale one whose claim expired and was taken again, changes
  nothing and leaves. A worker that dies leaves its claim; when the lease passes, the sweep (beat,
  every 10 s) claims the delivery again and the receiver sees the same `webhook-id` twice.
- Per endpoint at most `WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT` claims at once, and one while it is
  failing, and nothing before its backoff (`retry_at`) is due: a backlog or a dead receiver holds a
  few worker slots, never all of them. Dispatchers serve an endpoint in turns: each locks the
  endpoints it serves (`FOR NO KEY UPDATE`, which the foreign-key checks of `events_record` do not
  wait for), then counts and claims in a second statement whose snapshot sees the claims before it.
- Lock order: the endpoint row, then its deliveries. The one statement that takes a delivery first
  (`_record_delivered`) takes the endpoint only with SKIP LOCKED: it never waits for it, so it cannot
  deadlock with a failure being recorded or a disable. No network I/O inside a transaction.
- Outcome: `delivered` is written whoever holds the claim now (the receiver has it); a failure only
  by the attempt that still holds the claim, so a late answer never overwrites a newer attempt. A
  success hands the endpoint's next due delivery on under a claim in the same statement (the cap
  holds: one claim released, one taken), and the task attempts it too for up to `CHAIN_SECONDS`, then
  enqueues it: a backlog flows without a dispatcher or a broker round trip between deliveries.
- Schedule: after the n-th failed attempt the next is `RETRY_DELAYS[n-1]` later (the last delay
  repeats), never later than three days after the delivery was created; an attempt that fails at
  or after that is the last, and the delivery is `failed`.
- Endpoint health: `failing_since` is the first failure after a success, cleared by a success. While
  failing, the endpoint is probed on the same schedule counted from `failing_since` (concurrent
  failures agree on it), and a failure once it has been failing for three days disables it
  (`enabled` false, `disabled_reason`); disabling ends its pending deliveries as `failed`.
- Time: every function takes `now=` (tests run on a fake clock). The `webhook-timestamp` header is the
  wall clock at signing, always: receivers check it against their own clock.

Layout (each module imports only those above it)
- `schedule`: the retry delays, giving up, a failing endpoint's probe times, a claim's lease.
- `sql`: what the statements share: table names, the columns an attempt needs, the row -> delivery.
- `dispatch`: claiming due deliveries within each endpoint's cap, a deliver task for each.
- `attempt`: starting an attempt under a claim, signing, the POST with its hard deadline, the answer.
- `outcomes`: recording delivered (and handing the next delivery on) or failed, disabling an endpoint.
- `deliver`: the deliver task's work: attempt, record, and go on with the delivery handed on.
- `retry`: a person asks to send deliveries again now.
"""

from events.delivery.attempt import delivery_body, delivery_send
from events.delivery.deliver import delivery_deliver
from events.delivery.dispatch import DELIVER_TASK, deliveries_dispatch
from events.delivery.outcomes import endpoint_disable
from events.delivery.retry import deliveries_retry, delivery_retry, endpoints_probe_now

__all__ = [
    "DELIVER_TASK",
    "deliveries_dispatch",
    "deliveries_retry",
    "delivery_body",
    "delivery_deliver",
    "delivery_retry",
    "delivery_send",
    "endpoint_disable",
    "endpoints_probe_now",
]
