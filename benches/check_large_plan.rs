//! `check` of generated plans: 1 000, 3 000 and 10 000 scored targets over
//! 300 percent indicators, in sections of 100 (one in five an `all { … }`
//! group). The text is generated once; each iteration parses and checks it
//! (`thidua::check::check_str`, a fresh `SourceMap`). The 10 000-criterion
//! plan is what `cargo bench --bench gen_data -- plan 10000 300 OUT` writes.

mod common;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};
use std::hint::black_box;
use thidua::diag::SourceMap;

fn check_large_plan<M: Measurement>(c: &mut Criterion<M>) {
    let mut g = c.benchmark_group("check_large_plan");
    g.sample_size(20);
    for criteria in [1_000, 3_000, 10_000] {
        let text = common::large_plan(criteria, 300);
        let checked =
            thidua::check::check_str(&text, "generated.thidua", None, &mut SourceMap::default());
        assert!(
            checked.program.is_some() && !checked.has_errors(),
            "the generated plan must check: {:?}",
            &checked.diags[..checked.diags.len().min(3)]
        );
        g.throughput(Throughput::Elements(criteria as u64));
        g.bench_function(format!("{criteria}_criteria"), |b| {
            b.iter(|| {
                let mut sources = SourceMap::default();
                black_box(thidua::check::check_str(
                    black_box(&text),
                    "generated.thidua",
                    None,
                    &mut sources,
                ))
            })
        });
    }
    g.finish();
}

bench_main!(check_large_plan);
