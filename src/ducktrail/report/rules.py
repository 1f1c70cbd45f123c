"""How rules read in a terminal (`list`, `show`) and as JSON."""

from __future__ import annotations

import json
import textwrap

from ducktrail.pack.loader import Pack
from ducktrail.pack.rules import Rule


def rules_table(pack: Pack) -> str:
    rows = [("ID", "VERSION", "SEVERITY", "RISK", "NAME")]
    for rule in pack.rules:
        released = "" if pack.is_released(rule, rule.version) else " (draft)"
        rows.append((rule.id, f"{rule.version}{released}", rule.severity, str(rule.risk_score), rule.name))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    )


def rules_json(pack: Pack) -> str:
    return json.dumps([rule_summary(pack, rule) for rule in pack.rules], indent=2)


def rule_summary(pack: Pack, rule: Rule) -> dict[str, object]:
    return {
        "id": rule.id,
        "name": rule.name,
        "version": rule.version,
        "released_versions": sorted(int(v) for v in pack.lock.get(rule.id, {})),
        "severity": rule.severity,
        "risk_score": rule.risk_score,
        "tactic": rule.tactic.id,
        "techniques": [t.id for t in rule.techniques],
        "upstream_rule_id": rule.upstream.rule_id if rule.upstream else None,
    }


def rule_text(pack: Pack, rule: Rule, version: int | None = None) -> str:
    chosen = rule.sql(version)
    state = "released" if pack.is_released(rule, chosen.number) else "draft, not in the lock file"
    techniques = ", ".join(f"{t.id} {t.name}" for t in rule.techniques)
    lines = [
        f"{rule.name}",
        f"id: {rule.id}    version: {chosen.number} ({state})",
        f"severity: {rule.severity}    risk score: {rule.risk_score}",
        f"MITRE ATT&CK: {rule.tactic.id} {rule.tactic.name} / {techniques}",
    ]
    if rule.upstream:
        up = rule.upstream
        lines.append(f"upstream: {up.source} {up.rule_id} (version {up.version}, {up.name!r})")
    lines += ["", "Description", _block(rule.description), "", "Setup", _block(rule.setup), "", "False positives"]
    lines += [
        textwrap.fill(fp, width=96, initial_indent="  - ", subsequent_indent="    ") for fp in rule.false_positives
    ]
    lines += ["", "Triage", _block(rule.triage), "", "References"]
    lines += [f"  {ref}" for ref in rule.references]
    lines += ["", f"SQL ({chosen.path.name}, {chosen.sha256})", chosen.sql.rstrip()]
    return "\n".join(lines)


def _block(text: str) -> str:
    return textwrap.indent(text.strip(), "  ")
