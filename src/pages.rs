//! One module per page.

mod coming;
mod customers;
mod onboarding;
mod overview;

pub use coming::{Coming, NotFound, Problem};
pub use customers::{CustomerTable, Customers};
pub use onboarding::{Onboarding, SyncBar};
pub use overview::Overview;
