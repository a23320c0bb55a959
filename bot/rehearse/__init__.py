"""Rehearsal (SPEC §12): play a declaration's escalation ladder on a fake clock and say who is paged when.

Pure simulation over the real escalation code: the ladder is chosen by `escalation.service`
(`ladder_name`, `ladder`), stepped by `escalation.ladder.plan`, each rung's targets resolved by
`escalation.targets.resolve_one` (rotations through `escalation.rotations.shift_at`, so hand-offs
and DST changes are exactly what production will do). Nothing is sent and no database is touched.

Decisions
- Timeouts count from when a tier is paged, as in production (no outage in a rehearsal, so
  `next_at = paged_at + timeout`). An ack at the very moment a tier falls due wins (the ack commits
  first), as the claim re-reads the ladder under lock in production.
- User groups (S…) cannot be listed without Slack: they are shown as the group, whose members Slack
  names when the tier is paged, and count as someone.
- A tier that resolves to nobody (no targets, an unknown rotation) makes the rehearsal fail: exit 1
  with the reason, since in production that rung would page nobody and still wait out its timeout.
"""
