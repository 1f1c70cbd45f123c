"""Whatever bytes a file holds, a scan either reads it or reports it as bad input: never another
exception (which the CLI would have to turn into a traceback)."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ducktrail.errors import InputError
from tests.support import scan_paths

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "eventVersion": json_values,
        "eventSource": st.sampled_from(["lambda.amazonaws.com", "s3.amazonaws.com"]) | json_values,
        "eventName": st.sampled_from(["Invoke", "GetObject"]) | json_values,
        "userIdentity": json_values,
        "requestParameters": json_values,
        "resources": json_values,
        "sourceIPAddress": json_values,
        "eventTime": json_values,
    },
)
documents = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(event_like, max_size=5).map(lambda rs: json.dumps({"Records": rs}).encode()),
    st.lists(event_like, min_size=1, max_size=5).map(lambda rs: "\n".join(json.dumps(r) for r in rs).encode()),
)


@given(documents, st.booleans())
def test_any_file_is_read_or_reported_as_bad_input(data, compressed):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("x.json.gz" if compressed else "x.json")
        path.write_bytes(gzip.compress(data, mtime=0) if compressed else data)
        try:
            report = scan_paths(path)
        except InputError as error:
            assert error.path == str(path) and error.message
        else:
            assert report.files_read + len(report.skipped_files) == 1
