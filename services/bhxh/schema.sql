CREATE TABLE IF NOT EXISTS {s}.bhyt_cards (
    dossier_id      text PRIMARY KEY,
    card_no         text NOT NULL UNIQUE,
    personal_id     text NOT NULL UNIQUE,
    valid_from      date NOT NULL,
    valid_until     date NOT NULL,
    issued_at       timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
