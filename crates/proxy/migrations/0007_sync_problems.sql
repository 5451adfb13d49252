-- What a sync could not read, item by item (a JSON list of model::api::SyncProblem).
ALTER TABLE sync_runs ADD COLUMN problems TEXT NOT NULL DEFAULT '[]';
