//! The views' figures: the overview, a scope's cube for the pivot, its
//! line items page by page, and price and margin.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use model::api::{LineItemPage, LineItemRow};
use model::cube::{CUBE_MEDIA_TYPE, Cube, Dim};
use model::margin::MarginReport;

use super::customers::json_body;
use super::extract::{ApiQuery, Partner, ScopeQuery, parse_count, scope};
use crate::error::ApiError;
use crate::reports;
use crate::state::AppState;

/// `GET /api/overview`: every customer at once.
pub async fn overview(
    State(state): State<AppState>,
    partner: Partner,
) -> Result<Response, ApiError> {
    let kept = reports::kept(&state.store, partner.id()).await?;
    Ok(json_body(kept.overview_json.clone()))
}

/// `GET /api/usage`: the scope's line items as a cube, for pivoting in the
/// browser. Past the proxy's `--cube-line-items` they are summed to a row
/// per day and value of `keep`'s dimensions (comma-separated; by default
/// the customer) and the currency. One customer's scope is the drill-down:
/// always its line items.
pub async fn usage(
    State(state): State<AppState>,
    partner: Partner,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Response, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let keep = kept_dimensions(q.rest.get("keep").map(String::as_str))?;
    let _turn = state.web.heavy_reads.turn(partner.id().0).await;
    let limit = match scope.customer {
        Some(_) => usize::MAX,
        None => state.web.cube_line_items,
    };
    let cube = state.store.cube(partner.id(), &scope, limit, &keep).await?;
    Ok(cube_answer(&headers, cube))
}

/// The `keep` parameter: dimension names, as the Explorer's URL has them.
fn kept_dimensions(text: Option<&str>) -> Result<Vec<Dim>, ApiError> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(vec![Dim::Customer]);
    };
    // A view groups by two and filters by a few; the cube's bytes name at
    // most 255.
    if text.split(',').count() > 32 {
        return Err(ApiError::BadRequest("keep: at most 32 dimensions.".into()));
    }
    text.split(',')
        .map(|name| {
            Dim::parse(name.trim()).ok_or_else(|| {
                let known: Vec<String> = model::cube::STORED.iter().map(Dim::name).collect();
                ApiError::BadRequest(format!(
                    "keep: “{}” is no dimension; one of {}, or tag:<key>.",
                    name.trim(),
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// A cube as the client asks for it: compact bytes
/// ([`CUBE_MEDIA_TYPE`], what the app asks for) or JSON (scripts).
pub(super) fn cube_answer(headers: &HeaderMap, cube: Cube) -> Response {
    let binary = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim().starts_with(CUBE_MEDIA_TYPE)));
    let mut response = if binary {
        ([(header::CONTENT_TYPE, CUBE_MEDIA_TYPE)], cube.to_bytes()).into_response()
    } else {
        Json(cube).into_response()
    };
    // Caches keep the two answers apart.
    response
        .headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    response
}

/// `GET /api/line-items`: a page of the scope's line items.
pub async fn line_items(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Json<LineItemPage>, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let offset = parse_count("offset", q.offset.as_deref(), 0, usize::MAX / 2)?;
    let limit = parse_count("limit", q.limit.as_deref(), 500, 5_000)?.max(1);
    // One more than asked tells whether another page follows.
    let mut rows = state
        .store
        .line_items(partner.id(), &scope, limit as i64 + 1, offset as i64)
        .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok(Json(LineItemPage {
        items: rows
            .into_iter()
            .map(|(line, customer_price)| LineItemRow {
                list_cost: line.list_total().micros(),
                line,
                customer_price,
            })
            .collect(),
        offset,
        limit,
        next_offset: more.then_some(offset + limit),
    }))
}

/// `GET /api/margin`: price and margin over a range (this month to date by
/// default), compared with the previous period; PEC applied and lost per
/// line. Read twice, a page at a time (the credit of a line depends on
/// every line of both periods): memory holds the groups, not the lines.
pub async fn margin(
    State(state): State<AppState>,
    partner: Partner,
    ApiQuery(q): ApiQuery<ScopeQuery>,
) -> Result<Json<MarginReport>, ApiError> {
    let scope = scope(&state, partner.id(), &q).await?;
    let _turn = state.web.heavy_reads.turn(partner.id().0).await;
    Ok(Json(
        reports::margin_report(&state.store, partner.id(), &scope).await?,
    ))
}
