-- Placeholder until the archive schema lands.
SELECT 1;
