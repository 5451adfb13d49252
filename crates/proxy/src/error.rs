//! The proxy's one error type at the HTTP edge: every failure becomes a
//! JSON body with a stable code (`model::api::ErrorCode`) and a sentence for
//! people; details stay in the logs. The engines (sync, reports) have their
//! own errors, converted here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use model::api::{ErrorBody, ErrorCode, ErrorDetail};

use crate::pc::PcError;
use crate::reports::ReportError;
use crate::sync::SyncError;

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
    /// A step the user asked for was refused for a reason they can act on;
    /// the code says which (and so the HTTP status).
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
    #[error(transparent)]
    Upstream(#[from] PcError),
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    /// A bug or a crashed task; the details are logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::Refused {
            code,
            message: message.into(),
        }
    }

    /// The stable code the SPA and scripts match on.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::NotConnected => ErrorCode::NotConnected,
            ApiError::NotSignedIn => ErrorCode::NotSignedIn,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::PartnerOnly => ErrorCode::PartnerOnly,
            ApiError::TrialEnded(_) => ErrorCode::TrialEnded,
            ApiError::Refused { code, .. } => *code,
            ApiError::Upstream(e) => match e {
                PcError::Throttled { .. } => ErrorCode::UpstreamThrottled,
                PcError::Auth { .. } | PcError::Unauthorized => ErrorCode::UpstreamAuthFailed,
                // A refusal with the service's own code: not "could not be reached".
                PcError::Fault { status, .. } if *status < 500 => ErrorCode::UpstreamRefused,
                _ => ErrorCode::UpstreamUnavailable,
            },
            ApiError::Store(_) => ErrorCode::StoreError,
            ApiError::Internal(_) => ErrorCode::InternalError,
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Upstream(e) => ApiError::Upstream(e),
            SyncError::Store(e) => ApiError::Store(e),
            SyncError::Internal(e) => ApiError::Internal(e),
            // Runs are started in the background and these end only runs:
            // no request waits on one.
            e @ (SyncError::Elsewhere | SyncError::LeaseLost) => ApiError::Internal(e.to_string()),
            SyncError::NothingRead(why) => ApiError::refused(
                ErrorCode::UpstreamUnavailable,
                format!("Nothing could be read from Partner Center: {why}"),
            ),
        }
    }
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Store(e) => ApiError::Store(e),
            ReportError::Encode(e) => ApiError::Internal(e.to_string()),
        }
    }
}

/// Each code's HTTP status: one table, so a code always comes with the
/// same status.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        NotFound => StatusCode::NOT_FOUND,
        BadRequest => StatusCode::BAD_REQUEST,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Timeout => StatusCode::REQUEST_TIMEOUT,
        NotConnected | NoApp => StatusCode::CONFLICT,
        NotSignedIn | SignInAgain | SigninRefused => StatusCode::UNAUTHORIZED,
        TooManySignIns | TooManyStreams => StatusCode::TOO_MANY_REQUESTS,
        Forbidden | PartnerOnly | NotInvited => StatusCode::FORBIDDEN,
        TrialEnded | ViewClosed => StatusCode::PAYMENT_REQUIRED,
        UpstreamThrottled => StatusCode::SERVICE_UNAVAILABLE,
        UpstreamAuthFailed | UpstreamUnavailable | UpstreamRefused | GraphUnavailable
        | GraphRefused | SigninUnavailable => StatusCode::BAD_GATEWAY,
        AppNotFound | AppNotRegistered | AppRefused | KeyExpired | KeyRevoked | KeyWrong
        | NoServicePrincipal | PermissionMissing | ConsentNeeded | KeyNeeded => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        CannotGrantConsent => StatusCode::FORBIDDEN,
        MfaRequired => StatusCode::UNAUTHORIZED,
        StoreError | InternalError | HttpError | Unknown => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The JSON error body with its status.
pub fn error_response(code: ErrorCode, message: impl Into<String>) -> Response {
    (
        status_of(code),
        Json(ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
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
                match e {
                    PcError::Fault {
                        service,
                        status,
                        code,
                        description,
                    } if *status < 500 => format!(
                        "{service} refused the request (HTTP {status}, code {code}): {description}"
                    ),
                    PcError::BadResponse(why) => {
                        format!("The upstream's answer could not be read: {why}")
                    }
                    other => format!("The upstream could not be reached: {other}"),
                }
            }
            other => other.to_string(),
        };
        error_response(code, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_status_that_is_an_error() {
        for code in ErrorCode::ALL {
            let status = status_of(*code);
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code}: {status}"
            );
        }
        assert_eq!(
            status_of(ErrorCode::KeyWrong),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
