-- ducktrail source adapter: CloudTrail records in a JSON column -> cloudtrail_events
-- Dialect: BigQuery (GoogleSQL). One SELECT; ducktrail transpile puts it in front of a rule as
-- the CTE cloudtrail_events.
--
-- Expects: a table cloudtrail_records with one row per CloudTrail event and the event in the
-- JSON column record, e.g. loaded from NDJSON exports, or from S3 files with the Records array
-- flattened:
--
-- [cloudtrail_records]
-- CREATE TABLE dataset.cloudtrail_records (record JSON);
-- INSERT INTO dataset.cloudtrail_records (record)
-- SELECT r FROM dataset.cloudtrail_files, UNNEST(JSON_QUERY_ARRAY(file_json, '$.Records')) AS r;
-- [/cloudtrail_records]
--
-- Shaped as Elastic's pipeline shapes values for the rules: '', '-', 'none', {} and [] are
-- NULL (lists are [] instead: BigQuery has no NULL arrays in results); source_ip only holds
-- sourceIPAddress when it is an IP address; request_parameters is the JSON text of
-- requestParameters. event_time is a UTC TIMESTAMP.
SELECT
    source_file,
    -- Only the forms DuckDB's adapter reads (see its ducktrail_event_time), rewritten as
    -- YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM (no zone is UTC; a longer fraction is cut, as DuckDB cuts
    -- it to microseconds) and parsed in that one form: PARSE_TIMESTAMP's %Ez takes +HH:MM only.
    CASE WHEN REGEXP_CONTAINS(event_time_text, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$') THEN SAFE.PARSE_TIMESTAMP(
            '%Y-%m-%dT%H:%M:%E*S%Ez',
            SUBSTR(event_time_text, 1, 10) || 'T' || SUBSTR(event_time_text, 12, 8) || '.'
                || RPAD(COALESCE(REGEXP_EXTRACT(event_time_text, '^.{19}[.]([0-9]{1,6})'), ''), 6, '0')
                || CASE
                    WHEN REGEXP_EXTRACT(event_time_text, '([+-][0-9:]+)$') IS NULL THEN '+00:00'
                    ELSE SUBSTR(REGEXP_EXTRACT(event_time_text, '([+-][0-9:]+)$'), 1, 3) || ':'
                        || RPAD(REPLACE(SUBSTR(REGEXP_EXTRACT(event_time_text, '([+-][0-9:]+)$'), 4), ':', ''), 2, '0')
                END
        ) END AS event_time,
    event_version,
    event_source,
    event_name,
    aws_region,
    source_ip_address,
    CASE WHEN REGEXP_CONTAINS(source_ip_address, '^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){6}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::(?:(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})?|::(?:[0-9A-Fa-f]{1,4}:){0,5}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})?|[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,4}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,4}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,3}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,2}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,2}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,1}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,1}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,0}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){5}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){6}[0-9A-Fa-f]{1,4}::)(?:%[^%]+)?)$') THEN source_ip_address END AS source_ip,
    error_code,
    error_message,
    user_identity_type,
    user_identity_arn,
    user_identity_account_id,
    user_identity_invoked_by,
    CASE WHEN request_parameters NOT IN ('null', '{}', '[]', '""', '"-"', '"none"') THEN request_parameters END
        AS request_parameters,
    resources,
    resource_arns,
    event_id,
    shared_event_id,
    recipient_account_id
FROM (
    SELECT
        CAST(NULL AS STRING) AS source_file,
        JSON_VALUE(record, '$.eventTime') AS event_time_text,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.eventVersion'), ''), '-'), 'none') AS event_version,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.eventSource'), ''), '-'), 'none') AS event_source,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.eventName'), ''), '-'), 'none') AS event_name,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.awsRegion'), ''), '-'), 'none') AS aws_region,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.sourceIPAddress'), ''), '-'), 'none') AS source_ip_address,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.errorCode'), ''), '-'), 'none') AS error_code,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.errorMessage'), ''), '-'), 'none') AS error_message,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.userIdentity.type'), ''), '-'), 'none') AS user_identity_type,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.userIdentity.arn'), ''), '-'), 'none') AS user_identity_arn,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.userIdentity.accountId'), ''), '-'), 'none')
            AS user_identity_account_id,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.userIdentity.invokedBy'), ''), '-'), 'none')
            AS user_identity_invoked_by,
        TO_JSON_STRING(JSON_QUERY(record, '$.requestParameters')) AS request_parameters,
        ARRAY(
            SELECT AS STRUCT
                NULLIF(NULLIF(NULLIF(JSON_VALUE(r, '$.ARN'), ''), '-'), 'none') AS arn,
                NULLIF(NULLIF(NULLIF(JSON_VALUE(r, '$.accountId'), ''), '-'), 'none') AS account_id,
                NULLIF(NULLIF(NULLIF(JSON_VALUE(r, '$.type'), ''), '-'), 'none') AS type
            FROM UNNEST(JSON_QUERY_ARRAY(record, '$.resources')) AS r
            WHERE JSON_VALUE(r, '$.ARN') NOT IN ('', '-', 'none')
               OR JSON_VALUE(r, '$.accountId') NOT IN ('', '-', 'none')
               OR JSON_VALUE(r, '$.type') NOT IN ('', '-', 'none')
        ) AS resources,
        ARRAY(
            SELECT DISTINCT JSON_VALUE(r, '$.ARN')
            FROM UNNEST(JSON_QUERY_ARRAY(record, '$.resources')) AS r
            WHERE JSON_VALUE(r, '$.ARN') NOT IN ('', '-', 'none')
        ) AS resource_arns,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.eventID'), ''), '-'), 'none') AS event_id,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.sharedEventID'), ''), '-'), 'none') AS shared_event_id,
        NULLIF(NULLIF(NULLIF(JSON_VALUE(record, '$.recipientAccountId'), ''), '-'), 'none') AS recipient_account_id
    FROM cloudtrail_records
) AS fields
