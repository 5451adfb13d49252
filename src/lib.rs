//! The browser app: a Leptos client-side-rendered SPA that talks only to the
//! proxy's `/api`. Numbers come from the `model` crate; components stay thin.

pub mod api;
mod app;
pub mod download;
pub mod format;
pub mod pages;

pub use app::App;
