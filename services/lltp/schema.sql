-- One certificate per request, whatever arrives twice.
CREATE SEQUENCE IF NOT EXISTS {s}.certificate_seq;
CREATE TABLE IF NOT EXISTS {s}.certificates (
    dossier_id      text PRIMARY KEY,
    certificate_no  text NOT NULL UNIQUE,
    personal_id     text NOT NULL,
    delivery        text NOT NULL,
    issued_by       text NOT NULL,
    issued_at       timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.refusals (
    dossier_id  text PRIMARY KEY,
    code        text NOT NULL,
    reason      text NOT NULL,
    refused_at  timestamptz NOT NULL
);
