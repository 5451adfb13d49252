//! Pieces the pages share: charts, forms, the loader, the period picker,
//! the URL's state, the sync bar and the problem notice. Pages (routed
//! views) are in `pages/`.

mod charts;
mod copy_field;
mod loader;
mod manage;
mod markup;
mod period;
mod problem;
mod query;
mod rates;
mod saving;
mod sync_bar;

pub use charts::{AccumulatedChart, StackedBars, TrendChart};
pub use copy_field::CopyField;
pub use loader::Loader;
pub use manage::ManagersOnly;
pub use markup::MarkupForm;
pub use period::{PeriodPicker, WithAsOf, use_period};
pub use problem::Problem;
pub use query::use_url_query;
pub use rates::RatesUsed;
pub use saving::Saving;
pub use sync_bar::SyncBar;
