//! `thidua eval --skip-bad-rows` of the fixed plan
//! (examples/bac_giang_2024/plan.thidua) over fuzzed CSV data, both
//! locales: read, evaluate, every report format. Each run is done twice and
//! the JSON reports must be equal.
#![no_main]
use libfuzzer_sys::fuzz_target;
use thidua::data::Locale;

fuzz_target!(|data: &[u8]| {
    let prog = thidua_fuzz::fixed_plan();
    thidua_fuzz::with_stack(|| {
        for locale in [Locale::En, Locale::Vi] {
            thidua_fuzz::eval_twice(prog, data, "csv", locale);
        }
    });
});
