-- ducktrail rule aws-lambda-function-invoked-cross-account version 2 (sha256:69f65e5b0b5d...), for trino, source cloudtrail; written by sqlglot 30.31.0 from v2.sql.
-- ducktrail source adapter: the CloudTrail table AWS documents for Athena -> cloudtrail_events
-- Dialect: Trino (Athena engine version 3, or Trino over a metastore that holds the table).
-- One SELECT; ducktrail transpile puts it in front of a rule as the CTE cloudtrail_events.
--
-- Expects: the table cloudtrail_logs as AWS's Athena guide creates it, with partition
-- projection: useridentity a struct, requestparameters the event's requestParameters as a
-- JSON string, resources an array of rows (arn, accountid, type). The DDL below is Athena's
-- (HiveQL, and AWS's CloudTrail input format, which turns each Records array into rows);
-- Trino itself cannot create or read such a table, so plain Trino needs the same columns in a
-- format its Hive connector reads. For example, in Athena:
--
-- [cloudtrail_logs]
-- CREATE EXTERNAL TABLE cloudtrail_logs (
--   eventversion STRING,
--   useridentity STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING,
--     invokedby: STRING, accesskeyid: STRING, username: STRING,
--     sessioncontext: STRUCT<attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,
--       sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING,
--         username: STRING>>>,
--   eventtime STRING, eventsource STRING, eventname STRING, awsregion STRING,
--   sourceipaddress STRING, useragent STRING, errorcode STRING, errormessage STRING,
--   requestparameters STRING, responseelements STRING, additionaleventdata STRING,
--   requestid STRING, eventid STRING, readonly STRING,
--   resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>,
--   eventtype STRING, apiversion STRING, recipientaccountid STRING,
--   serviceeventdetails STRING, sharedeventid STRING, vpcendpointid STRING, eventcategory STRING
-- )
-- PARTITIONED BY (region STRING, `timestamp` STRING)
-- ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
-- STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
-- OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
-- LOCATION 's3://<bucket>/AWSLogs/<account-id>/CloudTrail/'
-- TBLPROPERTIES (
--   'projection.enabled' = 'true',
--   'projection.region.type' = 'enum',
--   'projection.region.values' = 'af-south-1,ap-east-1,ap-east-2,ap-northeast-1,ap-northeast-2,ap-northeast-3,ap-south-1,ap-south-2,ap-southeast-1,ap-southeast-2,ap-southeast-3,ap-southeast-4,ap-southeast-5,ap-southeast-6,ap-southeast-7,ca-central-1,ca-west-1,eu-central-1,eu-central-2,eu-north-1,eu-south-1,eu-south-2,eu-west-1,eu-west-2,eu-west-3,il-central-1,me-central-1,me-south-1,mx-central-1,sa-east-1,us-east-1,us-east-2,us-west-1,us-west-2',
--   'projection.timestamp.type' = 'date',
--   'projection.timestamp.format' = 'yyyy/MM/dd',
--   'projection.timestamp.range' = '2024/01/01,NOW',
--   'projection.timestamp.interval' = '1',
--   'projection.timestamp.interval.unit' = 'DAYS',
--   'storage.location.template' = 's3://<bucket>/AWSLogs/<account-id>/CloudTrail/${region}/${timestamp}'
-- );
-- [/cloudtrail_logs]
--
-- An organization trail delivers each account's files under AWSLogs/<org-id>/<account-id>/
-- CloudTrail/: point LOCATION and the template there, one table per account (or add an account
-- projection column to the path). An enum projection reads only the regions it lists: events
-- of a region left out (a region AWS opens later) are never scanned, so keep the list whole
-- (these are the 34 regions of the aws partition in botocore 1.43, November 2026). Likewise the
-- timestamp range: days before its start are never scanned, so start it at the trail's first day.
-- The adapter reads every partition. To scan less (Athena bills by bytes read), add a filter
-- on the projection columns below, e.g. WHERE "timestamp" >= '2026/11/01'.
-- Shaped as Elastic's pipeline shapes values for the rules: '', '-', 'none', {} and [] are
-- NULL; source_ip only holds sourceIPAddress when it is an IP address. event_time is UTC.
WITH cloudtrail_events AS (
SELECT
    source_file,
    event_time,
    event_version,
    event_source,
    event_name,
    aws_region,
    source_ip_address,
    CASE WHEN regexp_like(source_ip_address, '^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){6}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::(?:(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})?|::(?:[0-9A-Fa-f]{1,4}:){0,5}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})?|[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,4}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,4}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,3}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,2}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,2}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,1}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,1}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,0}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){5}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){6}[0-9A-Fa-f]{1,4}::)(?:%[^%]+)?)\z') THEN source_ip_address END AS source_ip,
    error_code,
    error_message,
    user_identity_type,
    user_identity_arn,
    user_identity_account_id,
    user_identity_invoked_by,
    request_parameters,
    CASE WHEN cardinality(resources) > 0 THEN resources END AS resources,
    CASE WHEN cardinality(resource_arns) > 0 THEN resource_arns END AS resource_arns,
    event_id,
    shared_event_id,
    recipient_account_id
FROM (
    SELECT
        "$path" AS source_file,
        -- Only the forms DuckDB's adapter reads (see its ducktrail_event_time), rewritten as
        -- YYYY-MM-DDTHH:MM:SS[.fraction of at most 9 digits]+HH:MM (no zone is UTC) first:
        -- from_iso8601_timestamp reads other forms too (a bare date, week dates), a zone-less time
        -- in the session's zone, and fails the whole query, try() or not, on an offset beyond 14
        -- hours or a five-digit year.
        try(CAST(from_iso8601_timestamp(
            CASE
                WHEN regexp_like(eventtime, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-](0[0-9]|1[0-3])(:?[0-5][0-9])?|[+-]14(:?00)?)?\z')
                    THEN substr(eventtime, 1, 10) || 'T' || substr(eventtime, 12, 8)
                        || coalesce(regexp_extract(eventtime, '^.{19}([.][0-9]{1,9})', 1), '')
                        || CASE
                            WHEN regexp_extract(eventtime, '([+-][0-9:]+)\z', 1) IS NULL THEN '+00:00'
                            ELSE substr(regexp_extract(eventtime, '([+-][0-9:]+)\z', 1), 1, 3) || ':'
                                || rpad(replace(substr(regexp_extract(eventtime, '([+-][0-9:]+)\z', 1), 4), ':', ''), 2, '0')
                        END
            END
        ) AT TIME ZONE 'UTC' AS TIMESTAMP(3))) AS event_time,
        nullif(nullif(nullif(eventversion, ''), '-'), 'none') AS event_version,
        nullif(nullif(nullif(eventsource, ''), '-'), 'none') AS event_source,
        nullif(nullif(nullif(eventname, ''), '-'), 'none') AS event_name,
        nullif(nullif(nullif(awsregion, ''), '-'), 'none') AS aws_region,
        nullif(nullif(nullif(sourceipaddress, ''), '-'), 'none') AS source_ip_address,
        nullif(nullif(nullif(errorcode, ''), '-'), 'none') AS error_code,
        nullif(nullif(nullif(errormessage, ''), '-'), 'none') AS error_message,
        nullif(nullif(nullif(useridentity.type, ''), '-'), 'none') AS user_identity_type,
        nullif(nullif(nullif(useridentity.arn, ''), '-'), 'none') AS user_identity_arn,
        nullif(nullif(nullif(useridentity.accountid, ''), '-'), 'none') AS user_identity_account_id,
        nullif(nullif(nullif(useridentity.invokedby, ''), '-'), 'none') AS user_identity_invoked_by,
        CASE
            WHEN requestparameters NOT IN ('null', '{}', '[]', '""', '"-"', '"none"') THEN requestparameters
        END AS request_parameters,
        filter(
            transform(resources, r -> CAST(ROW(
                nullif(nullif(nullif(r.arn, ''), '-'), 'none'),
                nullif(nullif(nullif(r.accountid, ''), '-'), 'none'),
                nullif(nullif(nullif(r.type, ''), '-'), 'none')
            ) AS ROW(arn VARCHAR, account_id VARCHAR, type VARCHAR))),
            r -> r.arn IS NOT NULL OR r.account_id IS NOT NULL OR r.type IS NOT NULL
        ) AS resources,
        array_distinct(filter(
            transform(resources, r -> nullif(nullif(nullif(r.arn, ''), '-'), 'none')),
            a -> a IS NOT NULL
        )) AS resource_arns,
        nullif(nullif(nullif(eventid, ''), '-'), 'none') AS event_id,
        nullif(nullif(nullif(sharedeventid, ''), '-'), 'none') AS shared_event_id,
        nullif(nullif(nullif(recipientaccountid, ''), '-'), 'none') AS recipient_account_id
    FROM cloudtrail_logs
) AS fields
),
lambda_invocations AS (
/* Successful Invoke* data events made by a principal, with no AWS service invoking on its */
/* behalf. NULLIF: regexp_extract yields '' on no match in DuckDB and Spark, NULL elsewhere. */
SELECT
  user_identity_arn,
  NULLIF(REGEXP_EXTRACT(user_identity_arn, ':([0-9]{12}):', 1), '') AS caller_account,
  NULLIF(
    REGEXP_EXTRACT(
      JSON_EXTRACT_SCALAR(request_parameters, '$.functionName'),
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
  COALESCE(
    ARRAY_SORT(
      ARRAY_DISTINCT(
        FILTER(
          FLATTEN(ARRAY_AGG(resource_arns) FILTER(WHERE
            NOT resource_arns IS NULL)),
          ducktrail_element -> NOT ducktrail_element IS NULL
        )
      )
    ),
    ARRAY[]
  ) AS function_arns,
  COUNT(*) AS invocation_count,
  COALESCE(
    ARRAY_SORT(ARRAY_DISTINCT(ARRAY_AGG(source_ip) FILTER(WHERE
      NOT source_ip IS NULL))),
    ARRAY[]
  ) AS source_ips,
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
  function_account
