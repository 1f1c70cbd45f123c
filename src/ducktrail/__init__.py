"""ducktrail: detection-as-code for AWS CloudTrail, versioned SQL run by DuckDB."""

__version__ = "0.1.0"
