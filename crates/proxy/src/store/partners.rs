//! Partners this proxy serves, keyed by their Entra tenant, and the ids of
//! their Partner Center agent groups.

use model::onboarding::Role;

use super::{PartnerId, Store, now};

/// The agent roles whose groups are stored, by their names in the table.
const AGENT_ROLES: [(Role, &str); 2] = [
    (Role::AdminAgent, "adminAgent"),
    (Role::SalesAgent, "salesAgent"),
];

fn role_name(role: Role) -> Option<&'static str> {
    AGENT_ROLES
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, n)| *n)
}

impl Store {
    /// The partner with this tenant, created on first sight.
    pub async fn partner(&self, tenant_id: &str) -> Result<PartnerId, sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO partners (tenant_id, created_at) VALUES (?, ?)
             ON CONFLICT (tenant_id) DO NOTHING";
            .bind(tenant_id)
            .bind(now())
        )?;
        tx.commit().await?;
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT id FROM partners WHERE tenant_id = ?";
            .bind(tenant_id)
            .fetch_one
        )
    }

    /// The partner row for a tenant, if one exists (no creation).
    pub async fn find_partner(&self, tenant_id: &str) -> Result<Option<PartnerId>, sqlx::Error> {
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT id FROM partners WHERE tenant_id = ?";
            .bind(tenant_id)
            .fetch_optional
        )
    }

    pub async fn tenant_of(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT tenant_id FROM partners WHERE id = ?";
            .bind(partner)
            .fetch_optional
        )
    }

    /// The partner's name as Partner Center writes it (the FOCUS provider).
    pub async fn partner_name(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        let name: Option<Option<String>> = sql!(
            query_scalar,
            self.reader().await?.on(),
            "SELECT name FROM partners WHERE id = ?";
            .bind(partner)
            .fetch_optional
        )?;
        Ok(name.flatten())
    }

    pub async fn set_partner_name(
        &self,
        partner: PartnerId,
        name: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "UPDATE partners SET name = ? WHERE id = ? AND (name IS NULL OR name <> ?)";
            .bind(name)
            .bind(partner)
            .bind(name)
        )?;
        tx.commit().await
    }
}

impl Store {
    /// The partner's agent groups found so far: each agent role with its
    /// group's object id.
    pub async fn agent_groups(
        &self,
        partner: PartnerId,
    ) -> Result<Vec<(Role, String)>, sqlx::Error> {
        let rows: Vec<(String, String)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT role, group_id FROM agent_groups WHERE partner_id = ?";
            .bind(partner)
            .fetch_all
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|(role, id)| {
                AGENT_ROLES
                    .iter()
                    .find(|(_, n)| *n == role)
                    .map(|(r, _)| (*r, id))
            })
            .collect())
    }

    /// Keeps (or confirms) the group that holds an agent role.
    pub async fn set_agent_group(
        &self,
        partner: PartnerId,
        role: Role,
        group_id: &str,
    ) -> Result<(), sqlx::Error> {
        let Some(name) = role_name(role) else {
            return Ok(());
        };
        let now = now();
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "INSERT INTO agent_groups (partner_id, role, group_id, found_at, checked_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, role) DO UPDATE SET
                 found_at = CASE WHEN agent_groups.group_id = excluded.group_id
                                 THEN agent_groups.found_at ELSE excluded.found_at END,
                 group_id = excluded.group_id, checked_at = excluded.checked_at";
            .bind(partner)
            .bind(name)
            .bind(group_id.to_ascii_lowercase())
            .bind(&now)
            .bind(&now)
        )?;
        tx.commit().await
    }

    /// Forgets a group that is gone from the directory.
    pub async fn forget_agent_group(
        &self,
        partner: PartnerId,
        role: Role,
    ) -> Result<(), sqlx::Error> {
        let Some(name) = role_name(role) else {
            return Ok(());
        };
        let mut tx = self.write().await?;
        sql!(
            execute,
            tx.on(),
            "DELETE FROM agent_groups WHERE partner_id = ? AND role = ?";
            .bind(partner)
            .bind(name)
        )?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use model::onboarding::Role;

    on_both_stores! {
        async fn agent_groups_are_kept_by_id_per_partner(store: Store) {
            let a = store.partner("tenant-a").await.unwrap();
            let b = store.partner("tenant-b").await.unwrap();
            assert!(store.agent_groups(a).await.unwrap().is_empty());
            store
                .set_agent_group(a, Role::AdminAgent, "AAAA-1")
                .await
                .unwrap();
            store
                .set_agent_group(a, Role::SalesAgent, "bbbb-2")
                .await
                .unwrap();
            // Not an agent role: nothing stored.
            store
                .set_agent_group(a, Role::GlobalAdmin, "cccc-3")
                .await
                .unwrap();
            store
                .set_agent_group(a, Role::AdminAgent, "aaaa-9")
                .await
                .unwrap();
            let mut groups = store.agent_groups(a).await.unwrap();
            groups.sort_by_key(|(_, id)| id.clone());
            assert_eq!(
                groups,
                [
                    (Role::AdminAgent, "aaaa-9".to_string()),
                    (Role::SalesAgent, "bbbb-2".to_string())
                ]
            );
            assert!(store.agent_groups(b).await.unwrap().is_empty());
            store.forget_agent_group(a, Role::SalesAgent).await.unwrap();
            assert_eq!(store.agent_groups(a).await.unwrap().len(), 1);
        }

        async fn a_partner_is_created_once_per_tenant(store: Store) {
            let a = store.partner("tenant-a").await.unwrap();
            assert_eq!(store.partner("tenant-a").await.unwrap(), a);
            let b = store.partner("tenant-b").await.unwrap();
            assert_ne!(a, b);
            assert_eq!(store.find_partner("tenant-b").await.unwrap(), Some(b));
            assert_eq!(store.find_partner("nobody").await.unwrap(), None);
            assert_eq!(
                store.tenant_of(a).await.unwrap().as_deref(),
                Some("tenant-a")
            );
        }

        async fn names_are_kept_per_partner(store: Store) {
            let a = store.partner("tenant-a").await.unwrap();
            let b = store.partner("tenant-b").await.unwrap();
            assert_eq!(store.partner_name(a).await.unwrap(), None);
            store.set_partner_name(a, "Fabrikam").await.unwrap();
            assert_eq!(
                store.partner_name(a).await.unwrap().as_deref(),
                Some("Fabrikam")
            );
            assert_eq!(store.partner_name(b).await.unwrap(), None);
        }
    }
}
