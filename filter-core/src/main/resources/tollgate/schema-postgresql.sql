CREATE TABLE IF NOT EXISTS tollgate_usage (
    subject      VARCHAR(200) NOT NULL,
    quota        VARCHAR(64)  NOT NULL,
    period       VARCHAR(8)   NOT NULL,
    window_start TIMESTAMPTZ  NOT NULL,
    used         BIGINT       NOT NULL,
    updated_at   TIMESTAMPTZ  NOT NULL,
    PRIMARY KEY (subject, quota, period, window_start)
);
CREATE TABLE IF NOT EXISTS tollgate_applied_batch (
    batch_id   VARCHAR(64) NOT NULL PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS tollgate_applied_batch_at ON tollgate_applied_batch (applied_at);
CREATE TABLE IF NOT EXISTS tollgate_subject (
    subject    VARCHAR(200) NOT NULL PRIMARY KEY,
    plan       VARCHAR(64)  NOT NULL,
    updated_at TIMESTAMPTZ  NOT NULL
);
CREATE TABLE IF NOT EXISTS tollgate_limit_override (
    subject    VARCHAR(200) NOT NULL,
    quota      VARCHAR(64)  NOT NULL,
    period     VARCHAR(8)   NOT NULL,
    max_amount BIGINT       NOT NULL,
    PRIMARY KEY (subject, quota, period)
);
CREATE TABLE IF NOT EXISTS tollgate_grant (
    subject      VARCHAR(200) NOT NULL,
    quota        VARCHAR(64)  NOT NULL,
    period       VARCHAR(8)   NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    node         VARCHAR(64)  NOT NULL,
    granted      BIGINT       NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    grant_id     VARCHAR(64),
    grant_amount BIGINT,
    PRIMARY KEY (subject, quota, period, window_start, node)
);
CREATE INDEX IF NOT EXISTS tollgate_grant_expires ON tollgate_grant (expires_at);
CREATE TABLE IF NOT EXISTS tollgate_api_key (
    subject    VARCHAR(200) NOT NULL PRIMARY KEY,
    name       VARCHAR(100),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS tollgate_request (
    subject    VARCHAR(200) NOT NULL,
    quota      VARCHAR(64)  NOT NULL,
    request_id VARCHAR(255) NOT NULL,
    expires_at TIMESTAMPTZ  NOT NULL,
    PRIMARY KEY (subject, quota, request_id)
);
CREATE INDEX IF NOT EXISTS tollgate_request_expires ON tollgate_request (expires_at);
CREATE TABLE IF NOT EXISTS tollgate_export (
    stream        VARCHAR(64)  NOT NULL PRIMARY KEY,
    after_start   BIGINT,
    after_quota   VARCHAR(64),
    after_period  VARCHAR(16),
    after_subject VARCHAR(200),
    lease_owner   VARCHAR(255),
    lease_expires BIGINT       NOT NULL
);
