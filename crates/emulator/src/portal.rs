//! A stand-in for the one step only Partner Center's portal can do: in
//! Account settings → App management, "Register existing app" links an
//! Entra app to the partner's Partner Center account. Until then the app's
//! tokens do not open Partner Center's API.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use crate::Emulator;

pub fn routes() -> Router<Emulator> {
    Router::new().route("/emulator/portal/app-management", get(page).post(register))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Which {
    tenant: String,
    #[serde(rename = "appId")]
    app_id: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render(emulator: &Emulator, tenant: &str, message: Option<&str>) -> Response {
    let Some(partner) = emulator.world.partner_by_tenant(tenant) else {
        return Html(format!(
            "<!doctype html><title>App management</title><p>Unknown partner tenant “{}”.</p>",
            escape(tenant)
        ))
        .into_response();
    };
    let p = &emulator.world.partners[partner];
    let apps = p.apps.read().expect("apps poisoned");
    let rows: String = apps
        .iter()
        .map(|a| {
            let action = if a.partner_center {
                "<td>Registered</td>".to_string()
            } else {
                format!(
                    r#"<td><form method="post"><input type="hidden" name="tenant" value="{}"><input type="hidden" name="appId" value="{}"><button type="submit">Register existing app</button></form></td>"#,
                    escape(tenant),
                    a.app_id
                )
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td>{action}</tr>",
                escape(&a.display_name),
                a.app_id,
                p.commerce_id
            )
        })
        .collect();
    let message = message
        .map(|m| format!(r#"<p role="status">{}</p>"#, escape(m)))
        .unwrap_or_default();
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>App management – Partner Center (emulator)</title></head>
<body><h1>App management</h1><p>{}</p>{message}<table><thead><tr><th>App</th><th>App ID</th><th>Commerce ID</th><th></th></tr></thead><tbody>{rows}</tbody></table></body></html>"#,
        escape(&p.name)
    ))
    .into_response()
}

async fn page(State(emulator): State<Emulator>, Query(w): Query<Which>) -> Response {
    render(&emulator, &w.tenant, None)
}

async fn register(State(emulator): State<Emulator>, Form(w): Form<Which>) -> Response {
    let message = match emulator.world.partner_by_tenant(&w.tenant) {
        None => "Unknown partner tenant.".to_string(),
        Some(partner) => {
            let mut apps = emulator.world.partners[partner]
                .apps
                .write()
                .expect("apps poisoned");
            match apps
                .iter_mut()
                .find(|a| a.app_id.to_string().eq_ignore_ascii_case(&w.app_id))
            {
                Some(app) => {
                    app.partner_center = true;
                    format!("{} is registered in Partner Center.", app.display_name)
                }
                None => "That app is not in this partner's directory.".to_string(),
            }
        }
    };
    render(&emulator, &w.tenant, Some(&message))
}
