-- ducktrail rule aws-lambda-function-invoked-cross-account version 2 (sha256:69f65e5b0b5d...), for duckdb, source cloudtrail; written by sqlglot 30.31.0 from v2.sql.
-- ducktrail source adapter: CloudTrail JSON files -> cloudtrail_events (DuckDB)
--
-- Input: the DuckDB variable ducktrail_files, a path, glob or list of them, e.g.
--   SET VARIABLE ducktrail_files = 'AWSLogs/**/CloudTrail/*/*/*/*/*.json.gz';
-- (trails of single accounts, AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/, and
-- organization trails, AWSLogs/<org-id>/<account>/CloudTrail/...).
-- Each file may hold {"Records": [event, ...]} objects (the S3 delivery shape, pretty-printed
-- or not) or one event object per line (CloudTrail Lake, Firehose and CloudWatch Logs exports);
-- .gz files are decompressed. Point the variable at CloudTrail/ folders only: the sibling
-- CloudTrail-Digest/, CloudTrail-Insight/ and CloudTrail-NetworkActivity/ folders hold other shapes.
--
-- Output: the view cloudtrail_events, one row per event, columns documented in README.md.
-- Rules read only that view. Values are shaped as Elastic's CloudTrail ingest pipeline shapes
-- them for the rules we port: empty text ('', '-', 'none') is NULL, as is a requestParameters of
-- null, {} or [], and source_ip holds sourceIPAddress only when it is an IPv4 or IPv6 address.
-- (An object where CloudTrail writes text is read as its JSON text: README, "Shapes CloudTrail
-- does not write".)
-- A JSON object in a file that is not a CloudTrail event comes out as a row whose event
-- columns are all NULL, so that it can be counted and reported rather than lost.

-- cloudtrail_json_value (below) names cloudtrail_record, and DuckDB cannot replace a type
-- another uses: dropped first, so that this file can be run again in the same session.
DROP TYPE IF EXISTS cloudtrail_json_value;

-- The fields of one CloudTrail record that ducktrail reads. An explicit schema: auto-detection
-- would sample the files, cost seconds on large trees and guess types differently per tree.
-- Only what rules and triage need: every field read costs scan time on every event.
CREATE OR REPLACE TYPE cloudtrail_record AS STRUCT(
    eventVersion VARCHAR,
    eventTime VARCHAR,
    eventSource VARCHAR,
    eventName VARCHAR,
    awsRegion VARCHAR,
    sourceIPAddress VARCHAR,
    errorCode VARCHAR,
    errorMessage VARCHAR,
    userIdentity STRUCT(
        "type" VARCHAR,
        arn VARCHAR,
        accountId VARCHAR,
        invokedBy VARCHAR
    ),
    requestParameters JSON,
    resources STRUCT("ARN" VARCHAR, accountId VARCHAR, "type" VARCHAR)[],
    eventID VARCHAR,
    sharedEventID VARCHAR,
    recipientAccountId VARCHAR
);

-- One top-level JSON value of a file: either a {"Records": [...]} container or, in NDJSON
-- exports, an event itself. The event fields are listed again here (not only in
-- cloudtrail_record) so that both shapes are parsed in a single pass over the files.
CREATE OR REPLACE TYPE cloudtrail_json_value AS STRUCT(
    "Records" cloudtrail_record[],
    eventVersion VARCHAR,
    eventTime VARCHAR,
    eventSource VARCHAR,
    eventName VARCHAR,
    awsRegion VARCHAR,
    sourceIPAddress VARCHAR,
    errorCode VARCHAR,
    errorMessage VARCHAR,
    userIdentity STRUCT(
        "type" VARCHAR,
        arn VARCHAR,
        accountId VARCHAR,
        invokedBy VARCHAR
    ),
    requestParameters JSON,
    resources STRUCT("ARN" VARCHAR, accountId VARCHAR, "type" VARCHAR)[],
    eventID VARCHAR,
    sharedEventID VARCHAR,
    recipientAccountId VARCHAR
);

-- Elastic's pipeline drops null and empty values everywhere in a record before any rule sees
-- it; its newest versions also drop the placeholder strings '-' and 'none'.
CREATE OR REPLACE MACRO ducktrail_present(value) AS
    CASE WHEN value IN ('', '-', 'none') THEN NULL ELSE value END;

-- Elastic sets source.ip only when sourceIPAddress is an IP address; service names such as
-- 'lambda.amazonaws.com' or 'AWS Internal' stay out of it. Built-in regexes, not the inet
-- extension, which DuckDB would have to download. Octets with leading zeros are rejected,
-- as Elasticsearch's ip field and Python's ipaddress reject them.
CREATE OR REPLACE MACRO ducktrail_ip_address(value) AS
    CASE
        WHEN regexp_full_match(value, '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}') THEN value
        WHEN contains(value, ':') AND regexp_full_match(value, '(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){6}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::(?:(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})?|::(?:[0-9A-Fa-f]{1,4}:){0,5}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})?|[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,4}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,4}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,3}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,2}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,2}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,1}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,1}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,0}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){5}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){6}[0-9A-Fa-f]{1,4}::)(?:%[^%]+)?') THEN value
    END;

-- A record that is not a CloudTrail event: none of eventVersion, eventSource, eventName, eventID.
CREATE OR REPLACE MACRO ducktrail_not_event(record) AS
    ducktrail_present(record.eventVersion) IS NULL AND ducktrail_present(record.eventSource) IS NULL
    AND ducktrail_present(record.eventName) IS NULL AND ducktrail_present(record.eventID) IS NULL;

-- Called once per top-level JSON value read (a whole {"Records": [...]} file, or one NDJSON line)
-- with how many records it holds, how many of those are not CloudTrail events, and how many
-- events have no readable eventTime (which a time window leaves out). Here it does nothing, and
-- the optimizer drops it with its arguments; `ducktrail scan` redefines it to count what each
-- file held while the rules read the files (src/ducktrail/engine/read_counter.py), and takes the
-- last count, which parses every event's time, only when it scans a time window.
CREATE OR REPLACE MACRO ducktrail_value_read(source_file, records, unrecognized, untimed) AS true;

-- eventTime as a UTC TIMESTAMP. CloudTrail writes 2026-11-01T10:00:00Z, with or without a fraction
-- of a second, and that form is tried first. Events re-exported by other tools may carry an
-- offset (+01:00, +0100, +01), no zone at all (read as UTC), a space for the T, or nanoseconds
-- (cut to microseconds); each is read as the instant it names. Anything else is NULL. An offset
-- goes through TIMESTAMPTZ and back by epoch, so that the session's TimeZone setting never shifts
-- a time.
CREATE OR REPLACE MACRO ducktrail_event_time(value) AS coalesce(
    try_strptime(value, ['%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%dT%H:%M:%S.%fZ']),
    CASE
        WHEN NOT regexp_full_match(value, '\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.]\d+)?(?:Z|[+-]\d\d(?::?\d\d)?)?') THEN NULL
        WHEN regexp_matches(value, '(?:Z|[+-]\d\d(?::?\d\d)?)$') THEN make_timestamp(epoch_us(try_cast(value AS TIMESTAMPTZ)))
        ELSE try_cast(value AS TIMESTAMP)
    END
);

-- The same for JSON values: null, {}, [] and the empty strings carry nothing.
CREATE OR REPLACE MACRO ducktrail_present_json(value) AS
    CASE WHEN value::VARCHAR IN ('null', '{}', '[]', '""', '"-"', '"none"') THEN NULL ELSE value END;

CREATE OR REPLACE VIEW cloudtrail_events AS
WITH json_values AS (
    -- The cast fills in as NULL any field the read left out (see ducktrail_read_type below).
    SELECT filename AS source_file, value::cloudtrail_json_value AS value
    FROM read_json(
        coalesce(
            getvariable('ducktrail_files'),
            error('no files to read: ducktrail_files is not set, or NULL (a glob() that matched no file?); SET VARIABLE ducktrail_files = ''AWSLogs/**/CloudTrail/*/*/*/*/*.json.gz'' (a path, glob or list of them) first')
        ),
        -- Every field costs time on every event. SET VARIABLE ducktrail_read_type to a narrower
        -- STRUCT, cloudtrail_json_value without some fields, and the read skips them; their
        -- columns are NULL. `ducktrail scan` reads only the fields its rules use.
        columns = {'value': coalesce(getvariable('ducktrail_read_type'), 'cloudtrail_json_value')},
        records = false,
        -- 'unstructured' accepts a whole-file object, pretty-printed or not, and NDJSON alike.
        -- When every file holds one JSON value per line, as S3 deliveries (one line per file) and
        -- exports do, SET VARIABLE ducktrail_json_format = 'newline_delimited' reads about a
        -- quarter faster; `ducktrail scan` does so itself.
        format = coalesce(getvariable('ducktrail_json_format'), 'unstructured'),
        filename = true,
        -- AWS caps a delivered file (one JSON object) at about 50 MB uncompressed; DuckDB's
        -- default limit is 16 MB. DuckDB reserves twice this per read buffer, so it stays modest.
        maximum_object_size = coalesce(getvariable('ducktrail_maximum_object_size'), 67108864)
    )
),
records AS (
    -- The read hook sits below the UNNEST, where no filter of a rule on the events can be pushed
    -- past it, so it sees every value read.
    SELECT source_file, unnest(value_records) AS r
    FROM (
        SELECT
            source_file,
            -- CASE rather than coalesce, which copies every file's whole list of records (~8% slower).
            CASE WHEN value."Records" IS NULL THEN [value::cloudtrail_record] ELSE value."Records" END AS value_records
        FROM json_values
    )
    WHERE ducktrail_value_read(
        source_file,
        len(value_records),
        len(list_filter(value_records, lambda e: ducktrail_not_event(e))),
        len(list_filter(value_records, lambda e: NOT ducktrail_not_event(e) AND ducktrail_event_time(e.eventTime) IS NULL))
    )
),
resource_lists AS (
    SELECT
        *,
        [{'arn': ducktrail_present(x."ARN"), 'account_id': ducktrail_present(x.accountId), 'type': ducktrail_present(x."type")}
         FOR x IN r.resources] AS entries
    FROM records
)
SELECT
    source_file,
    ducktrail_event_time(r.eventTime) AS event_time,
    ducktrail_present(r.eventVersion) AS event_version,
    ducktrail_present(r.eventSource) AS event_source,
    ducktrail_present(r.eventName) AS event_name,
    ducktrail_present(r.awsRegion) AS aws_region,
    ducktrail_present(r.sourceIPAddress) AS source_ip_address,
    ducktrail_ip_address(ducktrail_present(r.sourceIPAddress)) AS source_ip,
    ducktrail_present(r.errorCode) AS error_code,
    ducktrail_present(r.errorMessage) AS error_message,
    ducktrail_present(r.userIdentity."type") AS user_identity_type,
    ducktrail_present(r.userIdentity.arn) AS user_identity_arn,
    ducktrail_present(r.userIdentity.accountId) AS user_identity_account_id,
    ducktrail_present(r.userIdentity.invokedBy) AS user_identity_invoked_by,
    ducktrail_present_json(r.requestParameters) AS request_parameters,
    nullif(list_filter(entries, lambda x: x.arn IS NOT NULL OR x.account_id IS NOT NULL OR x."type" IS NOT NULL), [])
        AS resources,
    -- list_distinct also drops the NULLs.
    nullif(list_distinct([ducktrail_present(x."ARN") FOR x IN r.resources]), []) AS resource_arns,
    ducktrail_present(r.eventID) AS event_id,
    ducktrail_present(r.sharedEventID) AS shared_event_id,
    ducktrail_present(r.recipientAccountId) AS recipient_account_id
FROM resource_lists;

/* ducktrail rule aws-lambda-function-invoked-cross-account, version 2 (released: locked in */
/* sql/rules/rules.lock.json; a change is a new file, v3.sql). */
/* Port of Elastic's ES|QL rule "AWS Lambda Function Invoked Cross-Account" */
/* (49002bbe-7aea-4146-91eb-b2b683bf5ed5, version 1) with exact parity: the same filters, the */
/* same first-match account parsing, the same per-principal aggregation. Like upstream it only */
/* sees full function ARNs in the aws partition (see README, "Known blind spots"). */
/* Reads only the canonical relation cloudtrail_events (sql/sources/). */
/* Version 2 gives version 1's alerts with fewer regex evaluations (see the last WHERE). */
WITH lambda_invocations AS (
  /* Successful Invoke* data events made by a principal, with no AWS service invoking on its */
  /* behalf. NULLIF: regexp_extract yields '' on no match in DuckDB and Spark, NULL elsewhere. */
  SELECT
    user_identity_arn,
    NULLIF(REGEXP_EXTRACT(user_identity_arn, ':([0-9]{12}):', 1), '') AS caller_account,
    NULLIF(
      REGEXP_EXTRACT(
        request_parameters ->> '$.functionName',
        '^arn:aws:lambda:[a-z0-9-]*:([0-9]{12}):',
        1
      ),
      ''
    ) AS function_account,
    source_ip,
    resource_arns,
    event_time
  FROM cloudtrail_events
  WHERE
    event_source = 'lambda.amazonaws.com'
    AND event_name LIKE 'Invoke%'
    AND error_code IS NULL
    AND error_message IS NULL
    AND NOT user_identity_arn IS NULL
    AND user_identity_invoked_by IS NULL
    AND NOT request_parameters IS NULL
)
SELECT
  user_identity_arn,
  caller_account,
  function_account,
  LIST_SORT(LIST_DISTINCT(FLATTEN(ARRAY_AGG(resource_arns)))) AS function_arns,
  COUNT(*) AS invocation_count,
  LIST_SORT(LIST_DISTINCT(ARRAY_AGG(source_ip))) AS source_ips,
  MIN(event_time) AS first_seen,
  MAX(event_time) AS last_seen
FROM lambda_invocations
/* Upstream's `caller_account IS NOT NULL and function_account IS NOT NULL and caller_account != */
/* function_account` in one test: a comparison with NULL is never true, so the same events pass. */
/* Engines evaluate an account's regex again for each test that names it (version 1 spent most */
/* of its time there). */
WHERE
  caller_account <> function_account
GROUP BY
  user_identity_arn,
  caller_account,
  function_account
ORDER BY
  user_identity_arn,
  caller_account,
  function_account;
