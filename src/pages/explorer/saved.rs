//! Saved views: the signed-in person's named Explorer views, each a link
//! to the same grouping, filters, period and chart (the URL is the view),
//! saved in the proxy so they follow the person to any browser.

use leptos::prelude::*;
use leptos_router::components::A;
use model::saved_view::{NewSavedView, SavedView};

use crate::api;
use crate::components::{CopyField, use_url_query};
use crate::i18n::t;

/// The page a view of the Explorer opens.
const PATH: &str = "/explorer";

/// The view's whole address, to share.
fn absolute(view: &SavedView) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}{}", crate::host::path(view.link()))
}

#[component]
pub(super) fn SavedViews() -> impl IntoView {
    let query = use_url_query();
    let views = LocalResource::new(api::views);
    let (name, set_name) = signal(String::new());
    let (status, set_status) = signal(None::<(bool, String)>);
    let save = Action::new_local(move |view: &NewSavedView| {
        let view = view.clone();
        async move {
            match api::save_view(&view).await {
                Ok(_) => {
                    set_status.set(Some((true, t().view_saved.into())));
                    set_name.set(String::new());
                    views.refetch();
                }
                Err(e) => set_status.set(Some((false, e.to_string()))),
            }
        }
    });
    let remove = Action::new_local(move |id: &i64| {
        let id = *id;
        async move {
            if let Err(e) = api::delete_view(id).await {
                set_status.set(Some((false, e.to_string())));
            }
            views.refetch();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Checked here as the proxy checks it: a clear sentence, no round trip.
        let view = NewSavedView {
            name: name.get_untracked(),
            path: PATH.into(),
            query: query.text(),
        };
        match view.checked() {
            Ok(v) => {
                save.dispatch(v);
            }
            Err(e) => set_status.set(Some((false, e))),
        }
    };
    view! {
        <details class="card saved-views">
            <summary>{t().saved_views}</summary>
            <Transition fallback=|| ()>
                {move || views.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! { <p class="notice">{t().no_saved_views}</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="views">
                            {list.into_iter().map(|v| {
                                let id = v.id;
                                let link = absolute(&v);
                                view! {
                                    <li data-view-id=id>
                                        <A href=crate::host::path(v.link())>{v.name.clone()}</A>
                                        " "
                                        <button type="button" class="link" on:click=move |_| { remove.dispatch(id); }>{t().delete}</button>
                                        <details class="share">
                                            <summary>{t().share}</summary>
                                            <CopyField label=t().link value=link id=format!("view-link-{id}") />
                                        </details>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <form class="toolbar" on:submit=submit>
                <label for="view-name">{t().view_name}</label>
                <input id="view-name" maxlength="80" prop:value=move || name.get() on:input=move |ev| set_name.set(event_target_value(&ev)) />
                <button type="submit" disabled=move || save.pending().get()>{t().save_view}</button>
            </form>
            {move || status.get().map(|(ok, m)| view! { <p class=if ok { "ok" } else { "error" } role="status">{m}</p> })}
        </details>
    }
}
