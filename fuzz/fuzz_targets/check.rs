//! Parser + checker on arbitrary bytes (`check_str` decodes them as the
//! loader does: invalid UTF-8 is a diagnostic). Stdlib `use`s are followed;
//! file `use`s have no base and are diagnostics. When the file checks, its
//! `test` blocks with `given` rows run (evaluation of fuzzed plans); tests
//! naming `data` files are dropped, as those read paths from the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use thidua::data::Locale;
use thidua::diag::SourceMap;

fuzz_target!(|data: &[u8]| {
    // check_str takes &str: invalid UTF-8 becomes U+FFFD here (the
    // decoder's "not UTF-8" diagnostic is covered by tests/cli.rs).
    let text = String::from_utf8_lossy(data);
    thidua_fuzz::with_stack(|| {
        let mut sources = SourceMap::default();
        let checked = thidua::check::check_str(&text, "fuzz.thidua", None, &mut sources);
        thidua_fuzz::render(&checked.diags, &sources);
        if let Some(mut prog) = checked.program {
            prog.tests.retain(|t| t.data.is_empty());
            for locale in [Locale::En, Locale::Vi] {
                for o in thidua::testing::run(&prog, locale) {
                    thidua_fuzz::render(&o.errors, &sources);
                }
            }
            if let Ok(ev) = thidua::eval::evaluate(&prog, Vec::new()) {
                std::hint::black_box(thidua::report::eval_json(
                    &prog,
                    &ev,
                    &[],
                    serde_json::Value::Null,
                ));
            }
        }
    });
});
