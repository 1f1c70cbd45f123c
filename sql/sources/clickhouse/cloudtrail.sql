-- ducktrail source adapter: CloudTrail JSON read with ClickHouse's JSON functions -> cloudtrail_events
-- Dialect: ClickHouse (24.x and later; tested with chDB). One SELECT; ducktrail transpile puts
-- it in front of a rule as the CTE cloudtrail_events.
--
-- Expects: a table or view cloudtrail_files with a String column json holding either a whole
-- CloudTrail file ({"Records": [...]}) or one event (NDJSON exports), as the JSONAsString
-- format reads them. The path takes trails of single accounts (AWSLogs/<account>/CloudTrail/...)
-- and organization trails (AWSLogs/<org-id>/<account>/CloudTrail/...). For example:
--
-- [cloudtrail_files]
-- CREATE VIEW cloudtrail_files AS
-- SELECT json FROM s3('https://<bucket>.s3.amazonaws.com/AWSLogs/**/CloudTrail/**/*.json.gz', 'JSONAsString');
-- [/cloudtrail_files]
--
-- Shaped as Elastic's pipeline shapes values for the rules: '', '-', 'none', {} and [] are
-- NULL (lists are [] instead: ClickHouse has no NULL arrays); source_ip only holds
-- sourceIPAddress when it is an IP address; source_file is NULL. event_time is UTC.
SELECT
    CAST(NULL AS Nullable(String)) AS source_file,
    parseDateTime64BestEffortOrNull(JSONExtractString(e, 'eventTime'), 3, 'UTC') AS event_time,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'eventVersion'), ''), '-'), 'none') AS event_version,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'eventSource'), ''), '-'), 'none') AS event_source,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'eventName'), ''), '-'), 'none') AS event_name,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'awsRegion'), ''), '-'), 'none') AS aws_region,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'sourceIPAddress'), ''), '-'), 'none') AS source_ip_address,
    if(match(source_ip_address, '^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){6}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::(?:(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})?|::(?:[0-9A-Fa-f]{1,4}:){0,5}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})?|[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,4}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,4}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,3}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,2}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,2}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,1}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,1}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,0}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){5}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){6}[0-9A-Fa-f]{1,4}::)(?:%[^%]+)?)$'), source_ip_address, NULL) AS source_ip,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'errorCode'), ''), '-'), 'none') AS error_code,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'errorMessage'), ''), '-'), 'none') AS error_message,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'userIdentity', 'type'), ''), '-'), 'none') AS user_identity_type,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'userIdentity', 'arn'), ''), '-'), 'none') AS user_identity_arn,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'userIdentity', 'accountId'), ''), '-'), 'none') AS user_identity_account_id,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'userIdentity', 'invokedBy'), ''), '-'), 'none') AS user_identity_invoked_by,
    if(
        JSONExtractRaw(e, 'requestParameters') IN ('', 'null', '{}', '[]', '""', '"-"', '"none"'),
        NULL,
        JSONExtractRaw(e, 'requestParameters')
    ) AS request_parameters,
    arrayFilter(
        x -> x.1 != '' OR x.2 != '' OR x.3 != '',
        arrayMap(
            r -> tuple(
                if(JSONExtractString(r, 'ARN') IN ('-', 'none'), '', JSONExtractString(r, 'ARN')),
                if(JSONExtractString(r, 'accountId') IN ('-', 'none'), '', JSONExtractString(r, 'accountId')),
                if(JSONExtractString(r, 'type') IN ('-', 'none'), '', JSONExtractString(r, 'type'))
            ),
            JSONExtractArrayRaw(e, 'resources')
        )
    ) AS resources,
    arrayDistinct(arrayFilter(
        a -> a NOT IN ('', '-', 'none'),
        arrayMap(r -> JSONExtractString(r, 'ARN'), JSONExtractArrayRaw(e, 'resources'))
    )) AS resource_arns,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'eventID'), ''), '-'), 'none') AS event_id,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'sharedEventID'), ''), '-'), 'none') AS shared_event_id,
    nullIf(nullIf(nullIf(JSONExtractString(e, 'recipientAccountId'), ''), '-'), 'none') AS recipient_account_id
FROM (
    SELECT arrayJoin(if(JSONHas(json, 'Records'), JSONExtractArrayRaw(json, 'Records'), [json])) AS e
    FROM cloudtrail_files
    -- ClickHouse's JSON functions give empty values for a document they cannot parse (a number
    -- beyond a double, a lone surrogate escape, a raw control character): its events would be
    -- lost without a word, so the query fails instead.
    WHERE throwIf(
        NOT isValidJSON(json),
        'a document in cloudtrail_files is not JSON ClickHouse can parse; its events would be lost'
    ) = 0
)
