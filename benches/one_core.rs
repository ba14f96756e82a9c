//! Not a criterion benchmark: the 20 Bắc Giang targets in memory, thidua
//! (`Detail::Statuses`) and the hand-written baseline alternating, each
//! run on the same rows (thidua on a fresh clone, untimed), keeping the
//! fastest run's process CPU time. Run it on one core to read a rate per
//! core (docs/performance.md):
//!
//! ```sh
//! taskset -c 0 cargo bench --bench one_core -- 100000 10
//! ```

mod common;

use common::bg20;
use std::hint::black_box;
use thidua::eval::Detail;

fn arg(k: usize, default: usize) -> usize {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .nth(k)
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn cpu() -> f64 {
    common::process_cpu_time().as_secs_f64()
}

fn main() {
    let (n, runs) = (arg(0, 100_000), arg(1, 10));
    let csv = common::bac_giang_csv(n, common::SEED);
    let units = bg20::parse_units(&csv);
    let goals = bg20::Goals::default();
    let plan = common::load_plan(
        &common::manifest_dir().join("benches/plans/bac_giang_20_targets.thidua"),
    );
    let rows = common::rows_from_csv(&plan, &csv);
    let (mut thidua, mut baseline) = (f64::MAX, f64::MAX);
    for _ in 0..runs {
        let r = rows.clone();
        let t0 = cpu();
        let ev = thidua::eval::evaluate_with(&plan, r, Detail::Statuses).expect("evaluates");
        thidua = thidua.min(cpu() - t0);
        drop(black_box(ev));
        let t0 = cpu();
        let out: Vec<[u8; 20]> = units.iter().map(|u| bg20::baseline(u, &goals)).collect();
        baseline = baseline.min(cpu() - t0);
        drop(black_box(out));
    }
    let rate = |t: f64| n as f64 / t;
    println!(
        "{n} units, fastest of {runs}: thidua {:.1} ms ({:.0} units per CPU-second), \
         baseline {:.1} ms ({:.0}), thidua / baseline time {:.2}",
        thidua * 1e3,
        rate(thidua),
        baseline * 1e3,
        rate(baseline),
        thidua / baseline
    );
}
