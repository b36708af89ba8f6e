CREATE TABLE IF NOT EXISTS {s}.dossiers (
    dossier_id       text PRIMARY KEY,
    chain            text NOT NULL,
    channel          text NOT NULL,
    status           text NOT NULL,
    expected_results text[] NOT NULL,
    procedures       text[] NOT NULL,
    province         text NOT NULL,
    district         text,
    commune          text NOT NULL,
    fee_bearing      boolean NOT NULL,
    paid_online      boolean NOT NULL,
    return_by_post   boolean NOT NULL,
    submitted_at     timestamptz NOT NULL,
    closed_at        timestamptz,
    reason           text,
    trace_id         text NOT NULL,
    run_id           text,
    idempotency_key  text UNIQUE,
    data             jsonb NOT NULL,
    due_at           timestamptz NOT NULL,
    needs_verification boolean NOT NULL,
    subject_key      text NOT NULL
);
-- No districts from 1 July 2025: a database made before then drops the constraint.
ALTER TABLE {s}.dossiers ALTER COLUMN district DROP NOT NULL;
CREATE INDEX IF NOT EXISTS dossiers_subject ON {s}.dossiers (chain, subject_key);
CREATE INDEX IF NOT EXISTS dossiers_run ON {s}.dossiers (run_id, chain, status);
CREATE TABLE IF NOT EXISTS {s}.results (
    dossier_id  text NOT NULL REFERENCES {s}.dossiers (dossier_id),
    step        text NOT NULL,
    outcome     text NOT NULL,
    reason      text,
    result      jsonb NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (dossier_id, step)
);
CREATE TABLE IF NOT EXISTS {s}.timeline (
    event_id    uuid PRIMARY KEY,
    dossier_id  text NOT NULL,
    type        text NOT NULL,
    agency      text NOT NULL,
    step        text,
    occurred_at timestamptz NOT NULL,
    payload     jsonb NOT NULL,
    chain       text
);
-- The chain came later (a dossier an external producer submitted is known by its events only).
ALTER TABLE {s}.timeline ADD COLUMN IF NOT EXISTS chain text;
CREATE INDEX IF NOT EXISTS timeline_dossier ON {s}.timeline (dossier_id, occurred_at);
-- Accepting a dossier in one round trip (the portal's hot path; each statement sent is a
-- syscall and a protocol exchange for the single-threaded service): the duplicate check under a
-- per-subject lock, the dossier row and its outbox rows that go out at once. The caller wraps it
-- in a transaction only when faults add delayed rows or ground truth.
CREATE OR REPLACE FUNCTION {s}.accept_dossier(
    p_dossier_id text, p_chain text, p_channel text, p_expected text[], p_procedures text[],
    p_province text, p_district text, p_commune text, p_fee_bearing boolean, p_paid_online boolean,
    p_return_by_post boolean, p_submitted_at timestamptz, p_trace_id text, p_run_id text,
    p_idempotency_key text, p_data jsonb, p_due_at timestamptz, p_needs_verification boolean,
    p_subject_key text,
    o_event_id uuid[], o_dossier_id text[], o_topic text[], o_key bytea[], o_value bytea[],
    OUT outcome text, OUT existing_id text, OUT existing_status text
) LANGUAGE plpgsql AS $$
BEGIN
    -- Serialise submissions about the same subject, so two copies cannot both pass the check.
    PERFORM pg_advisory_xact_lock(hashtext(p_subject_key));
    SELECT d.dossier_id INTO existing_id FROM {s}.dossiers d
     WHERE d.chain = p_chain AND d.subject_key = p_subject_key
       AND (d.status = 'in_progress' OR (d.chain <> 'lltp' AND d.status = 'completed'))
       AND (p_idempotency_key IS NULL OR d.idempotency_key IS DISTINCT FROM p_idempotency_key)
     LIMIT 1;
    IF existing_id IS NOT NULL THEN
        outcome := 'duplicate';
        RETURN;
    END IF;
    INSERT INTO {s}.dossiers AS d (dossier_id, chain, channel, status, expected_results, procedures,
        province, district, commune, fee_bearing, paid_online, return_by_post, submitted_at, trace_id,
        run_id, idempotency_key, data, due_at, needs_verification, subject_key)
    VALUES (p_dossier_id, p_chain, p_channel, 'in_progress', p_expected, p_procedures, p_province,
        p_district, p_commune, p_fee_bearing, p_paid_online, p_return_by_post, p_submitted_at,
        p_trace_id, p_run_id, p_idempotency_key, p_data, p_due_at, p_needs_verification, p_subject_key)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING d.dossier_id INTO existing_id;
    IF existing_id IS NULL THEN
        -- The same Idempotency-Key again: answer with what the first request made.
        SELECT d.dossier_id, d.status INTO existing_id, existing_status
          FROM {s}.dossiers d WHERE d.idempotency_key = p_idempotency_key;
        outcome := 'replayed';
        RETURN;
    END IF;
    WITH queued AS (
        INSERT INTO {s}.outbox (event_id, dossier_id, topic, key, value)
        SELECT * FROM unnest(o_event_id, o_dossier_id, o_topic, o_key, o_value)
        ON CONFLICT (event_id, topic) DO NOTHING RETURNING id)
    INSERT INTO {s}.outbox_pending (id) SELECT id FROM queued;
    outcome := 'accepted';
    existing_id := NULL;
END $$;
-- Every read of a dossier's personal data in full (the operator token's holder): who asked, when.
CREATE TABLE IF NOT EXISTS {s}.personal_data_reads (
    id          bigserial PRIMARY KEY,
    read_at     timestamptz NOT NULL DEFAULT now(),
    dossier_id  text NOT NULL,
    path        text NOT NULL,
    operator    text,
    client      text
);
