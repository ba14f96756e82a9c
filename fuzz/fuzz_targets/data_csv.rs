//! The CSV reader: fuzzed bytes as a data file of the fixed plan
//! (examples/bac_giang_2024/plan.thidua), both locales, with and without
//! `--skip-bad-rows`; diagnostics rendered.
#![no_main]
use libfuzzer_sys::fuzz_target;
use thidua::data::Locale;
use thidua::diag::SourceMap;

fuzz_target!(|data: &[u8]| {
    let prog = thidua_fuzz::fixed_plan();
    thidua_fuzz::with_stack(|| {
        let sources = SourceMap::default();
        for locale in [Locale::En, Locale::Vi] {
            for skip in [false, true] {
                let ds = thidua_fuzz::read_data(prog, data, "csv", locale, skip);
                thidua_fuzz::render(&ds.errors, &sources);
                thidua_fuzz::render(&ds.warnings, &sources);
            }
        }
    });
});
