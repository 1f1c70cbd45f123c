-- ducktrail source adapter: CloudTrail records in a VARIANT column -> cloudtrail_events
-- Dialect: Snowflake. One SELECT; ducktrail transpile puts it in front of a rule as the CTE
-- cloudtrail_events.
--
-- Expects: a table cloudtrail_records with one row per CloudTrail event and the event in the
-- VARIANT column record. COPY cannot flatten (its transformations take no FLATTEN or join), so
-- the files are loaded whole, then their Records arrays flattened:
--
-- [cloudtrail_records]
-- CREATE TABLE cloudtrail_files (content VARIANT);
-- COPY INTO cloudtrail_files FROM @cloudtrail_stage FILE_FORMAT = (TYPE = JSON);
-- CREATE TABLE cloudtrail_records (record VARIANT);
-- INSERT INTO cloudtrail_records
--   SELECT r.value FROM cloudtrail_files, LATERAL FLATTEN(input => content:Records) AS r;
-- [/cloudtrail_records]
--
-- Shaped as Elastic's pipeline shapes values for the rules: '', '-', 'none', {} and [] are
-- NULL; source_ip only holds sourceIPAddress when it is an IP address (REGEXP_LIKE matches the
-- whole string; the pattern is one group, so that the anchoring holds for every alternative);
-- request_parameters is the JSON text of requestParameters. event_time is UTC.
SELECT
    source_file,
    -- Only the forms DuckDB's adapter reads (see its ducktrail_event_time), rewritten as
    -- YYYY-MM-DDTHH:MM:SS.fffffffff+HH:MM (no zone is UTC) and parsed in that one form, as a
    -- TIMESTAMP_TZ: TO_TIMESTAMP_NTZ would drop the offset, and without a format the session's
    -- TIMESTAMP_INPUT_FORMAT would decide (AUTO also reads epoch seconds and bare dates).
    CASE WHEN REGEXP_LIKE(event_time_text, '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?') THEN CONVERT_TIMEZONE('UTC', TRY_TO_TIMESTAMP_TZ(
            SUBSTR(event_time_text, 1, 10) || 'T' || SUBSTR(event_time_text, 12, 8) || '.'
                || RPAD(COALESCE(REGEXP_SUBSTR(event_time_text, '^.{19}[.]([0-9]{1,9})', 1, 1, 'e', 1), ''), 9, '0')
                || CASE
                    WHEN REGEXP_SUBSTR(event_time_text, '[+-][0-9:]+$') IS NULL THEN '+00:00'
                    ELSE SUBSTR(REGEXP_SUBSTR(event_time_text, '[+-][0-9:]+$'), 1, 3) || ':'
                        || RPAD(REPLACE(SUBSTR(REGEXP_SUBSTR(event_time_text, '[+-][0-9:]+$'), 4), ':', ''), 2, '0')
                END,
            'YYYY-MM-DD"T"HH24:MI:SS.FF9TZH:TZM'
        ))::TIMESTAMP_NTZ END AS event_time,
    event_version,
    event_source,
    event_name,
    aws_region,
    source_ip_address,
    CASE WHEN REGEXP_LIKE(source_ip_address, '((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){6}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::(([0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})?|::([0-9A-Fa-f]{1,4}:){0,5}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::(([0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})?|[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){0,4}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|([0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(([0-9A-Fa-f]{1,4}:){0,4}[0-9A-Fa-f]{1,4})?|([0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){0,3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|([0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(([0-9A-Fa-f]{1,4}:){0,3}[0-9A-Fa-f]{1,4})?|([0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){0,2}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|([0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(([0-9A-Fa-f]{1,4}:){0,2}[0-9A-Fa-f]{1,4})?|([0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){0,1}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|([0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(([0-9A-Fa-f]{1,4}:){0,1}[0-9A-Fa-f]{1,4})?|([0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){0,0}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])([.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|([0-9A-Fa-f]{1,4}:){5}[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4})?|([0-9A-Fa-f]{1,4}:){6}[0-9A-Fa-f]{1,4}::)(%[^%]+)?)') THEN source_ip_address END AS source_ip,
    error_code,
    error_message,
    user_identity_type,
    user_identity_arn,
    user_identity_account_id,
    user_identity_invoked_by,
    request_parameters,
    CASE WHEN ARRAY_SIZE(resources) > 0 THEN resources END AS resources,
    CASE WHEN ARRAY_SIZE(resource_arns) > 0 THEN resource_arns END AS resource_arns,
    event_id,
    shared_event_id,
    recipient_account_id
