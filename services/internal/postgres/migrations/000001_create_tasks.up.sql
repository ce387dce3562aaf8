-- Tasks, listed in (created_at, id) order by keyset pagination: the two
-- indexes below make the first page and the ten-thousandth cost the same.
CREATE TABLE tasks (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    title       text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 10000),
    status      text        NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'doing', 'done')),
    due_date    date,
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX tasks_created_at_id_idx ON tasks (created_at, id);
CREATE INDEX tasks_status_created_at_id_idx ON tasks (status, created_at, id);
