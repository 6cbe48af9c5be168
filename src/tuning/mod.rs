//! Measuring and tuning how the page reads people, apart from training a model (native
//! only): [`adaptation`] simulates writers correcting the page (`digitpad adapt-eval`), and
//! [`number_tuning`] fits the number reader's weights (`digitpad tune-grouping`). Both use
//! the trainer's data readers; the trainer uses neither.

pub mod adaptation;
pub mod number_tuning;
