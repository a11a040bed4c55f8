-- cloudron-audit archive, schema version 14.
--
-- Each full `verify` of the archive, recorded when the file is writable (Sources/Archiver/
-- RecordedVerification.swift), so that `report --all` can check only what was archived since the newest
-- intact one instead of the whole archive again. Not evidence and not in the hash chain: a cache of a check
-- anyone can rerun (`verify`, `report --all --full-verify`); a forged row can at most make an incremental
-- check start later, which a bundle's manifest names.
-- IF NOT EXISTS: an archive brought back to an earlier schema by hand (as the upgrade tests do) keeps it.
CREATE TABLE IF NOT EXISTS verifications (
    id              INTEGER PRIMARY KEY,
    checked_at      INTEGER NOT NULL,                  -- epoch seconds, when the check finished
    chain_length    INTEGER NOT NULL,                  -- chain records it covered (1 ... chain_length)
    chain_head      BLOB NOT NULL,                     -- the link of record chain_length (32 zero bytes when 0)
    intact          INTEGER NOT NULL CHECK (intact IN (0, 1)),
    problems        INTEGER NOT NULL,
    checks          TEXT NOT NULL,                     -- the checks that ran, comma-separated (VerificationReport.Problem.Check)
    not_run         TEXT NOT NULL                      -- JSON array: the checks that could not run, and why
);
