//! In-memory evaluation: `thidua::eval::evaluate` over rows already read.
//!
//! - `bac_giang_2024`: the whole example plan (checklists, 20 targets,
//!   deadlines, adjustments, scoring, ranking within bloc, rating, awards
//!   limited per bloc) over generated units;
//! - `bac_giang_20_targets`: its 20 numbered targets alone
//!   (benches/plans/bac_giang_20_targets.thidua), the workload of
//!   benches/peers.rs;
//! - `criteria_scaling`: generated plans of 100, 1 000 and 10 000 criteria
//!   over the same units (throughput in criterion evaluations per second).
//!
//! Each plan is evaluated with `Detail::Full` (`full/N`: every actual, goal,
//! gap and achievement kept, for JSON, the table and `explain`) and with
//! `Detail::Statuses` (`statuses/N`: what the wide CSV needs).
//!
//! Unit counts: `THIDUA_BENCH_UNITS` (default `10000,100000`; add `1000000`
//! on a machine with the memory for it). The rows are read once, outside
//! the timed loop; each iteration evaluates a fresh clone (`iter_batched`,
//! clone and drop untimed). Throughput is in units per second.

mod common;

use criterion::measurement::Measurement;
use criterion::{BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use thidua::eval::Detail;

fn sizes() -> Vec<usize> {
    std::env::var("THIDUA_BENCH_UNITS")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect()
}

fn plan_units<M: Measurement>(c: &mut Criterion<M>, name: &str, prog: &thidua::ir::Program) {
    let mut g = c.benchmark_group(format!("eval_in_memory/{name}"));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    for n in sizes() {
        let rows = common::rows_from_csv(prog, &common::bac_giang_csv(n, common::SEED));
        // One untimed run: the data must evaluate.
        let ev = thidua::eval::evaluate(prog, rows.clone()).expect("evaluates");
        assert_eq!(ev.units().count(), n);
        drop(ev);
        g.throughput(Throughput::Elements(n as u64));
        g.measurement_time(Duration::from_secs(if n >= 100_000 { 60 } else { 10 }));
        for (name, detail) in [("full", Detail::Full), ("statuses", Detail::Statuses)] {
            g.bench_function(format!("{name}/{n}"), |b| {
                b.iter_batched(
                    || rows.clone(),
                    |rows| black_box(thidua::eval::evaluate_with(prog, rows, detail)),
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

fn bac_giang<M: Measurement>(c: &mut Criterion<M>) {
    plan_units(c, "bac_giang_2024", &common::bac_giang());
}

fn bac_giang_20_targets<M: Measurement>(c: &mut Criterion<M>) {
    let path = common::manifest_dir().join("benches/plans/bac_giang_20_targets.thidua");
    plan_units(c, "bac_giang_20_targets", &common::load_plan(&path));
}

/// Cost against the number of criteria: 100 units, 300 indicators.
fn criteria_scaling<M: Measurement>(c: &mut Criterion<M>) {
    const UNITS: usize = 100;
    const INDICATORS: usize = 300;
    let mut g = c.benchmark_group("eval_in_memory/criteria_scaling");
    g.sample_size(10);
    let csv = common::large_plan_csv(INDICATORS, UNITS, common::SEED);
    for criteria in [100, 1_000, 10_000] {
        let prog = common::load_plan_str(&common::large_plan(criteria, INDICATORS), "generated");
        let rows = common::rows_from_csv(&prog, &csv);
        g.throughput(Throughput::Elements((criteria * UNITS) as u64));
        g.bench_function(format!("{criteria}_criteria_x_{UNITS}_units"), |b| {
            b.iter_batched(
                || rows.clone(),
                |rows| black_box(thidua::eval::evaluate(&prog, rows)),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

bench_main!(bac_giang, bac_giang_20_targets, criteria_scaling);
