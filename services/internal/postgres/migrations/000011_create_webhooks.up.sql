-- Webhooks: who wants which task events, where, signed with which secret.
-- The secret is kept as issued: the notifier signs every delivery with it.
CREATE TABLE webhooks (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    url        text        NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    events     text[]      NOT NULL CHECK (cardinality(events) > 0),
    secret     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhooks_created_at_id_idx ON webhooks (created_at, id);

-- One delivery per (event, webhook), however often the fan-out runs: a
-- retried fan-out finds its rows already there. Deleting a webhook deletes
-- its deliveries; their jobs find it gone and cancel.
CREATE TABLE webhook_deliveries (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id      uuid        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    last_status     integer,
    next_attempt_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (event_id, webhook_id)
);

CREATE INDEX webhook_deliveries_webhook_created_at_id_idx ON webhook_deliveries (webhook_id, created_at, id);
