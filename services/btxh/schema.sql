-- One burial support per deceased person, whatever arrives twice.
CREATE TABLE IF NOT EXISTS {s}.burial_payments (
    dossier_id      text PRIMARY KEY,
    personal_id     text NOT NULL UNIQUE,
    amount_vnd      bigint NOT NULL,
    basis           text NOT NULL,
    paid_at         timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
