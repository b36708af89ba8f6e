CREATE TABLE IF NOT EXISTS {s}.dossiers (
    dossier_id       text PRIMARY KEY,
    chain            text NOT NULL,
    channel          text NOT NULL,
    status           text NOT NULL,
    expected_results text[] NOT NULL,
    procedures       text[] NOT NULL,
    province         text NOT NULL,
    district         text NOT NULL,
    commune          text NOT NULL,
    fee_bearing      boolean NOT NULL,
    paid_online      boolean NOT NULL,
    return_by_post   boolean NOT NULL,
    submitted_at     timestamptz NOT NULL,
    closed_at        timestamptz,
    reason           text,
    trace_id         text NOT NULL,
    run_id           text,
    idempotency_key  text UNIQUE,
    data             jsonb NOT NULL,
    due_at           timestamptz NOT NULL,
    needs_verification boolean NOT NULL,
    subject_key      text NOT NULL
);
CREATE INDEX IF NOT EXISTS dossiers_subject ON {s}.dossiers (chain, subject_key);
CREATE INDEX IF NOT EXISTS dossiers_run ON {s}.dossiers (run_id, chain, status);
CREATE TABLE IF NOT EXISTS {s}.results (
    dossier_id  text NOT NULL REFERENCES {s}.dossiers (dossier_id),
    step        text NOT NULL,
    outcome     text NOT NULL,
    reason      text,
    result      jsonb NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (dossier_id, step)
);
CREATE TABLE IF NOT EXISTS {s}.timeline (
    event_id    uuid PRIMARY KEY,
    dossier_id  text NOT NULL,
    type        text NOT NULL,
    agency      text NOT NULL,
    step        text,
    occurred_at timestamptz NOT NULL,
    payload     jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS timeline_dossier ON {s}.timeline (dossier_id, occurred_at);
