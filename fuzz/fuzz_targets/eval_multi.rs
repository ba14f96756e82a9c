//! Like `eval`, over every example plan and every plan of tests/corpus/eval
//! (hierarchies, history, rankings, awards, checklists...). The first input
//! byte picks: bit 0 JSON (1) or CSV (0) data, bit 1 the `vi` (1) or `en`
//! (0) locale, bits 2.. the plan (index into `MULTI_PLANS`, modulo).
#![no_main]
use libfuzzer_sys::fuzz_target;
use thidua::data::Locale;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let plans = thidua_fuzz::multi_plans();
    let Some(prog) = &plans[(sel as usize >> 2) % plans.len()] else {
        return;
    };
    let ext = if sel & 1 == 1 { "json" } else { "csv" };
    let locale = if sel & 2 == 2 { Locale::Vi } else { Locale::En };
    thidua_fuzz::with_stack(|| thidua_fuzz::eval_twice(prog, rest, ext, locale));
});
