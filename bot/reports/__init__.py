"""Reports (SPEC §12): how the team responds — figures per severity against targets, in md, csv and a PNG.

Decisions
- Drills never count: every query here filters `is_drill`.
- The window is by declaration time: an incident belongs to the period it was declared in.
- Time to acknowledge / mitigate / resolve count from the declaration. An incident mitigated or
  resolved without an explicit ack was acknowledged then (the domain records it so).
- Median and p90 are nearest-rank over the incidents that reached the step (p90 of 10 values is the
  9th smallest): an actual incident's figure, never an interpolation between two.
- Targets: acknowledge against the severity's `response` target (SPEC §2); "targets missed" lists
  incidents acknowledged late or never acknowledged by their deadline, with a link to their room.
- Overdue reviews: resolved incidents whose review deadline (the postmortem timer row) has passed
  without `/incident review done`. Open action items: every item not done, by owner, whatever the window.
- The weekly post goes to `announce_channel` at `reports.weekly_at` in `reports.timezone` (default
  Monday 09:00 UTC, wall-clock across DST) for the seven days before; the week's row (unique key)
  is claimed once across replicas, posted with no transaction open and recorded posted afterwards
  if the claim is still ours (`posts`: the same steps for drill reports), so a slow Slack holds no
  database lock.
"""
