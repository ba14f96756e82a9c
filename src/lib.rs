//! thidua: a rules language, checker and interpreter for the criteria of
//! Vietnamese emulation campaigns (phong trào thi đua).

pub mod diag;
pub mod fmt;
pub mod report;
pub mod syntax;
pub mod testing;
pub mod check;
pub mod data;
pub mod eval;
pub mod ir;
pub mod stdlib;
pub mod value;
