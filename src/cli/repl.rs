//! The REPL (placeholder until the workbench lands).
use super::LocaleArg;
use std::path::{Path, PathBuf};

pub fn cmd(_plan: Option<&Path>, _data: &[PathBuf], _locale: Option<LocaleArg>) -> i32 {
    eprintln!("error: the REPL is not available in this build");
    2
}
