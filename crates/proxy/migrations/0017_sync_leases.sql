-- Replicas sharing the store run one sync of a partner between them: the
-- process that starts a run holds it (`holder`: host, process ID and start
-- time) until `lease_expires_at`, and renews that while it runs. A run
-- still `running` past its lease was left by a process that died, and
-- another replica takes the partner's sync over. `phase` is the run's
-- progress as every replica shows it.
ALTER TABLE sync_runs ADD COLUMN holder TEXT;
ALTER TABLE sync_runs ADD COLUMN lease_expires_at TEXT;
ALTER TABLE sync_runs ADD COLUMN phase TEXT NOT NULL DEFAULT 'done';
CREATE INDEX sync_runs_running ON sync_runs (status) WHERE status = 'running';
