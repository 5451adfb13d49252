//! One module per page.

mod budgets;
mod charts;
mod customer;
mod customers;
mod explorer;
mod margin;
mod markup;
mod notice;
mod onboarding;
mod overview;
mod own;
mod period;
mod settings;

pub use budgets::Budgets;
pub use charts::{StackedBars, TrendChart};
pub use customer::Customer;
pub use customers::{CustomerTable, Customers};
pub use explorer::Explorer;
pub use margin::Margin;
pub use markup::MarkupForm;
pub use notice::{NotFound, Problem};
pub use onboarding::{Onboarding, SyncBar};
pub use overview::Overview;
pub use own::Own;
pub use settings::Settings;
