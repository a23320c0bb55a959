"""Escalation: the ladder as rows, the tick that walks it, acks that stop it (SPEC §4).

Modules
- models     `escalation_state` (one row per incident: tier, loop, next_at — the timer) and
             `page_outbox` (every page and channel notice under its unique key).
- service    start (declare), stop (ack / mitigate / resolve), pages by hand, who is on call.
- engine     the tick: loops the passes below until the next fire, waking at due times.
- ladder     pass 1: step due ladders (outbox rows for the next rung, or exhausted).
- breaches   pass 2: notice missed response targets.
- delivery   pass 3: claim due outbox rows, deliver them, record the outcome (exactly once).
- channels   delivering one claimed row: Slack DM / notice, invite, and the ContactsPort
             (SMS, e-mail, webhook; bot.contacts implements it, bot.app wires it).
- passes     what the passes share: batch size, PassReport, timeline rows, the write lock.
- targets    user ids as they are, user groups via usergroups.users.list, rotation:<name>.
- rotations  who is on call at a moment; handoffs at local wall-clock time across DST.
- messages   timeline texts, channel notices, SMS / e-mail / webhook bodies.
- outbox     INSERT … ON CONFLICT DO NOTHING for outbox rows and timeline events.

Decisions (where SPEC §4 is silent)
- Timeouts count from when a tier was actually paged: `next_at = max(due, now) + timeout`. After
  an outage the overdue tier is paged once, at once, and the next tier still gets its full timeout
  (the alternative pages every overdue tier in the same second).
- The ladder (which named policy, its tiers, its rotations) is fixed at declare from the policy
  snapshot; a severity change or a YAML edit does not move a running ladder. Contacts (phone,
  e-mail, webhook) and the AWS account are read from the live policy: they are addresses, not rules.
- User groups are expanded when their tier falls due (membership is live); a group Slack cannot list
  is retried for a minute (2 s apart), then reported on the timeline and skipped.
- A tier whose targets resolve to nobody is recorded on the timeline and its timeout still runs.
- After the last tier of the last loop times out, escalation is exhausted: one channel notice and
  a timeline event; nothing pages again unless someone pages by hand.
- Ack, mitigate and resolve stop the ladder; reopen does not restart it (reopen acknowledges).
- A page waits up to 15 s for the war-room channel to exist so it can link and invite; a declare
  whose channel failed pages without them.
- Response target: an incident still `declared` (never acknowledged) at `response_due_at` gets
  one channel notice and one timeline event, dated at the deadline.

Exactly once
- Every page is a `page_outbox` row whose key (incident, loop, tier, target) is unique and written
  before any provider is called. Pages by hand use tier -1 and a per-incident sequence as loop.
- Claiming takes due rows FOR UPDATE SKIP LOCKED and, in the same transaction, share-locks the
  incident's ladder row and re-reads `active`: an ack that committed first cancels the page; an ack
  that commits after the claim came after the page left. The ack does not wait for Slack.
- A delivered Slack DM is written back at once (queued to one writer per process that commits many
  pages at a time: `progress`); a row whose process died while sending is taken again after a
  2-minute lease and only its undelivered channels are retried. The one window left is a crash
  between Slack's "ok" and that write (milliseconds): that page may be sent twice — for a pager,
  a duplicate is the lesser evil than a lost page.
- Failed deliveries go back to 'pending' with backoff (2, 4, 8 … 60 s, 8 attempts); Slack answers
  that cannot change (user_not_found, …) fail at once. Each attempt is a timeline event.

Time
- APScheduler runs `engine.tick` every `WARROOM_TICK_SECONDS` (≤ 1 s) with misfire_grace_time=None,
  coalesce and max_instances=1. Within a tick the engine sleeps until the earliest due time in the
  database (or a local nudge after a declare / hand page), so pages leave within milliseconds of
  due; other replicas see new work within one tick. bench/escalation_lateness.py measures it.
"""
