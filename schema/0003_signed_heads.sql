-- cloudron-audit archive, schema version 3.
--
-- A run synced with --sign-key stores the chain head it ended with as a signed statement: the exact
-- text signed (compact JSON: instance, run, chain length and head, time, public key) and its Ed25519
-- signature. `verify --public-key` checks both against the run's row and the chain.
ALTER TABLE sync_runs ADD COLUMN head_statement TEXT;
ALTER TABLE sync_runs ADD COLUMN head_signature BLOB;
