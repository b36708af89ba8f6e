-- Effects that must happen exactly once per dossier are unique here, whatever arrives twice.
CREATE TABLE IF NOT EXISTS {s}.birth_registrations (
    dossier_id      text PRIMARY KEY,
    personal_id     text NOT NULL UNIQUE,
    sex             text NOT NULL,
    birth_date      date NOT NULL,
    registered_at   timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.death_registrations (
    dossier_id      text PRIMARY KEY,
    personal_id     text NOT NULL UNIQUE,
    death_date      date NOT NULL,
    registered_at   timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.refusals (
    dossier_id  text PRIMARY KEY,
    step        text NOT NULL,
    reason      text NOT NULL,
    refused_at  timestamptz NOT NULL
);
-- The marriage liaison: the partner's marital status confirmed where they live, then the marriage
-- registered; a person is in one marriage at a time (`spouses`), whatever arrives twice.
CREATE TABLE IF NOT EXISTS {s}.marital_confirmations (
    dossier_id      text PRIMARY KEY,
    confirmation_no text NOT NULL UNIQUE,
    personal_id     text NOT NULL,
    commune         text NOT NULL,
    confirmed_at    timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.marriages (
    dossier_id      text PRIMARY KEY,
    certificate_no  text NOT NULL UNIQUE,
    applicant_id    text NOT NULL,
    partner_id      text NOT NULL,
    commune         text NOT NULL,
    registered_at   timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.spouses (
    personal_id text PRIMARY KEY,
    dossier_id  text NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS {s}.marriage_seq;
