"""Property tests: the source adapter's macro ducktrail_ip_address keeps a string exactly when
Python's ipaddress.ip_address accepts it, and alerts' source_ips hold only such strings."""

from __future__ import annotations

import ipaddress
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ducktrail.sqlfiles import source_adapter_path
from tests.support import FIXTURES, RULE_ID, invoke, rule_columns, scan_paths, write_ndjson

NEAR_MISS_ALPHABET = "0123456789abcdefABCDEF:.%x "
# No '/' in zone ids: Python rejects a '/' anywhere in an address (it reserves it for networks),
# whereas the macro, like Elasticsearch, accepts any zone id; CloudTrail has none anyway.
ZONE_CHARS = string.ascii_letters + string.digits + ".-_"
# Scaled from the profile, so HYPOTHESIS_PROFILE=explore searches harder here too: a macro example
# is one cheap query and affords several times the profile's count, an end-to-end one is a scan.
PROFILE_EXAMPLES = settings.default.max_examples


def python_accepts(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def adapter() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    # The adapter's view binds read_json when it is created, so the variable must name a real file.
    any_events_file = FIXTURES / "cases" / "cross_account_invoke_alerts" / "events.json"
    con.execute("SET VARIABLE ducktrail_files = ?", [str(any_events_file)])
    con.execute(source_adapter_path().read_text(encoding="utf-8"))
    yield con
    con.close()


def macro_results(con: duckdb.DuckDBPyConnection, texts: list[str]) -> dict[str, str | None]:
    rows = con.execute("SELECT s, ducktrail_ip_address(s) FROM unnest(?::VARCHAR[]) AS t(s)", [texts]).fetchall()
    assert len(rows) == len(texts)
    return dict(rows)


def weighted(*choices: tuple[int, st.SearchStrategy[str]]) -> st.SearchStrategy[str]:
    """Draw from the strategies in proportion to their weights (st.one_of does not weight)."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


@st.composite
def hextet_texts(draw: st.DrawFn, value: int) -> str:
    """A 16-bit group as a writer may spell it: any zero padding up to 4 digits, any case."""
    digits = f"{value:x}"
    width = draw(st.integers(len(digits), 4))
    spelled = digits.rjust(width, "0")
    return "".join(c.upper() if draw(st.booleans()) else c for c in spelled)


zones = st.one_of(st.just(""), st.text(ZONE_CHARS, min_size=1, max_size=8).map(lambda z: "%" + z))


@st.composite
def ipv6_texts(draw: st.DrawFn) -> str:
    """A valid IPv6 text: 8 groups, or 6 and a dotted IPv4 tail, with at most one run of
    at least one group replaced by '::' (the values need not be zero: only syntax is at stake)."""
    address = int(draw(st.ip_addresses(v=6)))
    ipv4_tail = draw(st.booleans())
    count = 6 if ipv4_tail else 8
    groups = [draw(hextet_texts((address >> (16 * (7 - i))) & 0xFFFF)) for i in range(count)]
    tail = [str(ipaddress.IPv4Address(address & 0xFFFFFFFF))] if ipv4_tail else []
    if draw(st.booleans()):
        start = draw(st.integers(0, count - 1))
        end = draw(st.integers(start + 1, count))
        text = ":".join(groups[:start]) + "::" + ":".join(groups[end:] + tail)
    else:
        text = ":".join(groups + tail)
    return text + draw(zones)


@st.composite
def ipv6_shaped_texts(draw: st.DrawFn) -> str:
    """IPv6-like texts whose group count (an IPv4 tail counts two) is drawn mostly around the
    limits, 7 with '::' and 8 without, so that most are one group off and some are valid."""
    total = draw(weighted((1, st.integers(0, 6)), (3, st.sampled_from([7, 8, 9]))))
    tail = [str(draw(st.ip_addresses(v=4)))] if total >= 2 and draw(st.booleans()) else []
    groups = [draw(hextet_texts(draw(st.integers(0, 0xFFFF)))) for _ in range(total - 2 * len(tail))]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(groups)))
        text = ":".join(groups[:at]) + "::" + ":".join(groups[at:] + tail)
    else:
        text = ":".join(groups + tail)
    return text + draw(zones)


valid_addresses = weighted(
    (1, st.ip_addresses(v=4).map(str)),
    (1, st.ip_addresses(v=6).map(str)),
    (1, st.ip_addresses(v=6).map(lambda a: a.exploded)),
    (1, st.ip_addresses(v=6).map(str).flatmap(lambda a: zones.map(lambda z: a + z))),
    (4, ipv6_texts()),
)

octet_texts = weighted(
    (4, st.integers(0, 255).map(str)),
    (1, st.integers(0, 99).map(lambda n: "0" + str(n))),
    (1, st.integers(256, 999).map(str)),
    (1, st.sampled_from(["", "00", "000", "0000", "1000", "4294967295", "-1", "+1", "1e2", "0x1"])),
)
dotted_quads = weighted(
    (4, st.lists(octet_texts, min_size=4, max_size=4)),
    (1, st.lists(octet_texts, min_size=3, max_size=5)),
).map(".".join)

ipv6_heads = st.sampled_from(["::", "::ffff:", "1:2:3:4:5:6:", "a::b:", "1:2:3:4:5:6:7:"])


@st.composite
def edited(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A valid address with one small typo: a character dropped, doubled, replaced or added."""
    text = draw(base)
    at = draw(st.integers(0, len(text)))
    char = draw(st.sampled_from(NEAR_MISS_ALPHABET))
    edit = draw(st.sampled_from(["drop", "double", "replace", "insert"]))
    if edit == "drop":
        return text[:at] + text[at + 1 :]
    if edit == "double":
        return text[:at] + text[at : at + 1] * 2 + text[at + 1 :]
    if edit == "replace":
        return text[:at] + char + text[at + 1 :]
    return text[:at] + char + text[at:]


near_misses = weighted(
    (2, st.text(NEAR_MISS_ALPHABET, max_size=45)),
    (2, dotted_quads),
    # IPv4 tails of IPv6 addresses with the same bad octets.
    (1, st.tuples(ipv6_heads, dotted_quads).map("".join)),
    (3, edited(valid_addresses)),
    (3, ipv6_shaped_texts()),
)

candidates = weighted((1, valid_addresses), (2, near_misses))


@settings(max_examples=3 * PROFILE_EXAMPLES)
@given(texts=st.lists(candidates, min_size=1, max_size=40, unique=True))
@example(texts=["1.2.3.4", "01.2.3.4", "1.2.3.04", "256.1.1.1", "1.2.3", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 "])
@example(texts=["::", "::1", "1::", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4::5:6:7:8", "1:2:3:4:5:6:7:8:9"])
@example(texts=["::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.04", "1.2.3.4::"])
@example(texts=["fe80::1%eth0", "fe80::1%", "fe80::1%a%b", "1.2.3.4%eth0", "::ffff:1.2.3.4%1", "FE80::ABCD", "12345::"])
@example(texts=["", "x", ":", ":::", "1:::2", "::1::", "0:0:0:0:0:0:0:0", "00000::1"])
def test_ip_macro_keeps_exactly_what_python_ipaddress_accepts(adapter, texts):
    assert macro_results(adapter, texts) == {t: (t if python_accepts(t) else None) for t in texts}


@settings(max_examples=2 * PROFILE_EXAMPLES)
@given(texts=st.lists(ipv6_shaped_texts(), min_size=1, max_size=40, unique=True))
@example(texts=["1:2:3:4:5::6:1.2.3.4", "1:2:3:4::5:1.2.3.4", "::1:2:3:4:5:6:1.2.3.4", "1::2:3:4:5:6:7:8"])
def test_ip_macro_agrees_with_python_on_ipv6_group_counts_at_the_limits(adapter, texts):
    assert macro_results(adapter, texts) == {t: (t if python_accepts(t) else None) for t in texts}


@settings(max_examples=3 * PROFILE_EXAMPLES // 2)
@given(texts=st.lists(valid_addresses, min_size=1, max_size=40, unique=True))
def test_ip_macro_keeps_every_valid_spelling_of_an_address(adapter, texts):
    # The generator must only spell valid addresses, or the test above would lose its positives.
    assert all(python_accepts(t) for t in texts)
    assert macro_results(adapter, texts) == {t: t for t in texts}


def test_ip_macro_maps_null_to_null(adapter):
    assert adapter.execute("SELECT ducktrail_ip_address(NULL::VARCHAR)").fetchone() == (None,)


source_ip_values = weighted(
    (2, valid_addresses),
    (2, near_misses),
    (1, st.sampled_from(["lambda.amazonaws.com", "AWS Internal", "apigateway.amazonaws.com", "-", "none", ""])),
)


@settings(max_examples=PROFILE_EXAMPLES // 3)
@given(ips=st.lists(source_ip_values, min_size=1, max_size=20))
@example(ips=["203.0.113.7", "2001:db8::1", "lambda.amazonaws.com", "AWS Internal", "203.0.113.999", "203.0.113.7"])
def test_alert_source_ips_are_the_distinct_values_that_are_ip_addresses(ips):
    events = [
        invoke(ip=ip, event_id=f"e-{i}", time=f"2026-11-01T01:{i // 60:02d}:{i % 60:02d}Z") for i, ip in enumerate(ips)
    ]
    with tempfile.TemporaryDirectory() as folder:
        report = scan_paths(write_ndjson(Path(folder) / "events.ndjson", events), rule_names=[RULE_ID])
    alerts = rule_columns(report.alerts)
    assert [a["invocation_count"] for a in alerts] == [len(ips)]
    assert alerts[0]["source_ips"] == sorted({ip for ip in ips if python_accepts(ip)})
