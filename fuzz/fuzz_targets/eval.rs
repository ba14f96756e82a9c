//! `thidua eval --skip-bad-rows` of the fixed plan
//! (examples/bac_giang_2024/plan.thidua) over fuzzed CSV data, both
//! locales: read, evaluate, every report format. (`eval_multi` also checks
//! that two evaluations of the same data give the same report.)
#![no_main]
use libfuzzer_sys::fuzz_target;
use thidua::data::Locale;

fuzz_target!(|data: &[u8]| {
    let prog = thidua_fuzz::fixed_plan();
    thidua_fuzz::with_stack(|| {
        for locale in [Locale::En, Locale::Vi] {
            let ds = thidua_fuzz::read_data(prog, data, "csv", locale, true);
            std::hint::black_box(thidua_fuzz::eval_reports(prog, &ds));
        }
    });
});
