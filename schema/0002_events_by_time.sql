-- cloudron-audit archive, schema version 2.
--
-- Listing events across every server of an archive orders by (creation_epoch, id); the index of 0001
-- starts with instance_id, so without this one `events --limit 50` sorted the whole table (≈ 0.4 s at
-- a million events). Ties on the second are broken by id, as the listings do.
CREATE INDEX events_by_creation ON events(creation_epoch, id);
