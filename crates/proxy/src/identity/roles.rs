//! A person's Partner Center roles as Entra gives them: directory roles by
//! template id, agent roles by the agent groups' stored object ids.

use model::onboarding::{self, Role};

use super::{Claims, Identity};
use crate::error::ApiError;
use crate::store::{PartnerId, Store};

/// The person's Partner Center roles. Directory roles by template id: from
/// the ID token's `wids`, else from their directory roles' `roleTemplateId`
/// (which Graph shows only to a token allowed to read roles). Agent roles by
/// membership of the agent groups whose ids the partner has stored; with a
/// token that may read groups, those ids are first found or re-checked.
pub(super) async fn read_roles(
    id: &Identity,
    store: &Store,
    partner: PartnerId,
    token: &str,
    claims: &Claims,
    directory: bool,
) -> Result<Vec<Role>, ApiError> {
    let templates = match &claims.wids {
        Some(wids) => wids.clone(),
        None => {
            tracing::warn!(
                "the sign-in's ID token has no wids claim: set groupMembershipClaims to DirectoryRole \
                 on the sign-in app, or directory roles are read only where Graph shows their template"
            );
            id.graph_all(
                token,
                "/me/transitiveMemberOf/microsoft.graph.directoryRole?$select=id,roleTemplateId",
            )
            .await
            .map_err(|e| e.into_api("your directory roles"))?
            .iter()
            .filter_map(|r| r["roleTemplateId"].as_str().map(str::to_string))
            .collect()
        }
    };
    let member_of: Vec<String> = id
        .graph_all(
            token,
            "/me/transitiveMemberOf/microsoft.graph.group?$select=id",
        )
        .await
        .map_err(|e| e.into_api("your groups"))?
        .iter()
        .filter_map(|g| g["id"].as_str().map(str::to_string))
        .collect();
    if directory {
        find_agent_groups(id, store, partner, token).await?;
    }
    let groups = store.agent_groups(partner).await?;
    Ok(onboarding::roles_of(&templates, &member_of, &groups))
}

/// Finds Partner Center's agent groups by the names it gives them, once,
/// and keeps their ids; a stored id is re-checked and forgotten when the
/// group is gone. Two groups with the name leave the role unassigned rather
/// than guessed: anyone may make a group and name it.
async fn find_agent_groups(
    id: &Identity,
    store: &Store,
    partner: PartnerId,
    token: &str,
) -> Result<(), ApiError> {
    let stored = store.agent_groups(partner).await?;
    for role in [Role::AdminAgent, Role::SalesAgent] {
        let Some(name) = role.agent_group() else {
            continue;
        };
        if let Some((_, group)) = stored.iter().find(|(r, _)| *r == role) {
            let (status, _) = id
                .graph(
                    token,
                    reqwest::Method::GET,
                    &format!("/groups/{group}?$select=id"),
                    None,
                )
                .await?;
            match status {
                200 => {
                    store.set_agent_group(partner, role, group).await?;
                    continue;
                }
                404 => store.forget_agent_group(partner, role).await?,
                // Unsure: keep what is stored.
                _ => continue,
            }
        }
        let found = id
            .graph_all(
                token,
                &format!("/groups?$filter=displayName%20eq%20'{name}'&$select=id,displayName"),
            )
            .await
            .map_err(|e| e.into_api("your groups"))?;
        match found.as_slice() {
            [group] => {
                if let Some(group) = group["id"].as_str() {
                    store.set_agent_group(partner, role, group).await?;
                }
            }
            [] => {}
            several => tracing::warn!(
                group = name,
                count = several.len(),
                "several groups carry Partner Center's agent group name: none is taken"
            ),
        }
    }
    Ok(())
}
