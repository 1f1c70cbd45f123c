-- ducktrail rule aws-lambda-function-invoked-cross-account, version 2 (released: locked in
-- sql/rules/rules.lock.json; a change is a new file, v3.sql).
--
-- Port of Elastic's ES|QL rule "AWS Lambda Function Invoked Cross-Account"
-- (49002bbe-7aea-4146-91eb-b2b683bf5ed5, version 1) with exact parity: the same filters, the
-- same first-match account parsing, the same per-principal aggregation. Like upstream it only
-- sees full function ARNs in the aws partition (see README, "Known blind spots").
-- Reads only the canonical relation cloudtrail_events (sql/sources/).
-- Version 2 gives version 1's alerts with fewer regex evaluations (see the last WHERE).
WITH lambda_invocations AS (
    -- Successful Invoke* data events made by a principal, with no AWS service invoking on its
    -- behalf. NULLIF: regexp_extract yields '' on no match in DuckDB and Spark, NULL elsewhere.
    SELECT
        user_identity_arn,
        NULLIF(regexp_extract(user_identity_arn, ':([0-9]{12}):', 1), '') AS caller_account,
        NULLIF(
            regexp_extract(
                json_extract_string(request_parameters, '$.functionName'),
                '^arn:aws:lambda:[a-z0-9-]*:([0-9]{12}):',
                1
            ),
            ''
        ) AS function_account,
        source_ip,
        resource_arns,
        event_time
    FROM cloudtrail_events
    WHERE event_source = 'lambda.amazonaws.com'
      AND event_name LIKE 'Invoke%'
      AND error_code IS NULL
      AND error_message IS NULL
      AND user_identity_arn IS NOT NULL
      AND user_identity_invoked_by IS NULL
      AND request_parameters IS NOT NULL
)
SELECT
    user_identity_arn,
    caller_account,
    function_account,
    list_sort(list_distinct(flatten(list(resource_arns)))) AS function_arns,
    count(*) AS invocation_count,
    list_sort(list_distinct(list(source_ip))) AS source_ips,
    min(event_time) AS first_seen,
    max(event_time) AS last_seen
FROM lambda_invocations
-- Upstream's `caller_account IS NOT NULL and function_account IS NOT NULL and caller_account !=
-- function_account` in one test: a comparison with NULL is never true, so the same events pass.
-- Engines evaluate an account's regex again for each test that names it (version 1 spent most
-- of its time there).
WHERE caller_account <> function_account
GROUP BY user_identity_arn, caller_account, function_account
ORDER BY user_identity_arn, caller_account, function_account
