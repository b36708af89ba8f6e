CREATE TABLE IF NOT EXISTS {s}.bhyt_cards (
    dossier_id      text PRIMARY KEY,
    card_no         text NOT NULL UNIQUE,
    personal_id     text NOT NULL UNIQUE,
    valid_from      date NOT NULL,
    valid_until     date NOT NULL,
    issued_at       timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
-- One burial allowance and one survivor-benefit decision per deceased person, whatever arrives twice.
CREATE TABLE IF NOT EXISTS {s}.burial_payments (
    dossier_id      text PRIMARY KEY,
    personal_id     text NOT NULL UNIQUE,
    amount_vnd      bigint NOT NULL,
    paid_at         timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.survivor_benefits (
    dossier_id      text PRIMARY KEY,
    personal_id     text NOT NULL UNIQUE,
    kind            text NOT NULL,
    decided_at      timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
