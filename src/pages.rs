//! One module per page.

mod charts;
mod coming;
mod customer;
mod customers;
mod onboarding;
mod overview;
mod settings;

pub use charts::TrendChart;
pub use coming::{Coming, NotFound, Problem};
pub use customer::Customer;
pub use customers::{CustomerTable, Customers};
pub use onboarding::{Onboarding, SyncBar};
pub use overview::Overview;
pub use settings::Settings;
