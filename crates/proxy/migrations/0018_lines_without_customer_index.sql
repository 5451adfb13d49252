-- An export arrives in its own order (Graph's, day by day in the
-- emulator), and an index keyed by customer first took each line at a
-- random place in it: every commit of a sync's batch wrote most of the
-- index's pages again (7 GB written to keep a 1 GB store; 108,000 rows/s
-- against 167,000 without it, `cargo xtask bench`'s ingest row). Reads by
-- customer go through the index by day (line_items_by_date), whose new
-- entries always land at the end of their day, in whatever order lines
-- come; only a markup change for one customer read it, and it now reads
-- the partner's lines by day.
DROP INDEX line_items_by_customer;
