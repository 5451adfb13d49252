//! Who the signed-in user is in the directory: memberships (direct and
//! transitive, with type casts) in Graph's limited information unless the
//! token may read them, and groups by a `displayName` filter.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use model::Guid;
use serde_json::{Value, json};

use super::{GraphError, ListQuery, READ_GROUPS, READ_ROLES, SignedIn, bad, paged};
use crate::Emulator;
use crate::world::Role;

/// The signed-in user's memberships as Graph lists them: directory roles
/// (a tenant-specific `id`; `roleTemplateId` and names only with a scope to
/// read roles) and groups (names only with a scope to read groups). With
/// only `User.Read`, each is its `@odata.type` and `id`, as Graph's limited
/// information is. `transitive` adds the groups that groups belong to.
pub(super) fn memberships(
    emulator: &Emulator,
    who: &SignedIn,
    transitive: bool,
    cast: Option<&str>,
) -> Vec<Value> {
    let p = &emulator.world.partners[who.partner];
    let mut out = Vec::new();
    if cast.is_none_or(|c| c == "microsoft.graph.directoryRole") {
        for role in who.roles(emulator) {
            let Some(template) = role.template_id() else {
                continue;
            };
            let mut v = json!({
                "@odata.type": "#microsoft.graph.directoryRole",
                // Tenant-specific, unlike the template id.
                "id": Guid::from_seed(emulator.world.seed ^ who.partner as u64, 68_000 + u64::from(*role == Role::BillingAdmin)).to_string()
            });
            if who.token.has_scope(&READ_ROLES) {
                v["roleTemplateId"] = json!(template);
                v["displayName"] = json!(match role {
                    Role::GlobalAdmin => "Global Administrator",
                    _ => "Billing Administrator",
                });
            }
            out.push(v);
        }
    }
    if cast.is_none_or(|c| c == "microsoft.graph.group") {
        let mut groups: Vec<usize> = p
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.members.contains(&who.user))
            .map(|(i, _)| i)
            .collect();
        if transitive {
            let mut i = 0;
            while i < groups.len() {
                for parent in &p.groups[groups[i]].parents {
                    if !groups.contains(parent) {
                        groups.push(*parent);
                    }
                }
                i += 1;
            }
            groups.sort_unstable();
        }
        for g in groups {
            let g = &p.groups[g];
            let mut v = json!({ "@odata.type": "#microsoft.graph.group", "id": g.id.to_string() });
            if who.token.has_scope(&READ_GROUPS) {
                v["displayName"] = json!(g.display_name);
                v["securityEnabled"] = json!(true);
                v["mailEnabled"] = json!(false);
            }
            out.push(v);
        }
    }
    out
}

pub(super) fn cast_of(cast: &str) -> Result<&str, GraphError> {
    match cast {
        "microsoft.graph.group" | "microsoft.graph.directoryRole" => Ok(cast),
        other => Err(bad(format!("Unknown type cast '{other}'."))),
    }
}

/// `/me/memberOf` or `/me/transitiveMemberOf`, whichever `relation` names.
pub(super) fn relation_of(relation: &str) -> Result<bool, GraphError> {
    match relation {
        "memberOf" => Ok(false),
        "transitiveMemberOf" => Ok(true),
        other => Err(GraphError(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Resource not found for the segment '{other}'."),
        )),
    }
}

pub(super) async fn member_of(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    who: SignedIn,
    Path(relation): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, GraphError> {
    let items = memberships(&emulator, &who, relation_of(&relation)?, None);
    paged(&headers, &format!("/v1.0/me/{relation}"), &q, items)
}

pub(super) async fn member_of_cast(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    who: SignedIn,
    Path((relation, cast)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, GraphError> {
    let cast = cast_of(&cast)?;
    let items = memberships(&emulator, &who, relation_of(&relation)?, Some(cast));
    paged(&headers, &format!("/v1.0/me/{relation}/{cast}"), &q, items)
}

pub(super) fn group_json(g: &crate::world::Group) -> Value {
    json!({
        "id": g.id.to_string(),
        "displayName": g.display_name,
        "securityEnabled": true,
        "mailEnabled": false,
        "groupTypes": []
    })
}

/// `GET /groups`, with the one `$filter` form the proxy needs
/// (`displayName eq '...'`); needs a scope to read groups.
pub(super) async fn list_groups(
    State(emulator): State<Emulator>,
    headers: HeaderMap,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, GraphError> {
    who.require(&READ_GROUPS)?;
    let p = &emulator.world.partners[who.partner];
    let wanted = match q.filter.as_deref() {
        None => None,
        Some(f) => Some(
            f.trim()
                .strip_prefix("displayName eq '")
                .and_then(|r| r.strip_suffix('\''))
                .map(|n| n.replace("''", "'"))
                .ok_or_else(|| bad(format!("Unsupported filter: {f}")))?,
        ),
    };
    let items = p
        .groups
        .iter()
        .filter(|g| wanted.as_deref().is_none_or(|n| g.display_name == n))
        .map(group_json)
        .collect();
    paged(&headers, "/v1.0/groups", &q, items)
}

pub(super) async fn get_group(
    State(emulator): State<Emulator>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Value>, GraphError> {
    who.require(&READ_GROUPS)?;
    emulator.world.partners[who.partner]
        .groups
        .iter()
        .find(|g| g.id.to_string().eq_ignore_ascii_case(&id))
        .map(|g| Json(group_json(g)))
        .ok_or_else(|| {
            GraphError(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
            )
        })
}
