//! The key's life after onboarding (managers): the web app, the key the
//! sync signs in with and when it expires, a new key switched to once
//! Partner Center has taken it, the old key revoked, and the sync.

use leptos::prelude::*;
use model::api::{ErrorCode, NewKey};
use model::onboarding::{ConnectionInfo, KeyInUse};

use super::onboarding::KeyList;
use crate::api::{self, ApiError};
use crate::app::SessionResource;
use crate::components::{CopyField, Loader, SyncBar};
use crate::format;
use crate::i18n::t;

#[component]
pub fn Connection() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    // Someone who may not manage it is told so without a refused request.
    let refused = match session.get_untracked() {
        Some(Ok(s)) if !s.can_manage => Some(t().roles_needed_for(&s.roles)),
        _ => None,
    };
    view! {
        <h1>{t().nav_connection}</h1>
        {match refused {
            Some(why) => view! { <p class="notice managers-only" role="note">{why}</p> }.into_any(),
            None => view! { <Manage /> }.into_any(),
        }}
    }
}

#[component]
fn Manage() -> impl IntoView {
    let info = LocalResource::new(api::connection);
    // A new key's value outlives the refetch that follows the switch: it is
    // shown this once.
    let created = RwSignal::new(None::<NewKey>);
    let status = RwSignal::new(None::<Result<String, ApiError>>);
    view! {
        {move || created.get().map(|k| view! {
            <div class="key-once card" role="region" aria-label=t().new_key>
                <p class="warning"><strong>{t().copy_key_now}</strong>{t().key_like_password}</p>
                <CopyField label=t().key_value value=k.value.clone() id="key-value" />
                <p>{(t().expires_on)(k.key.expires_at.get(..10).unwrap_or_default())}</p>
            </div>
        })}
        <Loader resource=info return_to="/connection" let:c>
            <ConnectionBody c created status on_change=move || info.refetch() />
        </Loader>
    }
}

#[component]
fn ConnectionBody(
    c: ConnectionInfo,
    created: RwSignal<Option<NewKey>>,
    status: RwSignal<Option<Result<String, ApiError>>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let t = t();
    let in_use = c.key_in_use.as_ref().map(|k| k.key_id.clone());
    view! {
        <div class="cards">
            <section class="card app">
                <h2>{t.web_app}</h2>
                {c.app_name.clone().map(|n| view! { <p translate="no">{n}</p> })}
                <CopyField label=t.app_id value=c.app_id.clone() id="app-id" />
            </section>
            <KeyInUseCard key=c.key_in_use.clone() />
            <SyncCard last=c.last_synced.clone() />
        </div>
        <NewKeyCard created status on_change />
        <section class="card keys">
            {match (c.keys, c.keys_problem) {
                (Some(keys), _) => view! { <KeyList keys=RwSignal::new(keys) in_use /> }.into_any(),
                (None, Some(problem)) => view! {
                    <p class="error keys-problem" role="alert">{t.keys_unlisted}" "<span translate="no">{problem}</span></p>
                }.into_any(),
                (None, None) => view! {
                    <p class="notice">{t.keys_need_directory}" "
                        <a rel="external" href=api::directory_sign_in_url("/connection")>{t.sign_in_directory}</a>
                    </p>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn KeyInUseCard(key: Option<KeyInUse>) -> impl IntoView {
    let t = t();
    view! {
        <section class="card key-in-use">
            <h2>{t.key_in_use}</h2>
            {match key {
                Some(k) => {
                    let day = k.expires_at.get(..10).unwrap_or_default().to_string();
                    view! {
                        <p class="expiry">{(t.key_expires_in)(&day, k.days_left)}</p>
                        {k.warn.then(|| view! { <p class="warning expiry-warning" role="alert">{t.key_expiry_warning}</p> })}
                    }.into_any()
                }
                None => view! { <p class="notice">{t.key_in_use_unknown}</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn SyncCard(last: Option<String>) -> impl IntoView {
    let t = t();
    let (error, set_error) = signal(None::<String>);
    let sync = Action::new_local(move |_: &()| async move {
        match api::sync_now().await {
            Ok(_) => set_error.set(None),
            Err(e) => set_error.set(Some(e.to_string())),
        }
    });
    let last = last
        .as_deref()
        .and_then(|s| s.get(..10))
        .and_then(|d| d.parse().ok())
        .map(format::day);
    view! {
        <section class="card sync-card">
            <h2>{t.sync_heading}</h2>
            <p class="last-sync">{match last {
                Some(day) => (t.last_sync_on)(&day),
                None => t.no_sync_yet.into(),
            }}</p>
            <button type="button" disabled=move || sync.pending().get() on:click=move |_| { sync.dispatch(()); }>{t.sync_now}</button>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <SyncBar />
        </section>
    }
}

/// "Add a new key and switch to it": the key is made in Entra ID, then the
/// proxy checks it with Partner Center and Graph before the sync uses it.
#[component]
fn NewKeyCard(
    created: RwSignal<Option<NewKey>>,
    /// What came of the last switch; it outlives the page's refetch after it.
    status: RwSignal<Option<Result<String, ApiError>>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let t = t();
    let (years, set_years) = signal(2u32);
    let set_status = status.write_only();
    let switch = Action::new_local(move |years: &u32| {
        let years = *years;
        async move {
            set_status.set(None);
            let made = match api::add_key(years).await {
                Ok(k) => k,
                Err(e) => return set_status.set(Some(Err(e))),
            };
            created.set(Some(made.clone()));
            match api::switch_key(&made.value).await {
                Ok(()) => {
                    set_status.set(Some(Ok((t.switched_to_new_key)(&made.key.name))));
                    on_change();
                }
                Err(e) => set_status.set(Some(Err(e))),
            }
        }
    });
    view! {
        <section class="card new-key">
            <h2>{t.add_key_and_switch}</h2>
            <p>{t.add_key_and_switch_notice}</p>
            <fieldset>
                <legend>{t.key_lasts}</legend>
                <label><input type="radio" name="years" value="1" prop:checked=move || years.get() == 1 on:change=move |_| set_years.set(1) />" "{t.one_year}</label>
                <label><input type="radio" name="years" value="2" prop:checked=move || years.get() == 2 on:change=move |_| set_years.set(2) />" "{t.two_years}</label>
            </fieldset>
            <button type="button" class="primary" disabled=move || switch.pending().get() on:click=move |_| { switch.dispatch(years.get()); }>{t.create_and_switch}</button>
            {move || status.get().map(|s| match s {
                Ok(done) => view! { <p class="ok" role="status">{done}</p> }.into_any(),
                Err(e) if e.code() == Some(ErrorCode::SignInAgain) => view! {
                    <p class="error" role="alert">{e.to_string()}" "
                        <a rel="external" href=api::directory_sign_in_url("/connection")>{t.sign_in_directory}</a>
                    </p>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}
