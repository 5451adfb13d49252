use leptos::prelude::*;

/// A page whose view is not built yet: says so plainly instead of pretending.
#[component]
pub fn Coming(title: &'static str) -> impl IntoView {
    view! {
        <h1>{title}</h1>
        <p class="notice">"This view is not built yet."</p>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>"There is no page at this address. "<a href="/">"Go to the overview"</a>"."</p>
    }
}
