CREATE TABLE IF NOT EXISTS {s}.records (
    dossier_id   text PRIMARY KEY,
    chain        text NOT NULL,
    receipt_code text NOT NULL,
    status       text NOT NULL,
    commune      text,
    received_at  timestamptz NOT NULL
);
