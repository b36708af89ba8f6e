CREATE TABLE IF NOT EXISTS {s}.residence_registrations (
    dossier_id      text PRIMARY KEY,
    personal_id     text NOT NULL UNIQUE,
    address         text NOT NULL,
    registered_at   timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.residence_removals (
    dossier_id      text PRIMARY KEY,
    personal_id     text NOT NULL UNIQUE,
    removed_at      timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
