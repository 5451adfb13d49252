//! One way for a page to wait for its data: a loading line while the first
//! answer is on its way (the last answer stays on screen while a new one
//! loads), the answer drawn by the page, or the problem with the way
//! forward and a "Try again".

use leptos::prelude::*;

use super::Problem;
use crate::api::ApiError;
use crate::i18n::t;

/// `<Loader resource=r return_to="/customers" let:list>…</Loader>`.
#[component]
pub fn Loader<T, V, F>(
    resource: LocalResource<Result<T, ApiError>>,
    /// Where a sign-in started from the problem comes back to.
    return_to: &'static str,
    /// The loading line; "Loading…" by default.
    #[prop(optional)]
    loading: Option<&'static str>,
    /// A heading above the problem, for pages whose heading comes with the data.
    #[prop(optional)]
    error_heading: Option<&'static str>,
    children: F,
) -> impl IntoView
where
    T: Clone + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let fallback = move || {
        view! { <p aria-busy="true">{loading.unwrap_or(t().loading)}</p> }
    };
    // While a new answer loads the last one stays, marked as old: figures
    // of the previous period under the new period's label would mislead.
    let pending = RwSignal::new(false);
    view! {
        {move || pending.get().then(|| view! {
            <p class="reloading" aria-busy="true" role="status">{loading.unwrap_or(t().loading)}</p>
        })}
        <div class="loaded" class:stale=move || pending.get()>
            <Transition fallback set_pending=pending.write_only()>
                {move || {
                    let children = children.clone();
                    Suspend::new(async move {
                        match resource.await {
                            Ok(value) => children(value).into_any(),
                            Err(error) => view! {
                                {error_heading.map(|h| view! { <h1>{h}</h1> })}
                                <Problem error return_to retry=move || resource.refetch() />
                            }
                            .into_any(),
                        }
                    })
                }}
            </Transition>
        </div>
    }
}
