#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::todo,
        clippy::unimplemented,
        clippy::indexing_slicing
    )
)]
//! thidua: a rules language, checker and interpreter for the criteria of
//! Vietnamese emulation campaigns (phong trào thi đua).

pub mod check;
pub mod data;
pub mod diag;
pub mod eval;
pub mod fmt;
pub mod ids;
pub mod ir;
pub mod report;
pub mod stdlib;
pub mod syntax;
pub mod testing;
pub mod value;
