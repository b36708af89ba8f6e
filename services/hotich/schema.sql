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
