use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::pages::{Problem, SyncBar};

/// The landing page. Until the cost views exist it shows what has been
/// synced, so a new partner sees at once whether the connection works.
#[component]
pub fn Overview() -> impl IntoView {
    let customers = LocalResource::new(api::customers);
    view! {
        <h1>"Overview"</h1>
        <SyncBar />
        <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match customers.await {
                    Ok(list) => view! {
                        <p class="summary">
                            {format!("{} customers synced from Partner Center. ", list.customers.len())}
                            <A href="/customers">"See them all"</A>
                        </p>
                    }.into_any(),
                    Err(e) => view! { <Problem error=e return_to="/" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
