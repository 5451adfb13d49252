//! Operator tasks run on the proxy's machine beside (or instead of) the
//! server: a partner's trial, and the key that seals app keys at rest.

use chrono::{Duration, Utc};

use crate::onboarding::{seal_context, trial_info};
use crate::store::Store;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Operator tasks on a partner, named by its tenant ID (a GUID).
    Partner {
        #[command(subcommand)]
        action: PartnerAction,
    },
    /// The key that seals partners' app keys at rest.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Copies a SQLite store into an empty PostgreSQL one (every table,
    /// checked by equal counts and sums). Run it with the proxy stopped.
    MigrateStore {
        /// The SQLite store: `sqlite:<data directory>` (or its `proxy.sqlite3`).
        #[arg(long)]
        from: String,
        /// The PostgreSQL store: `postgres://user@host:5432/db` (the
        /// password best in PGPASSWORD).
        #[arg(long)]
        to: crate::config::DatabaseUrl,
        /// The schema the copy's tables go to (made if missing).
        #[arg(long, value_parser = crate::config::schema_name)]
        schema: Option<String>,
    },
}

/// The data directory a `--from sqlite:...` names: the directory, or the
/// one that holds the named store file. It must hold a store.
pub fn sqlite_dir(from: &str) -> Result<std::path::PathBuf, String> {
    let path = from
        .strip_prefix("sqlite://")
        .or_else(|| from.strip_prefix("sqlite:"))
        .ok_or_else(|| {
            format!("--from '{from}': a SQLite store is named sqlite:<data directory>")
        })?;
    let path = std::path::PathBuf::from(path);
    let dir = if path.extension().is_some_and(|e| e == "sqlite3") {
        path.parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default()
    } else {
        path
    };
    if dir.join("proxy.sqlite3").is_file() {
        Ok(dir)
    } else {
        Err(format!("{}: no proxy.sqlite3 there", dir.display()))
    }
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum KeyAction {
    /// Seals every stored app key with a new key, then swaps the key file
    /// (the old one is kept as `<file>.old`). Run it with the proxy stopped.
    Rotate,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum PartnerAction {
    /// Shows the partner's onboarding step and trial.
    Show {
        #[arg(long)]
        tenant: String,
    },
    /// Activates the partner's subscription: the trial no longer limits it.
    Activate {
        #[arg(long)]
        tenant: String,
    },
    /// Ends the partner's trial now (and any subscription): the data views pause.
    EndTrial {
        #[arg(long)]
        tenant: String,
    },
    /// Extends the partner's trial by some days (counted from today if it ended).
    Extend {
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
}

/// Why an operator task could not be done; printed, with exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Internal(String),
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
}

/// Seals every stored app key with a fresh key and swaps the key file:
/// the new file is written first (`<file>.new`), the store is updated in one
/// transaction, then the files are renamed (the old key kept as `<file>.old`).
/// Returns what to print.
pub async fn rotate_sealing_key(
    store: &Store,
    key_file: &std::path::Path,
) -> Result<String, CliError> {
    let internal = |e: String| CliError::Internal(e);
    if !key_file.exists() {
        return Err(CliError::BadRequest(format!(
            "There is no key file at {}: nothing is sealed with one yet.",
            key_file.display()
        )));
    }
    let old = crate::crypto::Sealer::from_file(key_file).map_err(|e| internal(e.to_string()))?;
    let (new, text) = crate::crypto::Sealer::generate().map_err(|e| internal(e.to_string()))?;
    let mut resealed = Vec::new();
    for c in store.connections().await? {
        let context = seal_context(&c.tenant_id, &c.app_id);
        let secret = old.open(&c.sealed_secret, &context).map_err(|e| {
            internal(format!(
                "the key of partner {} does not open with {}: {e}",
                c.tenant_id,
                key_file.display()
            ))
        })?;
        resealed.push((c.partner_id, new.seal(&secret, &context)));
    }
    let with_suffix = |suffix: &str| {
        let mut name = key_file.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    let (next, previous) = (with_suffix(".new"), with_suffix(".old"));
    let _ = std::fs::remove_file(&next);
    crate::crypto::write_key_file(&next, &text)
        .map_err(|e| internal(format!("{}: {e}", next.display())))?;
    store.reseal_connections(&resealed).await?;
    std::fs::rename(key_file, &previous)
        .and_then(|()| std::fs::rename(&next, key_file))
        .map_err(|e| {
            internal(format!(
                "the store is sealed with the key in {}, but the files could not be swapped: {e}",
                next.display()
            ))
        })?;
    Ok(format!(
        "{} app key(s) sealed with a new key in {}; the old key is in {} (delete it once the proxy starts)",
        resealed.len(),
        key_file.display(),
        previous.display()
    ))
}

/// Runs an operator task on the store; returns what to print.
pub async fn operator(store: &Store, action: &PartnerAction) -> Result<String, CliError> {
    let tenant = match action {
        PartnerAction::Show { tenant }
        | PartnerAction::Activate { tenant }
        | PartnerAction::EndTrial { tenant }
        | PartnerAction::Extend { tenant, .. } => tenant,
    };
    let partner = store.find_partner(tenant).await?.ok_or_else(|| {
        CliError::NotFound(format!(
            "No partner with tenant {tenant} has signed in here."
        ))
    })?;
    let mut row = store.onboarding(partner).await?.unwrap_or_default();
    match action {
        PartnerAction::Show { .. } => {}
        PartnerAction::Activate { .. } => {
            row.activated = true;
            store.set_onboarding(partner, &row).await?;
        }
        PartnerAction::EndTrial { .. } => {
            let now = Utc::now();
            row.trial_started_at.get_or_insert(now);
            row.trial_ends_at = Some(now);
            row.activated = false;
            store.set_onboarding(partner, &row).await?;
        }
        PartnerAction::Extend { days, .. } => {
            if !(1..=3650).contains(days) {
                return Err(CliError::BadRequest(
                    "days must be between 1 and 3650.".into(),
                ));
            }
            let now = Utc::now();
            let from = row.trial_ends_at.filter(|e| *e > now).unwrap_or(now);
            row.trial_started_at.get_or_insert(now);
            row.trial_ends_at = Some(from + Duration::days(*days));
            store.set_onboarding(partner, &row).await?;
        }
    }
    let trial = trial_info(&row)
        .map(|t| {
            format!(
                "trial {} to {}, {} days left{}",
                t.started_at,
                t.ends_at,
                t.days_left,
                if t.ended { " (ended)" } else { "" }
            )
        })
        .unwrap_or_else(|| "no trial started".into());
    Ok(format!(
        "partner {tenant}: step {}, {trial}, subscription {}",
        row.step.as_str(),
        if row.activated {
            "active"
        } else {
            "not active"
        }
    ))
}
