CREATE TABLE IF NOT EXISTS {s}.records (
    dossier_id   text PRIMARY KEY,
    chain        text NOT NULL,
    receipt_code text NOT NULL,
    status       text NOT NULL,
    commune      text,
    received_at  timestamptz NOT NULL
);

-- Results handed to the public postal service: one item per dossier, delivered when its step ends.
CREATE TABLE IF NOT EXISTS {s}.postal_items (
    dossier_id   text PRIMARY KEY,
    item_no      text NOT NULL,
    commune      text,
    delivered_at timestamptz NOT NULL,
    source_event_id uuid NOT NULL
);
