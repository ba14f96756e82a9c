//! The parser (with its lexical prescan) on arbitrary UTF-8, as the loader
//! hands it text: BOM stripped, NFC. Also the REPL's two entry points, and
//! every diagnostic rendered.
#![no_main]
use libfuzzer_sys::fuzz_target;
use thidua::diag::SourceMap;
use thidua::syntax;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let text = thidua::check::normalize(raw.strip_prefix('\u{FEFF}').unwrap_or(raw));
    thidua_fuzz::with_stack(|| {
        let mut sources = SourceMap::default();
        let id = sources.add("fuzz.thidua", None, &text);
        if let Err(ds) = syntax::parse(&text, id) {
            thidua_fuzz::render(&ds, &sources);
        }
        if let Err(ds) = syntax::parse_expr(&text, id) {
            thidua_fuzz::render(&ds, &sources);
        }
        if let Err(ds) = syntax::parse_decls(&text, id) {
            thidua_fuzz::render(&ds, &sources);
        }
    });
});
