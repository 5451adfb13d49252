//! Microsoft Graph's partner billing reconciliation export (API v2), as
//! `shared/reference/graph-billing-v2.md` documents it: an export request
//! answered `202` with a `Location`, an operation polled until it
//! succeeds (or fails, `5000` meaning no data), a manifest naming gzip JSON
//! Lines files on blob storage, and the usage lines in those files
//! (`attributeSet: full`, PascalCase). Everything is read leniently: any
//! field may be missing or null, numbers come as numbers or text, dates in
//! several forms, unknown fields are ignored.

use serde::{Deserialize, Serialize};

use crate::lenient;

mod line;

pub use line::{Text, UsageLine, read_line};

/// Graph's well-known app ID (the resource of `PartnerBilling.Read.All`).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// The application permission the exports need.
pub const PARTNER_BILLING_READ_ALL: &str = "7c3e1994-38ff-4412-a99b-9369f6bb7706";
/// The scope of an app-only Graph token.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// `POST /reports/partners/billing/usage/unbilled/export`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnbilledExport {
    pub currency_code: String,
    /// `current` or `last` (not v1's `previous`).
    pub billing_period: String,
    pub attribute_set: String,
}

/// `POST /reports/partners/billing/usage/billed/export`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BilledExport {
    pub invoice_id: String,
    pub attribute_set: String,
}

/// Graph's error envelope: branch on `code`, never on `message`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ErrorEnvelope {
    pub error: PublicError,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PublicError {
    #[serde(deserialize_with = "lenient::string")]
    pub code: String,
    #[serde(deserialize_with = "lenient::string")]
    pub message: String,
}

/// Where an export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationState {
    Running,
    Succeeded,
    Failed,
}

/// `GET /reports/partners/billing/operations/{id}`: always `200`; the body
/// says the state.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Operation {
    #[serde(rename = "@odata.type", deserialize_with = "lenient::string")]
    pub odata_type: String,
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub status: String,
    /// The documented shape: a link to the manifest.
    #[serde(
        rename = "resourceLocation@odata.navigationLink",
        deserialize_with = "lenient::opt_string"
    )]
    pub manifest_link: Option<String>,
    /// The shape seen in 2024 clients and Microsoft's sample: the manifest inline.
    #[serde(rename = "resourceLocation")]
    pub manifest: Option<Manifest>,
    pub error: Option<PublicError>,
}

impl Operation {
    /// Decided by the type first, then the status in any case (`succeeded`
    /// in every example, `completed` in one resource page).
    pub fn state(&self) -> OperationState {
        let kind = self.odata_type.to_ascii_lowercase();
        if kind.ends_with("exportsuccessoperation") {
            return OperationState::Succeeded;
        }
        if kind.ends_with("failedoperation") {
            return OperationState::Failed;
        }
        match self.status.to_ascii_lowercase().as_str() {
            "succeeded" | "completed" => OperationState::Succeeded,
            "failed" => OperationState::Failed,
            _ => OperationState::Running,
        }
    }

    /// A failure that means "this scope has no rows" (code 5000, "No data
    /// available"): an empty export, not an error.
    pub fn no_data(&self) -> bool {
        self.error.as_ref().is_some_and(|e| e.code.trim() == "5000")
    }
}

/// `GET /reports/partners/billing/manifests/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Manifest {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub schema_version: String,
    #[serde(deserialize_with = "lenient::string")]
    pub data_format: String,
    /// "Any change in eTag indicates a new data version."
    #[serde(rename = "eTag", deserialize_with = "lenient::string")]
    pub etag: String,
    #[serde(deserialize_with = "lenient::string")]
    pub partner_tenant_id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub root_directory: String,
    #[serde(deserialize_with = "lenient::string")]
    pub sas_token: String,
    #[serde(deserialize_with = "lenient::integer")]
    pub blob_count: i64,
    #[serde(deserialize_with = "lenient::list")]
    pub blobs: Vec<ManifestBlob>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ManifestBlob {
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(deserialize_with = "lenient::string")]
    pub partition_value: String,
}

impl Manifest {
    /// A blob's address: `{rootDirectory}/{name}?{sasToken}`.
    pub fn blob_url(&self, blob: &ManifestBlob) -> String {
        let sas = self.sas_token.trim_start_matches('?');
        format!(
            "{}/{}?{}",
            self.root_directory.trim_end_matches('/'),
            blob.name.trim_start_matches('/'),
            sas
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_read_by_type_then_status_in_any_case() {
        let op = |json: &str| serde_json::from_str::<Operation>(json).unwrap();
        let running = op(
            r##"{"@odata.type":"#microsoft.graph.partners.billing.runningOperation","id":"6f","status":"running","createdDateTime":"2023-03-09T08:12:53"}"##,
        );
        assert_eq!(running.state(), OperationState::Running);
        let done = op(
            r##"{"@odata.type":"#microsoft.graph.partners.billing.exportSuccessOperation","status":"succeeded","resourceLocation@odata.navigationLink":"https://graph.microsoft.com/v1.0/reports/partners/billing/manifests/8f"}"##,
        );
        assert_eq!(done.state(), OperationState::Succeeded);
        assert!(done.manifest_link.unwrap().ends_with("/manifests/8f"));
        assert_eq!(
            op(r##"{"status":"Completed"}"##).state(),
            OperationState::Succeeded
        );
        let inline = op(
            r##"{"status":"SUCCEEDED","resourceLocation":{"rootDirectory":"https://x/y","sasToken":"se=1","blobs":[{"name":"a.json.gz"}]}}"##,
        );
        let m = inline.manifest.unwrap();
        assert_eq!(m.blob_url(&m.blobs[0]), "https://x/y/a.json.gz?se=1");
        let none = op(
            r##"{"@odata.type":"#microsoft.graph.partners.billing.failedOperation","status":"failed","error":{"message":"No data available","code":"5000"}}"##,
        );
        assert_eq!(none.state(), OperationState::Failed);
        assert!(none.no_data());
        let failed = op(r##"{"status":"failed","error":{"code":5001,"message":"x"}}"##);
        assert!(!failed.no_data());
    }
}
