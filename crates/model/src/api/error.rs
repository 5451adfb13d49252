//! Every `/api` error's shape and its stable codes, one table for serde,
//! the wire names and the list of codes.

use serde::{Deserialize, Serialize};

/// Every `/api` error: a stable machine code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

/// Declares [`ErrorCode`] with each code's wire name once: serde, `as_str`
/// and the list of every code all come from the same table, so renaming a
/// code breaks the build (and the tests), not a page.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident = $wire:literal,)*) => {
        /// The stable codes of `/api` errors (`docs/api.md`). A code this
        /// build does not know (a newer proxy) decodes as `Unknown`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $wire)] $name,)*
            /// A code this build does not know.
            #[serde(other, rename = "unknown")]
            Unknown,
        }

        impl ErrorCode {
            /// Every code but `Unknown`.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $wire,)*
                    ErrorCode::Unknown => "unknown",
                }
            }

            /// A wire name, as serde reads it (`Unknown` for one this
            /// build does not know).
            pub fn parse(wire: &str) -> ErrorCode {
                match wire {
                    $($wire => ErrorCode::$name,)*
                    _ => ErrorCode::Unknown,
                }
            }
        }
    };
}

error_codes! {
    NotFound = "not_found",
    BadRequest = "bad_request",
    MethodNotAllowed = "method_not_allowed",
    UnsupportedMediaType = "unsupported_media_type",
    BodyTooLarge = "body_too_large",
    Timeout = "timeout",
    /// The proxy answered without its JSON error body (seen by the browser only).
    HttpError = "http_error",
    NotConnected = "not_connected",
    NotSignedIn = "not_signed_in",
    TooManySignIns = "too_many_sign_ins",
    /// A session holds as many sync event streams open as it may.
    TooManyStreams = "too_many_streams",
    Forbidden = "forbidden",
    PartnerOnly = "partner_only",
    TrialEnded = "trial_ended",
    ViewClosed = "view_closed",
    NotInvited = "not_invited",
    UpstreamThrottled = "upstream_throttled",
    UpstreamAuthFailed = "upstream_auth_failed",
    UpstreamUnavailable = "upstream_unavailable",
    /// Partner Center (or Graph) refused the request: its code and reason are in the message.
    UpstreamRefused = "upstream_refused",
    StoreError = "store_error",
    InternalError = "internal_error",
    GraphUnavailable = "graph_unavailable",
    GraphRefused = "graph_refused",
    SignInAgain = "sign_in_again",
    SigninRefused = "signin_refused",
    SigninUnavailable = "signin_unavailable",
    NoApp = "no_app",
    AppNotFound = "app_not_found",
    AppNotRegistered = "app_not_registered",
    /// Entra ID refused the app's credentials for another reason it gave.
    AppRefused = "app_refused",
    KeyExpired = "key_expired",
    KeyRevoked = "key_revoked",
    KeyWrong = "key_wrong",
    /// The app has no service principal in the partner's tenant (AADSTS7000229).
    NoServicePrincipal = "no_service_principal",
    /// The billing permission is not declared, or its token lacks it.
    PermissionMissing = "permission_missing",
    /// Nobody has consented to the billing permission yet, or consent was refused.
    ConsentNeeded = "consent_needed",
    /// The signed-in admin may not grant an application permission.
    CannotGrantConsent = "cannot_grant_consent",
    /// A delegated Partner Center call was refused for want of MFA (900421).
    MfaRequired = "mfa_required",
    /// The key's value is needed (the proxy no longer holds the new one).
    KeyNeeded = "key_needed",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tests and scripts compare a code with its wire name.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
