//! The proxy's `/api` shapes, read by the browser app and written by the
//! proxy: one definition, so the two cannot drift.

use serde::{Deserialize, Serialize};

/// Every `/api` error: a stable machine code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok` when every check passes, `degraded` otherwise.
    pub status: String,
    pub version: String,
    pub checks: Vec<HealthCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub name: String,
    pub ok: bool,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One row of `GET /api/customers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub relationship: String,
}

/// `GET /api/customers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerList {
    pub customers: Vec<CustomerRow>,
    /// When the list was last read from Partner Center (RFC 3339, UTC).
    pub synced_at: Option<String>,
}

/// How far a sync has come: counters the proxy updates as it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncCounts {
    pub customers_done: usize,
    pub customers_total: Option<usize>,
    pub line_items: usize,
    pub feeds_done: usize,
    pub feeds_total: Option<usize>,
    pub errors: usize,
}

/// `GET /api/sync` and each event of `GET /api/sync/events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    pub run_id: Option<i64>,
    /// `full` reads everything again; `incremental` skips invoices already read.
    pub kind: String,
    /// `idle`, `running`, `succeeded`, `failed` or `interrupted`.
    pub status: String,
    /// `customers`, then `usage`, then `done`.
    pub phase: String,
    #[serde(flatten)]
    pub counts: SyncCounts,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// An estimate while running.
    pub seconds_left: Option<u64>,
    pub error: Option<String>,
}
