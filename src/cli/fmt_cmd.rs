//! `thidua fmt`: one canonical layout. The formatter works on lines and
//! brace depth only, so it can never change what a file means: it
//! re-indents, trims trailing space and collapses runs of blank lines.
//! A file that does not parse is left as it is and its syntax error
//! shown, as `check` shows it: a layout made from a misread brace would
//! only move the error.

use std::path::PathBuf;
use thidua::fmt::format_source;

pub fn cmd(paths: &[PathBuf], check: bool, color: bool) -> i32 {
    let files = match super::collect_files(paths) {
        Ok(f) => f,
        Err(e) => {
            tell!("error: {e}");
            return 2;
        }
    };
    let mut changed = 0;
    let mut broken = 0;
    for f in &files {
        let Ok(bytes) = std::fs::read(f) else {
            tell!("error: cannot read `{}`", f.display());
            return 2;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            tell!(
                "{}: thidua::syntax: not UTF-8 text; left as it is (save the file as UTF-8)",
                f.display()
            );
            broken += 1;
            continue;
        };
        if let Err(diags) = thidua::syntax::parse(&text, 0) {
            // Shown on the text with `\n` line ends, as `check` shows it
            // (miette numbers a `\r\n` line twice); the lines and columns
            // are the same.
            let shown = text.replace("\r\n", "\n");
            let diags = match thidua::syntax::parse(&shown, 0) {
                Err(d) => d,
                Ok(_) => diags,
            };
            let mut sources = thidua::diag::SourceMap::default();
            sources.add(f.display().to_string(), Some(f.clone()), &shown);
            super::print_diags(&diags, &sources, color);
            tell!("{}: does not parse; left as it is", f.display());
            broken += 1;
            continue;
        }
        let formatted = format_source(&text);
        if formatted != text {
            changed += 1;
            if check {
                say!("{}", f.display());
            } else if let Err(e) = super::write_out(Some(f), formatted.as_bytes()) {
                tell!("error: {e}");
                return 2;
            }
        }
    }
    if broken > 0 || (check && changed > 0) {
        1
    } else {
        0
    }
}
