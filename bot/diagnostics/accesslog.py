"""Access logs, the guide's security section (异常访问检测): `/diag docker suspicious <container>` (docker_access) and
`/diag k8s suspicious <pod|deployment/name>` (k8s.suspicious).

Reads nginx "combined" lines (`ip - user [time] "GET /path HTTP/1.1" status size "ref" "ua"`) and ALB
lines (`http time elb client:port target:port … elb_status target_status … "GET url HTTP/1.1" …`),
skipping anything else, and reports what the guide's three greps would have shown:
requests and 4xx/5xx per client IP with the top talkers (检查异常IP访问), probe requests for admin
pages, config files and scripts (检查可疑请求), and injection attempts — SQL keywords, path traversal,
script tags (SQL注入尝试检测) — with counts, examples masked and cut short. The fix offered is
`/remediate aws block-ip <ip>`.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import unquote_plus

from bot.diagnostics.base import (
    Report,
    clean_line,
    format_table,
)
from bot.i18n import N_, _

_COMBINED = re.compile(r'^(?P<ip>[0-9a-fA-F:.]+) \S+ \S+ \[[^\]]*\] "(?P<request>[^"]*)" (?P<status>\d{3}) ')
_ALB = re.compile(
    r'^\S+ \S+ \S+ (?P<ip>[0-9a-fA-F:.]+):\d+ \S+ \S+ \S+ \S+ (?P<status>\d{3}|-) \S+ \d+ \d+ "(?P<request>[^"]*)"'
)
PATTERNS: dict[str, re.Pattern[str]] = {
    "sql injection": re.compile(r"union(\s|\+|/\*.*?\*/)+(all\s+)?select|'\s*or\s+'?\d+'?\s*=\s*'?\d|sleep\(\d|benchmark\(|"
                                r"information_schema|;\s*drop\s+table|\bselect\b.+\bfrom\b", re.I),
    "path traversal": re.compile(r"\.\./|\.\.\\|/etc/passwd|%2e%2e", re.I),
    "script injection": re.compile(r"<script|javascript:|onerror=", re.I),
    "probe": re.compile(r"/(wp-|admin|phpmyadmin|config|\.env|\.git|actuator|cgi-bin)|\.(php|asp|aspx|jsp)\b", re.I),
}  # fmt: skip
TOP = 10
DEFAULT_TAIL = 1000  # an access log's last thousand requests
SUSPICIOUS_SHARE = 0.5  # one IP with half of all requests, or of the errors, is worth a look
# The pattern names as people read them (the keys above stay the data's, in English).
_PATTERN_LABELS = {
    "sql injection": N_("sql injection"),
    "path traversal": N_("path traversal"),
    "script injection": N_("script injection"),
    "probe": N_("probe"),
}


def parse(line: str) -> tuple[str, int | None, str] | None:
    """(client ip, status, request line) of a combined or ALB line, None for any other line."""
    match = _COMBINED.match(line) or _ALB.match(line)
    if match is None:
        return None
    status = match.group("status")
    return match.group("ip"), int(status) if status.isdigit() else None, match.group("request")


def analyze(lines: list[str], where: str) -> Report:
    per_ip: dict[str, Counter[str]] = {}
    hits: Counter[str] = Counter()
    examples: dict[str, str] = {}
    by_ip_pattern: Counter[tuple[str, str]] = Counter()
    parsed = 0
    for line in lines:
        entry = parse(line)
        if entry is None:
            continue
        parsed += 1
        ip, status, request = entry
        counts = per_ip.setdefault(ip, Counter())
        counts["requests"] += 1
        if status is not None and 400 <= status < 500:
            counts["4xx"] += 1
        elif status is not None and status >= 500:
            counts["5xx"] += 1
        decoded = unquote_plus(request)
        for name, pattern in PATTERNS.items():
            if pattern.search(decoded) or pattern.search(request):
                hits[name] += 1
                by_ip_pattern[(ip, name)] += 1
                examples.setdefault(name, clean_line(request, 120))
    report = Report()
    if not parsed:
        report.ok(
            _(
                "{where}: no access-log lines (nginx combined or ALB format) among the last {n} lines",
                where=where,
                n=len(lines),
            )
        )
        report.data = {"lines": len(lines), "parsed": 0}
        return report
    talkers = sorted(per_ip.items(), key=lambda kv: (-kv[1]["requests"], kv[0]))
    errors = sum(c["4xx"] + c["5xx"] for c in per_ip.values())
    top_ip, top = talkers[0]
    share = top["requests"] / parsed
    summary = _(
        "{where}: {parsed} requests from {ips} IPs, {errors} 4xx/5xx; top talker {top_ip} ({top}, {share})",
        where=where,
        parsed=parsed,
        ips=len(per_ip),
        errors=errors,
        top_ip=top_ip,
        top=top["requests"],
        share=f"{share:.0%}",
    )
    if share >= SUSPICIOUS_SHARE and len(per_ip) > 1:
        report.warn(summary, _("if {ip} is not a known client: /remediate aws block-ip {ip}", ip=top_ip))
    else:
        report.ok(summary)
    for name, count in hits.most_common():
        ips = sorted({ip for (ip, n) in by_ip_pattern if n == name})
        report.warn(
            _(
                "{count} {kind} request(s) from {ips} — e.g. `{example}`",
                count=count,
                kind=_(_PATTERN_LABELS[name]),
                ips=", ".join(ips[:5]) + (" …" if len(ips) > 5 else ""),
                example=examples[name],
            ),
            _(
                "block the source: /remediate aws block-ip {ip}; check the application's input handling",
                ip=ips[0],
            ),
        )
    rows = [[ip, c["requests"], c["4xx"], c["5xx"], sum(n for (i, _p), n in by_ip_pattern.items() if i == ip)]
            for ip, c in talkers[:TOP]]  # fmt: skip
    report.detail = (
        format_table(["client ip", "requests", "4xx", "5xx", "suspicious"], rows)
        + "\n\n"
        + "\n".join(f"{name}: {hits.get(name, 0)}" for name in PATTERNS)
    )
    report.data = {
        "lines": len(lines), "parsed": parsed, "ips": len(per_ip),
        "per_ip": {ip: dict(c) for ip, c in talkers[:TOP]},
        "patterns": dict(hits),
    }  # fmt: skip
    return report
