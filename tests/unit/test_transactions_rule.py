"""Which statements open a transaction on PostgreSQL (clinic.core.transactions): every
statement but a plain read. A read that locks rows or moves a sequence opens one too, or
its lock would end with the statement. (A doubt, such as those words inside a quoted
value, opens one: the safe side. The app's values are bound parameters anyway.)"""

from __future__ import annotations

import pytest

from clinic.core.transactions import needs_transaction


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT users.id FROM users WHERE users.id = %(id)s",
        "  select 1",
        "(SELECT a.id FROM a) UNION (SELECT b.id FROM b)",
        "SELECT patients.id FROM patients ORDER BY patients.full_name",
        # A column whose name holds the words, without the space between them.
        "SELECT t.for_update FROM t",
    ],
)
def test_plain_reads_run_outside_a_transaction(statement: str) -> None:
    """Plain SELECTs need no transaction (each statement has its own snapshot anyway)."""
    assert not needs_transaction(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO audit_events (action) VALUES (%(action)s)",
        "UPDATE patient_summaries SET version = version + 1 RETURNING id",
        "DELETE FROM sessions WHERE id = %(id)s",
        "WITH moved AS (UPDATE t SET a = 1 RETURNING id) SELECT id FROM moved",
        "SAVEPOINT sa_savepoint_1",
        "SET LOCAL lock_timeout = '5s'",
        "SELECT patients.id FROM patients WHERE patients.id = %(id)s FOR UPDATE",
        "SELECT s.id FROM s FOR NO KEY UPDATE",
        "SELECT s.id FROM s FOR UPDATE OF s SKIP LOCKED",
        "SELECT s.id FROM s\nFOR   SHARE",
        "SELECT s.id FROM s FOR KEY SHARE",
        "SELECT pg_advisory_xact_lock(42)",
        "SELECT pg_try_advisory_xact_lock(42)",
        "SELECT set_config('app.x', '1', true)",
        "SELECT pg_notify('c', 'x')",
        "SELECT txid_current()",
        "SELECT * INTO copy_of_t FROM t",
        "SELECT nextval('patients_id_seq')",
        "select setval('t_id_seq', 10)",
    ],
)
def test_writes_locks_and_sequences_open_a_transaction(statement: str) -> None:
    """Anything but a plain read, and reads that lock or change something, begin one."""
    assert needs_transaction(statement)
