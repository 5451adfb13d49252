use leptos::prelude::*;
use model::api::CustomerSummary;

use crate::api;
use crate::pages::Problem;

/// Every customer of the partner, read through the proxy.
#[component]
pub fn Customers() -> impl IntoView {
    let customers = LocalResource::new(api::customers);
    view! {
        <h1>"Customers"</h1>
        <Suspense fallback=|| view! { <p aria-busy="true">"Loading customers…"</p> }>
            {move || Suspend::new(async move {
                match customers.await {
                    Ok(list) => view! {
                        <p class="summary">{format!("{} customers", list.customers.len())}</p>
                        <CustomerTable rows=list.customers />
                    }.into_any(),
                    Err(e) => view! { <Problem error=e return_to="/customers" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The customers as a table; a separate component so it can be tested alone.
#[component]
pub fn CustomerTable(rows: Vec<CustomerSummary>) -> impl IntoView {
    view! {
        <table class="data customers">
            <thead>
                <tr>
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Domain"</th>
                    <th scope="col">"Currency"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|c| view! {
                        <tr data-customer-id=c.id>
                            <td>{c.name}</td>
                            <td>{c.domain}</td>
                            <td>{c.currency.unwrap_or_default()}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
