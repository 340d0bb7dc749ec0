-- The supervisor's turn: a transaction-level try-lock on one fixed key, so that
-- of several API processes running the overdue round at once, one does it and
-- the others skip this turn without waiting. Released by the commit (or
-- rollback) of the transaction that took it; nothing to unlock by hand.
SELECT pg_try_advisory_xact_lock(7305192019) AS got;
