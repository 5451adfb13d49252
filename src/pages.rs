//! The routed views, one module per page; what they share is in
//! `components/`.

mod alerts;
mod budgets;
mod connection;
mod customer;
mod customers;
mod explorer;
mod margin;
mod not_found;
mod onboarding;
mod overview;
mod own;
mod settings;

pub use budgets::Budgets;
pub use connection::Connection;
pub use customer::Customer;
pub use customers::{CustomerTable, Customers};
pub use explorer::Explorer;
pub use margin::Margin;
pub use not_found::NotFound;
pub use onboarding::Onboarding;
pub use overview::Overview;
pub use own::Own;
pub use settings::Settings;
