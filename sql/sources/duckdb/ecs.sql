-- ducktrail source adapter: Elastic logs-aws.cloudtrail-* documents -> cloudtrail_events (DuckDB)
--
-- For teams leaving Elastic: the same rules over an NDJSON export of the documents Elastic's
-- AWS CloudTrail integration stored (one document per line, either the document itself or a
-- search hit {"_index": ..., "_id": ..., "_source": {...}}), gzipped or not.
--
-- Input: the DuckDB variable ducktrail_files, a path, glob or list of them, e.g.
--   SET VARIABLE ducktrail_files = 'export/logs-aws.cloudtrail-*.ndjson.gz';
-- Output: the view cloudtrail_events, the same columns as sources/duckdb/cloudtrail.sql.
--
-- The pipeline already dropped empty values and set source.ip only for IP addresses; this
-- adapter maps ECS fields back to CloudTrail's. requestParameters comes from
-- aws.cloudtrail.flattened.request_parameters when the export has it (the original object);
-- otherwise from the {key=value, ...} string in aws.cloudtrail.request_parameters, from which
-- only functionName is recovered, exactly as the upstream rule's grok reads it. (The two paths
-- differ only on shapes CloudTrail does not write: README, "Shapes CloudTrail does not write".)

CREATE OR REPLACE TYPE ecs_cloudtrail_document AS STRUCT(
    "@timestamp" VARCHAR,
    event STRUCT(provider VARCHAR, action VARCHAR, id VARCHAR),
    aws STRUCT(cloudtrail STRUCT(
        event_version VARCHAR,
        user_identity STRUCT(
            "type" VARCHAR,
            arn VARCHAR,
            invoked_by VARCHAR
        ),
        request_parameters VARCHAR,
        flattened STRUCT(request_parameters JSON),
        error_code VARCHAR,
        error_message VARCHAR,
        resources STRUCT(arn VARCHAR, account_id VARCHAR, "type" VARCHAR)[],
        recipient_account_id VARCHAR,
        shared_event_id VARCHAR
    )),
    "source" STRUCT(address VARCHAR, ip VARCHAR),
    cloud STRUCT(region VARCHAR, account STRUCT(id VARCHAR))
);

-- One line of the export: a search hit wrapping the document, or the document itself. The
-- document's fields are listed again so that both shapes are parsed in one pass.
CREATE OR REPLACE TYPE ecs_json_value AS STRUCT(
    "_source" ecs_cloudtrail_document,
    "@timestamp" VARCHAR,
    event STRUCT(provider VARCHAR, action VARCHAR, id VARCHAR),
    aws STRUCT(cloudtrail STRUCT(
        event_version VARCHAR,
        user_identity STRUCT(
            "type" VARCHAR,
            arn VARCHAR,
            invoked_by VARCHAR
        ),
        request_parameters VARCHAR,
        flattened STRUCT(request_parameters JSON),
        error_code VARCHAR,
        error_message VARCHAR,
        resources STRUCT(arn VARCHAR, account_id VARCHAR, "type" VARCHAR)[],
        recipient_account_id VARCHAR,
        shared_event_id VARCHAR
    )),
    "source" STRUCT(address VARCHAR, ip VARCHAR),
    cloud STRUCT(region VARCHAR, account STRUCT(id VARCHAR))
);

-- Exports from older pipelines may still hold placeholders the newest drop ('-', 'none').
CREATE OR REPLACE MACRO ducktrail_present(value) AS
    CASE WHEN value IN ('', '-', 'none') THEN NULL ELSE value END;

-- A document that is not a CloudTrail event: none of the fields that mark one.
CREATE OR REPLACE MACRO ducktrail_not_event(document) AS
    ducktrail_present(document.aws.cloudtrail.event_version) IS NULL AND ducktrail_present(document.event.provider) IS NULL
    AND ducktrail_present(document.event.action) IS NULL AND ducktrail_present(document.event.id) IS NULL;

-- The event's time: @timestamp, as Elastic writes it (UTC, with or without a fraction).
CREATE OR REPLACE MACRO ducktrail_event_time(value) AS
    try_strptime(value, ['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%SZ']);

