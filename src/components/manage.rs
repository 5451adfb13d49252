//! Forms only a Global admin or an Admin agent may use: shown to everyone,
//! usable by them alone, with the roles needed said beside the form rather
//! than after a refused save.

use leptos::prelude::*;

use crate::app::SessionResource;
use crate::i18n::t;

/// `children` inside a fieldset disabled unless the signed-in person may
/// change things (and while that is not known yet), with the sentence
/// naming the roles needed when they may not.
#[component]
pub fn ManagersOnly(children: Children) -> impl IntoView {
    let session = expect_context::<SessionResource>();
    let may_manage = move || matches!(session.get(), Some(Ok(s)) if s.can_manage);
    let refused = move || match session.get() {
        Some(Ok(s)) if !s.can_manage => Some(view! {
            <p class="notice managers-only" role="note">{t().roles_needed_for(&s.roles)}</p>
        }),
        _ => None,
    };
    view! {
        {refused}
        <fieldset class="manage" disabled=move || !may_manage()>{children()}</fieldset>
    }
}
