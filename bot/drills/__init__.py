"""Drills (SPEC §12): practice incidents run for real, flagged `is_drill`, reported on resolve.

Decisions
- A drill is an ordinary incident row with `is_drill` set: the same ladder, clock, checklist and
  pages, so what is rehearsed is what will run. The flag changes only the room name
  (`drill-<yyyymmdd>-<n>-<slug>`), the handle (`DRILL INC-7` / `演练 INC-7`, hence every medium that
  shows it — DM, SMS, e-mail, webhook, summary, notices — says so; the webhook also carries
  `"drill": true`), and what counts: drills are left out of /metrics, reports and response-target
  figures, and `/incident list` shows them apart (`/incident list drills`).
- The drill report is posted in the room once per resolve, as a durable post (`report_posts` row
  keyed by incident and resolve time; see `flows`): a Slack failure is retried, a crash before the
  resolve hook is repaired by the tick, two replicas post it once. A resolve after a reopen gets a
  fresh report.
"""
