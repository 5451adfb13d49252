//! The one typed client of the proxy's `/api`.

use gloo_net::http::{Request, Response};
use model::api::{CustomerList, ErrorBody};
use serde::de::DeserializeOwned;

/// What can go wrong talking to the proxy, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("The proxy could not be reached: {0}")]
    Network(String),
    /// The proxy's JSON error, with its stable code.
    #[error("{message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error("The proxy's answer could not be read: {0}")]
    Decode(String),
}

/// Relative to the document's `<base>`, so the app also works under a sub-path.
fn url(path: &str) -> String {
    format!("api/{path}")
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if response.ok() {
        return response
            .json::<T>()
            .await
            .map_err(|e| ApiError::Decode(e.to_string()));
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiError::Api {
            status,
            code: body.error.code,
            message: body.error.message,
        }),
        Err(_) => Err(ApiError::Api {
            status,
            code: "http_error".into(),
            message: format!("The proxy answered HTTP {status}."),
        }),
    }
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = Request::get(&url(path))
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    read(response).await
}

pub async fn customers() -> Result<CustomerList, ApiError> {
    get("customers").await
}
