-- The monitor's own state: every lifecycle event it has seen (its evidence, its dedupe and what
-- it rebuilds from after a restart, since faust changelogs would vanish with the embedded
-- broker) and the alerts it raised. Other services' schemas are never read.
CREATE SCHEMA IF NOT EXISTS monitor;
CREATE TABLE IF NOT EXISTS monitor.events (
    event_id    uuid PRIMARY KEY,
    dossier_id  text NOT NULL,
    chain       text,
    type        text NOT NULL,
    agency      text NOT NULL,
    step        text,
    occurred_at timestamptz NOT NULL,
    payload     jsonb NOT NULL,
    partition   integer NOT NULL,
    "offset"    bigint NOT NULL,
    open        boolean NOT NULL DEFAULT true
);
CREATE INDEX IF NOT EXISTS events_dossier ON monitor.events (dossier_id, occurred_at);
CREATE INDEX IF NOT EXISTS events_open ON monitor.events (dossier_id) WHERE open;
CREATE TABLE IF NOT EXISTS monitor.alerts (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    severity     text NOT NULL,
    subject      text NOT NULL,
    dossier_id   text,
    key          text NOT NULL,
    detail       text NOT NULL,
    due_at       timestamptz,
    opened_at    timestamptz NOT NULL,   -- the judged sim time that proved it
    raised_at    timestamptz,            -- the sim clock when the monitor wrote it
    evidence     jsonb NOT NULL,
    resolved_at  timestamptz,
    resolved_how text,
    UNIQUE (kind, subject, key)
);
ALTER TABLE monitor.alerts ADD COLUMN IF NOT EXISTS raised_at timestamptz;
-- An operator's acknowledgement (dashboard), and when the row last changed (the live feed's cursor).
ALTER TABLE monitor.alerts ADD COLUMN IF NOT EXISTS acknowledged_at timestamptz;
ALTER TABLE monitor.alerts ADD COLUMN IF NOT EXISTS acknowledged_by text;
ALTER TABLE monitor.alerts ADD COLUMN IF NOT EXISTS changed_at timestamptz NOT NULL DEFAULT clock_timestamp();
CREATE INDEX IF NOT EXISTS alerts_changed ON monitor.alerts (changed_at);
CREATE INDEX IF NOT EXISTS alerts_open ON monitor.alerts (opened_at) WHERE resolved_at IS NULL;
-- Findings of one dossier that share a cause form one incident (streams/incidents.py): a finding
-- that joined another's incident names its first finding here; NULL heads an incident.
ALTER TABLE monitor.alerts ADD COLUMN IF NOT EXISTS incident_id bigint;
CREATE INDEX IF NOT EXISTS alerts_incident ON monitor.alerts (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS alerts_dossier_open ON monitor.alerts (dossier_id) WHERE resolved_at IS NULL;
