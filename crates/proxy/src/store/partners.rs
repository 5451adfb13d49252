//! Partners this proxy serves, keyed by their Entra tenant.

use super::{PartnerId, Store, now};

impl Store {
    /// The partner with this tenant, created on first sight.
    pub async fn partner(&self, tenant_id: &str) -> Result<PartnerId, sqlx::Error> {
        sqlx::query(
            "INSERT INTO partners (tenant_id, created_at) VALUES (?, ?)
             ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(tenant_id)
        .bind(now())
        .execute(&mut *self.writer().await?)
        .await?;
        sqlx::query_scalar("SELECT id FROM partners WHERE tenant_id = ?")
            .bind(tenant_id)
            .fetch_one(&self.pool)
            .await
    }

    /// The partner row for a tenant, if one exists (no creation).
    pub async fn find_partner(&self, tenant_id: &str) -> Result<Option<PartnerId>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM partners WHERE tenant_id = ?")
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn tenant_of(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT tenant_id FROM partners WHERE id = ?")
            .bind(partner)
            .fetch_optional(&self.pool)
            .await
    }

    /// The partner's name as Partner Center writes it (the FOCUS provider).
    pub async fn partner_name(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        Ok(
            sqlx::query_scalar::<_, Option<String>>("SELECT name FROM partners WHERE id = ?")
                .bind(partner)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }

    pub async fn set_partner_name(
        &self,
        partner: PartnerId,
        name: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE partners SET name = ? WHERE id = ? AND (name IS NULL OR name <> ?)")
            .bind(name)
            .bind(partner)
            .bind(name)
            .execute(&mut *self.writer().await?)
            .await
            .map(|_| ())
    }

    /// The partner's Commerce ID where Partner Center gave one.
    pub async fn commerce_id(&self, partner: PartnerId) -> Result<Option<String>, sqlx::Error> {
        Ok(
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT commerce_id FROM partners WHERE id = ?",
            )
            .bind(partner)
            .fetch_optional(&self.pool)
            .await?
            .flatten(),
        )
    }

    pub async fn set_commerce_id(
        &self,
        partner: PartnerId,
        commerce_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE partners SET commerce_id = ? WHERE id = ?")
            .bind(commerce_id)
            .bind(partner)
            .execute(&mut *self.writer().await?)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::tests::temporary;

    #[tokio::test]
    async fn a_partner_is_created_once_per_tenant() {
        let (_dir, store) = temporary().await;
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

    #[tokio::test]
    async fn names_and_commerce_id_are_kept_per_partner() {
        let (_dir, store) = temporary().await;
        let a = store.partner("tenant-a").await.unwrap();
        let b = store.partner("tenant-b").await.unwrap();
        assert_eq!(store.partner_name(a).await.unwrap(), None);
        store.set_partner_name(a, "Fabrikam").await.unwrap();
        store
            .set_commerce_id(a, "c0ffee00-0000-4000-8000-000000000001")
            .await
            .unwrap();
        assert_eq!(
            store.partner_name(a).await.unwrap().as_deref(),
            Some("Fabrikam")
        );
        assert_eq!(
            store.commerce_id(a).await.unwrap().as_deref(),
            Some("c0ffee00-0000-4000-8000-000000000001")
        );
        assert_eq!(store.partner_name(b).await.unwrap(), None);
        assert_eq!(store.commerce_id(b).await.unwrap(), None);
    }
}
