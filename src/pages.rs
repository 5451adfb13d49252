//! One module per page.

mod coming;
mod customers;
mod overview;

pub use coming::{Coming, NotFound};
pub use customers::{CustomerTable, Customers};
pub use overview::Overview;