-- Called once per document read, as in the CloudTrail adapter, with 1 record, 1 if it is not an
-- event, and 1 if it is an event with no readable time. A no-op here; `ducktrail scan`
-- redefines it to count what each file held while the rules read the files.
CREATE OR REPLACE MACRO ducktrail_value_read(source_file, records, unrecognized, untimed) AS true;

CREATE OR REPLACE VIEW cloudtrail_events AS
WITH documents AS (
    -- A one-element list unnested: the read hook sits below the UNNEST, where no filter of a rule
    -- can be pushed past it, so it sees every document.
    SELECT source_file, unnest(value_documents) AS d
    FROM (
        SELECT filename AS source_file, [coalesce(value."_source", value::ecs_cloudtrail_document)] AS value_documents
        FROM read_json(
            coalesce(
                getvariable('ducktrail_files'),
                error('no files to read: ducktrail_files is not set, or NULL (a glob() that matched no file?); SET VARIABLE ducktrail_files = ''export/*.ndjson.gz'' (a path, glob or list of them) first')
            ),
            columns = {'value': 'ecs_json_value'},
            records = false,
            -- As in cloudtrail.sql: 'newline_delimited' is faster where every value is on one line.
            format = coalesce(getvariable('ducktrail_json_format'), 'unstructured'),
            filename = true,
            maximum_object_size = coalesce(getvariable('ducktrail_maximum_object_size'), 67108864)
        )
    )
    WHERE ducktrail_value_read(
        source_file,
        1,
        CASE WHEN ducktrail_not_event(value_documents[1]) THEN 1 ELSE 0 END,
        CASE WHEN NOT ducktrail_not_event(value_documents[1])
            AND ducktrail_event_time(value_documents[1]."@timestamp") IS NULL THEN 1 ELSE 0 END
    )
),
fields AS (
    SELECT
        source_file,
        d,
        d.aws.cloudtrail AS ct,
        ducktrail_present(d.aws.cloudtrail.request_parameters) AS rendered_parameters
    FROM documents
)
SELECT
    source_file,
    ducktrail_event_time(d."@timestamp") AS event_time,
    ducktrail_present(ct.event_version) AS event_version,
    ducktrail_present(d.event.provider) AS event_source,
    ducktrail_present(d.event.action) AS event_name,
    ducktrail_present(d.cloud.region) AS aws_region,
    coalesce(ducktrail_present(d."source".address), ducktrail_present(d."source".ip)) AS source_ip_address,
    ducktrail_present(d."source".ip) AS source_ip,
    ducktrail_present(ct.error_code) AS error_code,
    ducktrail_present(ct.error_message) AS error_message,
    ducktrail_present(ct.user_identity."type") AS user_identity_type,
    ducktrail_present(ct.user_identity.arn) AS user_identity_arn,
    ducktrail_present(d.cloud.account.id) AS user_identity_account_id,
    ducktrail_present(ct.user_identity.invoked_by) AS user_identity_invoked_by,
    CASE
        WHEN ct.flattened.request_parameters IS NOT NULL THEN ct.flattened.request_parameters
        WHEN rendered_parameters IS NOT NULL THEN json_object(
            'functionName',
            coalesce(
                -- The upstream grok: the first functionName=arn:aws:lambda:<region>:<12 digits>: anywhere.
                nullif(regexp_extract(rendered_parameters, 'functionName=(arn:aws:lambda:[a-z0-9-]*:[0-9]{12}:)', 1), ''),
                -- No functionName in the string: none in the object either, as in the raw event.
                nullif(regexp_extract(rendered_parameters, '(?:^\{|, )functionName=([^,}]*)', 1), '')
            )
        )
    END AS request_parameters,
    nullif(
        list_filter(
            [{'arn': ducktrail_present(r.arn), 'account_id': ducktrail_present(r.account_id), 'type': ducktrail_present(r."type")}
             FOR r IN ct.resources],
            lambda r: r.arn IS NOT NULL OR r.account_id IS NOT NULL OR r."type" IS NOT NULL
        ),
        []
    ) AS resources,
    nullif(list_distinct([ducktrail_present(r.arn) FOR r IN ct.resources]), []) AS resource_arns,
    ducktrail_present(d.event.id) AS event_id,
    ducktrail_present(ct.shared_event_id) AS shared_event_id,
    ducktrail_present(ct.recipient_account_id) AS recipient_account_id
FROM fields;
