"""The guide's response steps (应急响应步骤), as the checklist posted in every war room."""

from __future__ import annotations

RESPONSE_STEPS: tuple[str, ...] = (
    "Confirm the incident (2 min) — verify the alert, confirm user reports, assess impact · 故障确认",
    "Start the response (3 min) — notify people, open the war room, start the record · 启动应急",
    "Stop the loss (10 min) — degrade, switch traffic, roll back · 快速止损",
    "Find the root cause — logs, code review, infrastructure checks · 根因分析",
    "Fix and verify (30 min) — deploy the fix, test, confirm on monitoring · 修复验证",
    "Review within 3 days — root cause report, improvements, prevention · 故障总结",
)
