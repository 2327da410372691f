"""Hand-written SQL, one module per table or concern, each statement behind a typed,
keyword-only function that takes a `Session` (or `Connection`) and plain values and returns
plain rows or values. Services call these functions and never hold SQL text themselves.

Most of the service layer goes through the ORM; a statement lives here when it is written by
hand, and each module's docstring says why (mostly measured cost on recall's path, see
bench/README.md; otherwise a database feature the ORM does not express):

* `notes`: recall's candidate rows and the speaker filter (no ORM instances, no per-value
  result processing, keys as one parameter);
* `fulltext`: SQLite FTS5 `bm25()` and PostgreSQL `ts_rank_cd` matches;
* `links`: the links touching given notes, for link expansion (as `notes`);
* `conversations`: the neighbour stage's seeks for the units next to a seed;
* `locks`: PostgreSQL advisory locks (the decay sweep's one-sweeper-per-database lock);
* `health`: the readiness probe's `SELECT 1`."""
