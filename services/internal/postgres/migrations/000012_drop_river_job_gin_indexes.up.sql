-- River indexes every job's args and metadata with GIN, so that jobs can be
-- searched by them (River UI's filters); nothing in Gantry searches them.
-- Each insert of a job and each change of its state writes an entry per
-- key and value into both: with them, PostgreSQL spent about a third more
-- CPU per webhook delivery (docs/benchmarks.md, "Webhooks"). River's
-- reindexer is told they are gone (postgres.RiverReindexed).
DROP INDEX river_job_args_index;
DROP INDEX river_job_metadata_index;
