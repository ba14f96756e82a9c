//! End to end, as `thidua eval PLAN --data FILE --format csv --out OUT` does
//! it through the library: check the plan; then for the 20 targets (no
//! ranking or awards) `eval::stream::evaluate_stream`, which reads,
//! evaluates on every core and writes in chunks, and for the whole plan
//! (ranking, limited awards) `eval::passes::evaluate_passes`, which does
//! the same in passes over the file; write the file. Against it, the
//! hand-written baseline (benches/common/bg20.rs `csv_to_csv`) on the same
//! file. Unit counts: `THIDUA_BENCH_E2E_UNITS` (default `10000,100000`).
//! The input files are generated once into a temporary directory.

mod common;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thidua::data::Locale;
use thidua::eval::{passes, stream, Detail};

fn sizes() -> Vec<usize> {
    std::env::var("THIDUA_BENCH_E2E_UNITS")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect()
}

/// `thidua eval PLAN --data INPUT --format csv --out OUTPUT`, minus argument
/// parsing and the atomic rename.
fn eval_csv(plan: &Path, input: &Path, output: &Path) -> usize {
    let prog = common::load_plan(plan);
    assert!(stream::streamable_data(&[input]));
    let mut out = std::io::BufWriter::new(std::fs::File::create(output).expect("create"));
    out.write_all(&thidua::report::csv_head(&prog, Locale::En).expect("head"))
        .expect("write");
    let units = |ev: &thidua::eval::Evaluation, buf: &mut Vec<u8>| {
        thidua::report::csv_units(&prog, ev, Locale::En, buf)
    };
    let done = if stream::streamable(&prog) {
        stream::evaluate_stream(
            &prog,
            &[input],
            Locale::En,
            false,
            Detail::Statuses,
            &units,
            b"",
            &mut out,
            &|_| {},
        )
    } else {
        assert!(passes::passes_possible(&prog));
        passes::evaluate_passes(
            &prog,
            &[input],
            Locale::En,
            false,
            Detail::Statuses,
            &units,
            b"",
            &mut out,
            &|_, _, _| {},
        )
    }
    .expect("streams");
    assert!(done.data.errors.is_empty());
    out.flush().expect("write");
    done.units
}

fn end_to_end<M: Measurement>(c: &mut Criterion<M>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let plans: [(&str, PathBuf); 2] = [
        ("bac_giang_2024", common::bac_giang_plan_path()),
        (
            "bac_giang_20_targets",
            common::manifest_dir().join("benches/plans/bac_giang_20_targets.thidua"),
        ),
    ];
    let mut g = c.benchmark_group("eval_end_to_end");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    for n in sizes() {
        let input = dir.path().join(format!("units_{n}.csv"));
        std::fs::write(&input, common::bac_giang_csv(n, common::SEED)).expect("write input");
        let output = dir.path().join(format!("out_{n}.csv"));
        g.throughput(Throughput::Elements(n as u64));
        g.measurement_time(Duration::from_secs(if n >= 100_000 { 60 } else { 15 }));
        for (name, plan) in &plans {
            g.bench_function(format!("{name}/{n}"), |b| {
                b.iter(|| black_box(eval_csv(plan, &input, &output)))
            });
        }
        g.bench_function(format!("baseline_20_targets/{n}"), |b| {
            b.iter(|| black_box(common::bg20::csv_to_csv(&input, &output).expect("baseline")))
        });
    }
    g.finish();
}

bench_main!(end_to_end);
