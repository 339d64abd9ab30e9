"""PostgreSQL: claim and event-writing functions, one round trip each

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 05:40:00

A claim used to be five statements (advisory lock, running counts, clock, candidates, the
UPDATE) and writing a transaction's events three (ordering lock, INSERT, NOTIFY). At about
0.3 ms per round trip here that was most of the ~7 ms a finishing task spent between its
handler returning and the next task starting, and it capped several workers at 0.86 of
the limit's bound. ``schoolx_claim`` runs the same policy as the SQLite path in
``models/queue_sqlite.py``: the claim lock, the global and per-user limits, fairness
(fewest running per user first, then oldest), giving up on tasks out of attempts, and
``FOR UPDATE SKIP LOCKED``.
SQLite gets nothing here; its claim runs in Python under ``BEGIN IMMEDIATE``.

The claim policy is thus written in two languages. Change both together:
tests/integration/test_queue.py::test_claim_policy_is_the_same_on_both_databases runs
the same claims on both databases and expects the same tasks in the same order.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CLAIM = r"""
CREATE OR REPLACE FUNCTION schoolx_claim(
    p_lock_key bigint, p_worker text, p_want integer, p_max integer, p_per_user integer,
    p_lease_s double precision
) RETURNS SETOF tasks LANGUAGE plpgsql AS $$
-- Rows come back in claim order: taken tasks with status 'processing', tasks that ran
-- out of attempts with status 'failed'.
DECLARE
    v_now timestamp;
    v_total integer;
    v_running jsonb;
    v_chosen integer[] := '{}';
    v_cand record;
    v_user_running integer;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock_key);
    -- After the lock, so this statement's snapshot sees every earlier claim's commit.
    v_now := timezone('utc', now());
    SELECT coalesce(jsonb_object_agg(r.user_id, r.n), '{}'::jsonb), coalesce(sum(r.n), 0)
      INTO v_running, v_total
      FROM (SELECT t.user_id, count(*) AS n FROM tasks t
            WHERE t.status = 'processing' GROUP BY t.user_id) r;
    IF least(p_want, p_max - v_total) <= 0 THEN
        RETURN;
    END IF;
    FOR v_cand IN
        -- Up to p_per_user oldest ready tasks of every user, numbered within the user.
        SELECT c.id, c.user_id, c.attempts, c.max_attempts, c.error, c.rn
          FROM (SELECT t.id, t.user_id, t.attempts, t.max_attempts, t.error,
                       row_number() OVER (PARTITION BY t.user_id ORDER BY t.id) AS rn
                  FROM tasks t
                 WHERE t.status = 'pending' AND (t.run_after IS NULL OR t.run_after <= v_now)
               ) c
         WHERE c.rn <= p_per_user
         ORDER BY coalesce((v_running ->> c.user_id)::integer, 0) + c.rn, c.id
    LOOP
        EXIT WHEN cardinality(v_chosen) >= least(p_want, p_max - v_total);
        v_user_running := coalesce((v_running ->> v_cand.user_id)::integer, 0);
        CONTINUE WHEN v_user_running >= p_per_user;
        IF v_cand.attempts >= v_cand.max_attempts THEN
            RETURN QUERY
                WITH failed AS (
                    UPDATE tasks t
                       SET status = 'failed', completed_at = v_now,
                           error = 'gave up after ' || v_cand.attempts || ' attempts'
                                   || coalesce('; last error: ' || nullif(v_cand.error, ''), '')
                     WHERE t.id = v_cand.id AND t.status = 'pending'
                 RETURNING t.*
                )
                SELECT failed.* FROM failed;
            CONTINUE;
        END IF;
        v_running := jsonb_set(v_running, ARRAY[v_cand.user_id], to_jsonb(v_user_running + 1));
        v_chosen := v_chosen || v_cand.id;
    END LOOP;
    RETURN QUERY
        WITH taken AS (
            UPDATE tasks t
               SET status = 'processing', owner = p_worker, attempts = t.attempts + 1,
                   lease_expires_at = v_now + make_interval(secs => p_lease_s),
                   run_after = NULL, started_at = coalesce(t.started_at, v_now)
             WHERE t.id IN (SELECT l.id FROM tasks l
                             WHERE l.id = ANY (v_chosen) AND l.status = 'pending'
                               FOR UPDATE SKIP LOCKED)
         RETURNING t.*
        )
        SELECT taken.* FROM taken
          JOIN unnest(v_chosen) WITH ORDINALITY AS c(id, ord) ON c.id = taken.id
         ORDER BY c.ord;
END
$$;
"""

EMIT = r"""
CREATE OR REPLACE FUNCTION schoolx_emit(
    p_lock_key bigint, p_channel text, p_task_ids integer[], p_user_ids text[],
    p_types text[], p_data text[], p_created timestamp[], p_notes text[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(p_task_ids) > 0 THEN
        -- Event ids come from a sequence at insert time; the lock, held to the commit,
        -- makes ids commit in order so a reader of "id > last seen" never skips one.
        PERFORM pg_advisory_xact_lock(p_lock_key);
        INSERT INTO task_events (task_id, user_id, type, data, created_at)
        SELECT e.task_id, e.user_id, e.type, e.data::json, e.created_at
          FROM unnest(p_task_ids, p_user_ids, p_types, p_data, p_created)
               WITH ORDINALITY AS e(task_id, user_id, type, data, created_at, ord)
         ORDER BY e.ord;
    END IF;
    PERFORM pg_notify(p_channel, n) FROM unnest(p_notes) AS n;
END
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CLAIM)
    op.execute(EMIT)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS schoolx_emit")
    op.execute("DROP FUNCTION IF EXISTS schoolx_claim")

