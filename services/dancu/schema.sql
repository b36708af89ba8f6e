-- The newborns civil status registered during the run, each findable from `visible_from` (sim
-- time): later than `recorded_at` when the record was not synchronised at once. Everyone born
-- before the run is known by rule (contracts/identity.py).
CREATE TABLE IF NOT EXISTS {s}.births (
    dossier_id   text PRIMARY KEY,
    personal_id  text NOT NULL,
    sex          text NOT NULL,
    birth_date   date NOT NULL,
    recorded_at  timestamptz NOT NULL,
    visible_from timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS births_personal_id ON {s}.births (personal_id);
