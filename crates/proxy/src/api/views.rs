//! `/api/views`: the signed-in person's saved Explorer views. Views are
//! personal, not the partner's settings: anyone of the partner's people may
//! keep their own, Billing admins included.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use model::saved_view::{MAX_VIEWS, NewSavedView, SavedView};

use super::extract::{ApiJson, Partner};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::SaveView;

/// `GET /api/views`.
pub async fn list(
    State(state): State<AppState>,
    partner: Partner,
) -> Result<Json<Vec<SavedView>>, ApiError> {
    let user = &partner.1.session.user_name;
    Ok(Json(state.store.saved_views(partner.id(), user).await?))
}

/// `POST /api/views`: saved under its name, replacing the person's view of
/// that name.
pub async fn save(
    State(state): State<AppState>,
    partner: Partner,
    ApiJson(view): ApiJson<NewSavedView>,
) -> Result<Json<SavedView>, ApiError> {
    let view = view.checked().map_err(ApiError::BadRequest)?;
    let user = &partner.1.session.user_name;
    match state.store.save_view(partner.id(), user, &view).await {
        Ok(saved) => Ok(Json(saved)),
        Err(SaveView::TooMany) => Err(ApiError::BadRequest(format!(
            "You keep {MAX_VIEWS} views already: delete one to save another."
        ))),
        Err(SaveView::Store(e)) => Err(e.into()),
    }
}

/// `DELETE /api/views/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    partner: Partner,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let missing = || ApiError::NotFound("You have no saved view with this ID.".into());
    let id: i64 = id.parse().map_err(|_| missing())?;
    let user = &partner.1.session.user_name;
    if state.store.delete_view(partner.id(), user, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(missing())
    }
}
