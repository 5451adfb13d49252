//! Each person's saved Explorer views, by partner and user name: nobody
//! else lists, opens or deletes them (a shared link carries the query
//! itself, not the view).

use model::saved_view::{NewSavedView, SavedView};

use super::{PartnerId, Store, now};

/// Why a view was not saved.
#[derive(Debug)]
pub enum SaveView {
    /// The person already keeps `model::saved_view::MAX_VIEWS`.
    TooMany,
    Store(sqlx::Error),
}

impl From<sqlx::Error> for SaveView {
    fn from(e: sqlx::Error) -> Self {
        SaveView::Store(e)
    }
}

impl Store {
    /// The person's views, by name.
    pub async fn saved_views(
        &self,
        partner: PartnerId,
        user: &str,
    ) -> Result<Vec<SavedView>, sqlx::Error> {
        let rows: Vec<(i64, String, String, String)> = sql!(
            query_as,
            self.reader().await?.on(),
            "SELECT id, name, path, query FROM saved_views
             WHERE partner_id = ? AND user_name = ? ORDER BY name COLLATE NOCASE, id",
            postgres: "SELECT id, name, path, query FROM saved_views
             WHERE partner_id = $1 AND user_name = $2 ORDER BY lower(name), id";
            .bind(partner)
            .bind(user)
            .fetch_all
        )?;
        Ok(rows
            .into_iter()
            .map(|(id, name, path, query)| SavedView {
                id,
                name,
                path,
                query,
            })
            .collect())
    }

    /// Saves `view` (already checked) under its name, replacing the
    /// person's view of that name.
    pub async fn save_view(
        &self,
        partner: PartnerId,
        user: &str,
        view: &NewSavedView,
    ) -> Result<SavedView, SaveView> {
        let mut tx = self.write().await?;
        let (count, same_name): (i64, i64) = sql!(
            query_as,
            tx.on(),
            "SELECT COUNT(*), COUNT(CASE WHEN name = ? THEN 1 END) FROM saved_views
             WHERE partner_id = ? AND user_name = ?";
            .bind(&view.name)
            .bind(partner)
            .bind(user)
            .fetch_one
        )?;
        if same_name == 0 && count as usize >= model::saved_view::MAX_VIEWS {
            return Err(SaveView::TooMany);
        }
        let id: i64 = sql!(
            query_scalar,
            tx.on(),
            "INSERT INTO saved_views (partner_id, user_name, name, path, query, updated_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, user_name, name) DO UPDATE SET path = excluded.path,
             query = excluded.query, updated_at = excluded.updated_at
             RETURNING id";
            .bind(partner)
            .bind(user)
            .bind(&view.name)
            .bind(&view.path)
            .bind(&view.query)
            .bind(now())
            .fetch_one
        )?;
        tx.commit().await?;
        Ok(SavedView {
            id,
            name: view.name.clone(),
            path: view.path.clone(),
            query: view.query.clone(),
        })
    }

    /// Deletes one of the person's views; false when they have none of that ID.
    pub async fn delete_view(
        &self,
        partner: PartnerId,
        user: &str,
        id: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.write().await?;
        let done = sql!(
            execute,
            tx.on(),
            "DELETE FROM saved_views WHERE id = ? AND partner_id = ? AND user_name = ?";
            .bind(id)
            .bind(partner)
            .bind(user)
        )?;
        tx.commit().await?;
        Ok(done == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, query: &str) -> NewSavedView {
        NewSavedView {
            name: name.into(),
            path: "/explorer".into(),
            query: query.into(),
        }
    }

    on_both_stores! {
        async fn views_are_each_persons_own_and_replaced_by_name(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            let q = store.partner("tenant-b").await.unwrap();
            let a = store
                .save_view(p, "ann@a", &view("By service", "g1=service"))
                .await
                .unwrap();
            store
                .save_view(p, "ann@a", &view("by region", "g1=region"))
                .await
                .unwrap();
            store
                .save_view(p, "bob@a", &view("Mine", "g1=meter"))
                .await
                .unwrap();
            store
                .save_view(q, "ann@a", &view("Other partner", ""))
                .await
                .unwrap();
            let again = store
                .save_view(p, "ann@a", &view("By service", "g1=service&chart=line"))
                .await
                .unwrap();
            assert_eq!(again.id, a.id, "same name, same view");
            let mine = store.saved_views(p, "ann@a").await.unwrap();
            let names: Vec<&str> = mine.iter().map(|v| v.name.as_str()).collect();
            assert_eq!(names, ["by region", "By service"]);
            assert_eq!(mine[1].query, "g1=service&chart=line");
            // Bob's view is not Ann's to delete; her own is.
            let bobs = store.saved_views(p, "bob@a").await.unwrap()[0].id;
            assert!(!store.delete_view(p, "ann@a", bobs).await.unwrap());
            assert!(store.delete_view(p, "ann@a", a.id).await.unwrap());
            assert_eq!(store.saved_views(p, "ann@a").await.unwrap().len(), 1);
            assert_eq!(store.saved_views(p, "bob@a").await.unwrap().len(), 1);
        }

        async fn a_person_keeps_at_most_so_many_views(store: Store) {
            let p = store.partner("tenant-a").await.unwrap();
            for i in 0..model::saved_view::MAX_VIEWS {
                store
                    .save_view(p, "ann@a", &view(&format!("v{i}"), ""))
                    .await
                    .unwrap();
            }
            assert!(matches!(
                store.save_view(p, "ann@a", &view("one more", "")).await,
                Err(SaveView::TooMany)
            ));
            // Replacing one of them is still a save.
            store
                .save_view(p, "ann@a", &view("v3", "g1=meter"))
                .await
                .unwrap();
        }
    }
}
