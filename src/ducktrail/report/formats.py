"""Alert output formats. Each renders the full list to one string; lists stay lists in JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

Alert = dict[str, Any]


def render_json(alerts: list[str]) -> str:
    """One JSON array of the alerts (each a JSON object's text), an alert per line.

    >>> print(render_json(['{"a":[1]}', '{"a":[]}']))
    [
    {"a":[1]},
    {"a":[]}
    ]
    >>> render_json([])
    '[]'
    """
    if not alerts:
        return "[]"
    return "[\n" + ",\n".join(alerts) + "\n]"


def render_ndjson(alerts: list[str]) -> str:
    """
    >>> render_ndjson(['{"a":1}', '{"a":2}'])
    '{"a":1}\\n{"a":2}'
    """
    return "\n".join(alerts)


def render_csv(alerts: list[str], columns: Sequence[str] = ()) -> str:
    r"""A header of `columns` (and any other key an alert has), then one row per alert; list
    cells hold JSON arrays so nothing is lost or ambiguous. With no alert, the header alone.

    >>> render_csv(['{"id":"r","ips":["1.2.3.4","::1"]}', '{"id":"cr\\rlf"}'])
    'id,ips\nr,"[""1.2.3.4"", ""::1""]"\n"cr\rlf",""'
    >>> render_csv([], ["id", "ips"])
    'id,ips'
    """
    from ducktrail.engine.duckdb_scan import parse_objects

    parsed = parse_objects(alerts)
    header = list(columns)
    for alert in parsed:
        header.extend(key for key in alert if key not in header)
    out = io.StringIO()
    plain = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    # The csv module quotes what holds the delimiter, a quote or a line terminator character;
    # with lines ending in \n a lone \r would go unquoted and split the row for most readers.
    quoted = csv.DictWriter(out, fieldnames=header, lineterminator="\n", quoting=csv.QUOTE_ALL)
    plain.writeheader()
    for alert in parsed:
        row = {key: _csv_cell(value) for key, value in alert.items()}
        (quoted if any(isinstance(value, str) and "\r" in value for value in row.values()) else plain).writerow(row)
    return out.getvalue().rstrip("\n")


def _csv_cell(value: object) -> object:
    """Lists, objects and booleans as JSON writes them (`true`, not Python's `True`), text as is.

    >>> _csv_cell(["café", 1]), _csv_cell(True), _csv_cell("café")
    ('["café", 1]', 'true', 'café')
    """
    if isinstance(value, list | dict | bool):
        return json.dumps(value, ensure_ascii=False)
    return value


# What the terminal table shows, in order: (title, keys stacked in the cell). Keys a rule does
# not produce are left out; every key is in the JSON formats.
TABLE_COLUMNS = (
    ("Principal", ("user_identity_arn",)),
    ("Caller acct\nFunction acct", ("caller_account", "function_account")),
    ("Count", ("invocation_count",)),
    ("First seen\nLast seen", ("first_seen", "last_seen")),
    ("Functions", ("function_arns",)),
    ("Source IPs", ("source_ips",)),
)
# What scan puts before a rule's own columns in every alert, in this order.
RULE_KEYS = ("rule_id", "rule_name", "rule_version", "severity", "risk_score", "mitre_techniques", "upstream_rule_id")


# About a screenful: an alert takes three lines or more. Rich lays a table out at about half a
# millisecond a row, so a hundred rows cost more than the rest of a small scan, and thousands
# would take longer to print than to find. Machine formats always hold every alert.
TABLE_ROWS = 25


def render_table(alerts: list[Alert], *, max_rows: int = TABLE_ROWS) -> str:
    """One table per rule, titled with the rule, sized for a terminal; `max_rows` alerts per
    rule at most (0: all), with a caption saying how many more there are and how to see them."""
    if not alerts:
        return "No alerts."
    from rich.console import Console
    from rich.table import Table

    # Values are text from the logs: no rich markup ([bold]) or emoji codes (:ok:) in them.
    console = Console(
        file=io.StringIO(), width=_terminal_width(), no_color=True, highlight=False, markup=False, emoji=False
    )
    groups: dict[tuple[str, Any], list[Alert]] = {}
    for alert in alerts:
        groups.setdefault((alert.get("rule_id", ""), alert.get("rule_version")), []).append(alert)
    for (rule_id, version), group in groups.items():
        first = group[0]
        count = f"{len(group):,} alert{'s' if len(group) != 1 else ''}"
        title = f"{first.get('rule_name', rule_id)} ({rule_id} v{version}, {first.get('severity', '?')}): {count}"
        known = {key for _, keys in TABLE_COLUMNS for key in keys}
        extra = [(key, (key,)) for key in first if key not in known and key not in RULE_KEYS]
        columns = [(title_, keys) for title_, keys in TABLE_COLUMNS if any(k in first for k in keys)] + extra
        shown = group if max_rows <= 0 else group[:max_rows]
        table = Table(
            title=title,
            title_justify="left",
            caption=_more(len(group) - len(shown)),
            caption_justify="left",
            show_lines=True,
        )
        for heading, _ in columns:
            table.add_column(heading, overflow="fold")
        for alert in shown:
            table.add_row(*("\n".join(_cell(alert.get(k)) for k in keys) for _, keys in columns))
        console.print(table)
    return console.file.getvalue().rstrip("\n")  # type: ignore[attr-defined]


def _more(hidden: int) -> str | None:
    """
    >>> _more(0) is None
    True
    >>> _more(2366)
    '2,366 more alerts not shown: --rows 0 shows all, -f json, ndjson or csv prints every alert'
    """
    if hidden <= 0:
        return None
    noun = "alert" if hidden == 1 else "alerts"
    return f"{hidden:,} more {noun} not shown: --rows 0 shows all, -f json, ndjson or csv prints every alert"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "\n".join(printable(str(v)) for v in value) or "-"
    return printable(str(value))


def printable(text: str) -> str:
    r"""The text with control and format characters (line breaks, bidi overrides) shown as
    escapes: values come from logs an attacker may have shaped, and an escape sequence must not
    reach the terminal. Spaces of any script stay as they are.

    >>> printable("user/\x1b]0;owned\x07name\r\u202e")
    'user/\\x1b]0;owned\\x07name\\r\\u202e'
    >>> printable("ログ\u30002026.json")
    'ログ\u30002026.json'
    >>> printable("caf\udce9.json")  # a file name's byte that is not UTF-8, as Python decodes it
    'caf\\xe9.json'
    """
    if text.isprintable():
        return text
    import unicodedata

    return "".join(
        character if character.isprintable() or unicodedata.category(character) == "Zs" else _escape(character)
        for character in text
    )


def _escape(character: str) -> str:
    if "\udc80" <= character <= "\udcff":  # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{ord(character) - 0xDC00:02x}"
    return repr(character)[1:-1]


def _terminal_width() -> int:
    import shutil

    # Piped output gets a wide table rather than the 80 columns of an unknown terminal.
    return max(shutil.get_terminal_size((200, 24)).columns, 100)


# The formats for tools, every alert: given the alerts and their columns (which CSV's header
# needs when there is no alert). The table, for people, is render_table with its row limit.
FORMATS: dict[str, Callable[[list[str], Sequence[str]], str]] = {
    "json": lambda alerts, columns: render_json(alerts),
    "ndjson": lambda alerts, columns: render_ndjson(alerts),
    "csv": render_csv,
}
