//! The proxy's one error type: every failure becomes a JSON body with a
//! stable code and a sentence for people; details stay in the logs.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use model::api::{ErrorBody, ErrorDetail};

use crate::pc::PcError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("no Partner Center connection is set up yet: finish the onboarding first")]
    NotConnected,
    #[error("sign in first")]
    NotSignedIn,
    #[error("{0}")]
    Forbidden(String),
    /// A customer user's session asked for the partner's data.
    #[error("this sign-in shows one customer's own costs; the partner's pages are not open to it")]
    PartnerOnly,
    #[error(
        "the 30-day trial ended on {0}; ask the product's operator to activate the subscription"
    )]
    TrialEnded(String),
    /// A step the user asked for was refused for a reason they can act on.
    #[error("{message}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error(transparent)]
    Upstream(#[from] PcError),
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    /// A bug or a crashed task; the details are logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The status and the stable code the SPA and scripts can match on.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotConnected => (StatusCode::CONFLICT, "not_connected"),
            ApiError::NotSignedIn => (StatusCode::UNAUTHORIZED, "not_signed_in"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::PartnerOnly => (StatusCode::FORBIDDEN, "partner_only"),
            ApiError::TrialEnded(_) => (StatusCode::PAYMENT_REQUIRED, "trial_ended"),
            ApiError::Refused { status, code, .. } => (*status, code),
            ApiError::Upstream(e) => match e {
                PcError::Throttled { .. } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "upstream_throttled")
                }
                PcError::Auth { .. } | PcError::Unauthorized => {
                    (StatusCode::BAD_GATEWAY, "upstream_auth_failed")
                }
                _ => (StatusCode::BAD_GATEWAY, "upstream_unavailable"),
            },
            ApiError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "store_error"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            // Internal details go to the log, not to the browser.
            ApiError::Store(e) => {
                tracing::error!(error = %e, "store error");
                "The proxy's store failed; the details are in its log.".to_string()
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                "Something went wrong in the proxy; the details are in its log.".to_string()
            }
            ApiError::Upstream(e) => {
                tracing::warn!(error = %e, "upstream error");
                format!("Partner Center could not be reached: {e}")
            }
            other => other.to_string(),
        };
        (
            status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: code.to_string(),
                    message,
                },
            }),
        )
            .into_response()
    }
}

/// JSON 404 for unknown `/api` routes, so API clients never get the SPA.
pub async fn api_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("There is no API route {}.", uri.path()))
}
