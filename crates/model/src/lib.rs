//! Shared by the browser app and the proxy, with no I/O: the Partner Center
//! JSON types, exact money, identifiers, and the `/api` shapes the SPA reads.

pub mod alerts;
pub mod analysis;
pub mod anomaly;
pub mod api;
pub mod budgets;
pub mod cube;
pub mod exact;
pub mod export;
pub mod fields;
pub mod focus;
pub mod forecast;
pub mod graph;
pub mod guid;
pub mod host;
pub mod i18n;
pub mod lenient;
pub mod margin;
pub mod money;
pub mod onboarding;
pub mod overview;
pub mod pc;
pub mod pricing;
pub mod progress;
pub mod rates;
pub mod report;
pub mod saved_view;
pub mod usage;
pub mod views;

pub use guid::{Guid, mix as guid_mix};
pub use money::{Amount, Currency};
