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
    -- Only the forms DuckDB's adapter reads (see its ducktrail_event_time), each as the instant it
    -- names: an offset through TIMESTAMP_TZ, since TO_TIMESTAMP_NTZ drops it; none is UTC. 'AUTO',
    -- not the session's TIMESTAMP_INPUT_FORMAT, which would also read epoch seconds and bare dates.
    CASE
        WHEN NOT REGEXP_LIKE(event_time_text, '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?') THEN NULL
        WHEN REGEXP_LIKE(event_time_text, '.*[0-9](Z|[+-][0-9]{2}(:?[0-9]{2})?)')
            THEN CONVERT_TIMEZONE('UTC', TRY_TO_TIMESTAMP_TZ(event_time_text, 'AUTO'))::TIMESTAMP_NTZ
        ELSE TRY_TO_TIMESTAMP_NTZ(event_time_text, 'AUTO')
    END AS event_time,
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
