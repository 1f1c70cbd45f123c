-- ducktrail rule aws-lambda-function-invoked-cross-account version 2 (sha256:69f65e5b0b5d...), for databricks, source cloudtrail; written by sqlglot 30.31.0 from v2.sql.
-- ducktrail source adapter: CloudTrail files read by Spark's JSON reader -> cloudtrail_events
-- Dialect: Spark SQL (Apache Spark 3.4+, Databricks). One SELECT; ducktrail transpile puts it
-- in front of a rule as the CTE cloudtrail_events.
--
-- Expects: a table or view cloudtrail_files with one row per CloudTrail file and the column
-- Records, as Spark's JSON reader makes it with the schema below. Declaring requestParameters
-- a STRING keeps its JSON text, which is what the rules parse; multiLine reads each file as
-- one document (pretty-printed or not) and FAILFAST stops on a corrupt file instead of
-- silently reading it as NULL. The path takes trails of single accounts (AWSLogs/<account>/
-- CloudTrail/...) and organization trails (AWSLogs/<org-id>/<account>/CloudTrail/...). For example:
--
-- [cloudtrail_files]
-- CREATE OR REPLACE TEMPORARY VIEW cloudtrail_files (
--   Records ARRAY<STRUCT<
--     eventVersion: STRING, eventTime: STRING, eventSource: STRING, eventName: STRING,
--     awsRegion: STRING, sourceIPAddress: STRING, errorCode: STRING, errorMessage: STRING,
--     userIdentity: STRUCT<type: STRING, arn: STRING, accountId: STRING, invokedBy: STRING>,
--     requestParameters: STRING,
--     resources: ARRAY<STRUCT<ARN: STRING, accountId: STRING, type: STRING>>,
--     eventID: STRING, sharedEventID: STRING, recipientAccountId: STRING>>
-- ) USING json OPTIONS (
--   path 's3://<bucket>/AWSLogs/{*,*/*}/CloudTrail/*/*/*/*/*.json.gz',
--   multiLine 'true', mode 'FAILFAST'
-- );
-- [/cloudtrail_files]
--
-- Shaped as Elastic's pipeline shapes values for the rules: '', '-', 'none', {} and [] are
-- NULL; source_ip only holds sourceIPAddress when it is an IP address. source_file is NULL
-- (input_file_name() is not available everywhere Databricks runs). Set
-- spark.sql.session.timeZone to UTC to see event_time in UTC.
WITH cloudtrail_events AS (
SELECT
    source_file,
    event_time,
    event_version,
    event_source,
    event_name,
    aws_region,
    source_ip_address,
    CASE
        WHEN regexp_extract(source_ip_address, '^((?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){6}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::(?:(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})?|::(?:[0-9A-Fa-f]{1,4}:){0,5}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})?|[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,4}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,4}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,3}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,2}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,2}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,1}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(?:(?:[0-9A-Fa-f]{1,4}:){0,1}[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4}:){0,0}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:[.](?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|(?:[0-9A-Fa-f]{1,4}:){5}[0-9A-Fa-f]{1,4}::(?:[0-9A-Fa-f]{1,4})?|(?:[0-9A-Fa-f]{1,4}:){6}[0-9A-Fa-f]{1,4}::)(?:%[^%]+)?)$', 0) = source_ip_address
        THEN source_ip_address
    END AS source_ip,
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
        CAST(NULL AS STRING) AS source_file,
        try_cast(r.eventTime AS TIMESTAMP) AS event_time,
        nullif(nullif(nullif(r.eventVersion, ''), '-'), 'none') AS event_version,
        nullif(nullif(nullif(r.eventSource, ''), '-'), 'none') AS event_source,
        nullif(nullif(nullif(r.eventName, ''), '-'), 'none') AS event_name,
        nullif(nullif(nullif(r.awsRegion, ''), '-'), 'none') AS aws_region,
        nullif(nullif(nullif(r.sourceIPAddress, ''), '-'), 'none') AS source_ip_address,
        nullif(nullif(nullif(r.errorCode, ''), '-'), 'none') AS error_code,
        nullif(nullif(nullif(r.errorMessage, ''), '-'), 'none') AS error_message,
        nullif(nullif(nullif(r.userIdentity.type, ''), '-'), 'none') AS user_identity_type,
        nullif(nullif(nullif(r.userIdentity.arn, ''), '-'), 'none') AS user_identity_arn,
        nullif(nullif(nullif(r.userIdentity.accountId, ''), '-'), 'none') AS user_identity_account_id,
        nullif(nullif(nullif(r.userIdentity.invokedBy, ''), '-'), 'none') AS user_identity_invoked_by,
        CASE
            WHEN r.requestParameters NOT IN ('null', '{}', '[]', '""', '"-"', '"none"') THEN r.requestParameters
        END AS request_parameters,
        filter(
            transform(r.resources, x -> named_struct(
                'arn', nullif(nullif(nullif(x.ARN, ''), '-'), 'none'),
                'account_id', nullif(nullif(nullif(x.accountId, ''), '-'), 'none'),
                'type', nullif(nullif(nullif(x.type, ''), '-'), 'none')
            )),
            x -> x.arn IS NOT NULL OR x.account_id IS NOT NULL OR x.type IS NOT NULL
        ) AS resources,
        array_distinct(filter(
            transform(r.resources, x -> nullif(nullif(nullif(x.ARN, ''), '-'), 'none')),
            a -> a IS NOT NULL
        )) AS resource_arns,
        nullif(nullif(nullif(r.eventID, ''), '-'), 'none') AS event_id,
        nullif(nullif(nullif(r.sharedEventID, ''), '-'), 'none') AS shared_event_id,
        nullif(nullif(nullif(r.recipientAccountId, ''), '-'), 'none') AS recipient_account_id
    FROM cloudtrail_files
    LATERAL VIEW explode(Records) exploded AS r
) AS fields
),
lambda_invocations AS (
/* Successful Invoke* data events made by a principal, with no AWS service invoking on its */
/* behalf. NULLIF: regexp_extract yields '' on no match in DuckDB and Spark, NULL elsewhere. */
SELECT
  user_identity_arn,
  NULLIF(REGEXP_EXTRACT(user_identity_arn, ':([0-9]{12}):'), '') AS caller_account,
  NULLIF(
    REGEXP_EXTRACT(
      GET_JSON_OBJECT(request_parameters, '$.functionName'),
      '^arn:aws:lambda:[a-z0-9-]*:([0-9]{12}):'
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
  ARRAY_SORT(
    ARRAY_DISTINCT(
      FILTER(
        FLATTEN(COLLECT_LIST(resource_arns)),
        ducktrail_element -> NOT ducktrail_element IS NULL
      )
    )
  ) AS function_arns,
  COUNT(*) AS invocation_count,
  ARRAY_SORT(ARRAY_DISTINCT(COLLECT_LIST(source_ip))) AS source_ips,
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
  user_identity_arn NULLS LAST,
  caller_account NULLS LAST,
  function_account NULLS LAST