FROM (
    SELECT
        CAST(NULL AS VARCHAR) AS source_file,
        record:eventTime::VARCHAR AS event_time_text,
        NULLIF(NULLIF(NULLIF(record:eventVersion::VARCHAR, ''), '-'), 'none') AS event_version,
        NULLIF(NULLIF(NULLIF(record:eventSource::VARCHAR, ''), '-'), 'none') AS event_source,
        NULLIF(NULLIF(NULLIF(record:eventName::VARCHAR, ''), '-'), 'none') AS event_name,
        NULLIF(NULLIF(NULLIF(record:awsRegion::VARCHAR, ''), '-'), 'none') AS aws_region,
        NULLIF(NULLIF(NULLIF(record:sourceIPAddress::VARCHAR, ''), '-'), 'none') AS source_ip_address,
        NULLIF(NULLIF(NULLIF(record:errorCode::VARCHAR, ''), '-'), 'none') AS error_code,
        NULLIF(NULLIF(NULLIF(record:errorMessage::VARCHAR, ''), '-'), 'none') AS error_message,
        NULLIF(NULLIF(NULLIF(record:userIdentity:type::VARCHAR, ''), '-'), 'none') AS user_identity_type,
        NULLIF(NULLIF(NULLIF(record:userIdentity:arn::VARCHAR, ''), '-'), 'none') AS user_identity_arn,
        NULLIF(NULLIF(NULLIF(record:userIdentity:accountId::VARCHAR, ''), '-'), 'none') AS user_identity_account_id,
        NULLIF(NULLIF(NULLIF(record:userIdentity:invokedBy::VARCHAR, ''), '-'), 'none') AS user_identity_invoked_by,
        CASE
            WHEN TO_JSON(record:requestParameters) NOT IN ('null', '{}', '[]', '""', '"-"', '"none"')
            THEN TO_JSON(record:requestParameters)
        END AS request_parameters,
        FILTER(
            TRANSFORM(record:resources::ARRAY, r -> OBJECT_CONSTRUCT(
                'arn', NULLIF(NULLIF(NULLIF(r:ARN::VARCHAR, ''), '-'), 'none'),
                'account_id', NULLIF(NULLIF(NULLIF(r:accountId::VARCHAR, ''), '-'), 'none'),
                'type', NULLIF(NULLIF(NULLIF(r:type::VARCHAR, ''), '-'), 'none')
            )),
            r -> ARRAY_SIZE(OBJECT_KEYS(r::OBJECT)) > 0
        ) AS resources,
        ARRAY_DISTINCT(ARRAY_COMPACT(
            TRANSFORM(record:resources::ARRAY, r -> NULLIF(NULLIF(NULLIF(r:ARN::VARCHAR, ''), '-'), 'none'))
        )) AS resource_arns,
        NULLIF(NULLIF(NULLIF(record:eventID::VARCHAR, ''), '-'), 'none') AS event_id,
        NULLIF(NULLIF(NULLIF(record:sharedEventID::VARCHAR, ''), '-'), 'none') AS shared_event_id,
        NULLIF(NULLIF(NULLIF(record:recipientAccountId::VARCHAR, ''), '-'), 'none') AS recipient_account_id
    FROM cloudtrail_records
) AS fields
