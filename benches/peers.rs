//! The 20 numbered targets of the Bắc Giang 2024 plan in thidua, in three
//! peer engines, and hand-written, over the same generated units
//! (`THIDUA_BENCH_PEER_UNITS`, default 100 000). Every engine computes the
//! status of each target (0 not met, 1 met, 2 exceeded; `all { … }` the
//! worst child) for every unit; throughput is in units per second.
//!
//! - `baseline`: Rust, rust_decimal, the 20 comparisons hard-coded over a
//!   struct (benches/common/bg20.rs);
//! - `thidua`: `eval::evaluate_with(…, Detail::Statuses)` of
//!   benches/plans/bac_giang_20_targets.thidua over rows read by
//!   `data::read_files` (clone untimed): statuses only, what every engine
//!   here computes; `thidua_full` keeps actual, goal, gap and achievement
//!   too (`Detail::Full`, what JSON and `explain` need);
//! - `cel`: the `cel` crate (formerly `cel-interpreter`), 20 programs
//!   compiled once; per unit a child scope whose variable resolver reads the
//!   unit's fields (doubles: CEL has no decimal type);
//! - `rhai`: `rhai` with `decimal` (and `no_float`, so that literals are
//!   decimals), 20 ASTs compiled once; per unit a scope of 36 variables;
//! - `zen`: GoRules `zen-expression`, 20 expressions compiled once; per unit
//!   an object of 36 decimal fields, one VM reused.
//!
//! Each engine's input is parsed into its own native values once, outside
//! the timed loop. Before timing, every engine's statuses are compared with
//! the baseline's on the first 2 000 units (CEL's doubles may differ where
//! a goal is computed, e.g. `2.3 * tourist_share / 100`; the count is
//! printed).

mod common;

use cel::common::types::{CelBool as Bool, CelDouble as Double};
use cel::common::value::CowVal;
use cel::context::VariableResolver;
use common::bg20::{self, Dialect, Unit, NUM_COLUMNS, TARGETS};
use criterion::measurement::Measurement;
use criterion::{BatchSize, Criterion, Throughput};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;
use thidua::eval::Detail;
use thidua::value::Status;

const CHECKED_UNITS: usize = 2_000;

fn units() -> usize {
    std::env::var("THIDUA_BENCH_PEER_UNITS")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(100_000)
}

fn agree(name: &str, got: &[[u8; 20]], want: &[[u8; 20]], strict: bool) {
    let bad = got.iter().zip(want).filter(|(a, b)| a != b).count();
    eprintln!(
        "peers: {name}: {bad} of {} units differ from the baseline",
        got.len()
    );
    if strict {
        assert_eq!(bad, 0, "{name} disagrees with the baseline");
    }
}

// --- baseline ---------------------------------------------------------------

fn run_baseline(units: &[Unit], goals: &bg20::Goals) -> Vec<[u8; 20]> {
    units.iter().map(|u| bg20::baseline(u, goals)).collect()
}

// --- thidua -----------------------------------------------------------------

fn thidua_statuses(ev: &thidua::eval::Evaluation) -> Vec<[u8; 20]> {
    ev.units()
        .map(|(_, st)| {
            let mut out = [0u8; 20];
            for (k, c) in st.criteria().take(20).enumerate() {
                out[k] = match c.status() {
                    Status::Exceeded => 2,
                    Status::Met => 1,
                    _ => 0,
                };
            }
            out
        })
        .collect()
}

// --- CEL --------------------------------------------------------------------

struct CelUnit {
    nums: [Double; 35],
    admin: Bool,
}

fn cel_index() -> &'static HashMap<&'static str, usize> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        NUM_COLUMNS
            .iter()
            .enumerate()
            .map(|(k, c)| (*c, k))
            .collect()
    })
}

impl VariableResolver for CelUnit {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        if variable == bg20::BOOL_COLUMN {
            return Some(CowVal::Borrowed(&self.admin));
        }
        let k = *cel_index().get(variable)?;
        Some(CowVal::Borrowed(&self.nums[k]))
    }
}

fn cel_units(units: &[Unit]) -> Vec<CelUnit> {
    use rust_decimal::prelude::ToPrimitive;
    units
        .iter()
        .map(|u| CelUnit {
            nums: u.nums.map(|d| Double::from(d.to_f64().expect("f64"))),
            admin: Bool::from(u.admin_reorg_done),
        })
        .collect()
}

fn cel_programs() -> Vec<cel::Program> {
    TARGETS
        .iter()
        .map(|(t, c)| {
            let src = bg20::source(c, Dialect::Cel);
            cel::Program::compile(&src).unwrap_or_else(|e| panic!("cel {t}: {src}: {e:?}"))
        })
        .collect()
}

fn run_cel(root: &cel::Context, progs: &[cel::Program], units: &[CelUnit]) -> Vec<[u8; 20]> {
    units
        .iter()
        .map(|u| {
            let mut cx = root.new_inner_scope();
            cx.set_variable_resolver(u);
            let mut out = [0u8; 20];
            for (k, p) in progs.iter().enumerate() {
                out[k] = match p.execute(&cx) {
                    Ok(cel::Value::Int(s)) => s as u8,
                    other => panic!("cel t{}: {other:?}", k + 1),
                };
            }
            out
        })
        .collect()
}

// --- Rhai -------------------------------------------------------------------

fn rhai_asts(engine: &rhai::Engine) -> Vec<rhai::AST> {
    TARGETS
        .iter()
        .map(|(t, c)| {
            let src = bg20::source(c, Dialect::Rhai);
            engine
                .compile(&src)
                .unwrap_or_else(|e| panic!("rhai {t}: {src}: {e}"))
        })
        .collect()
}

fn run_rhai(engine: &rhai::Engine, asts: &[rhai::AST], units: &[Unit]) -> Vec<[u8; 20]> {
    let mut scope = rhai::Scope::with_capacity(36);
    units
        .iter()
        .map(|u| {
            scope.rewind(0);
            for (k, name) in NUM_COLUMNS.iter().enumerate() {
                scope.push(*name, u.nums[k]);
            }
            scope.push(bg20::BOOL_COLUMN, u.admin_reorg_done);
            let mut out = [0u8; 20];
            for (k, ast) in asts.iter().enumerate() {
                out[k] = engine
                    .eval_ast_with_scope::<rhai::INT>(&mut scope, ast)
                    .unwrap_or_else(|e| panic!("rhai t{}: {e}", k + 1))
                    as u8;
            }
            out
        })
        .collect()
}

// --- GoRules Zen ------------------------------------------------------------

fn zen_expressions() -> Vec<zen_expression::Expression<zen_expression::expression::Standard>> {
    let mut isolate = zen_expression::Isolate::new();
    TARGETS
        .iter()
        .map(|(t, c)| {
            let src = bg20::source(c, Dialect::Zen);
            isolate
                .compile_standard(&src)
                .unwrap_or_else(|e| panic!("zen {t}: {src}: {e:?}"))
        })
        .collect()
}

fn run_zen(
    exprs: &[zen_expression::Expression<zen_expression::expression::Standard>],
    units: &[Unit],
) -> Vec<[u8; 20]> {
    use rust_decimal::prelude::ToPrimitive;
    use zen_expression::variable::{Symbol, Variable, VariableMap};
    let mut vm = zen_expression::vm::VM::new();
    units
        .iter()
        .map(|u| {
            let mut map = VariableMap::with_capacity(36);
            for (k, name) in NUM_COLUMNS.iter().enumerate() {
                map.insert(Symbol::borrowed(name), Variable::Number(u.nums[k]));
            }
            map.insert(
                Symbol::borrowed(bg20::BOOL_COLUMN),
                Variable::Bool(u.admin_reorg_done),
            );
            let scope = zen_expression::Scope::new(Variable::from_object(map));
            let mut out = [0u8; 20];
            for (k, e) in exprs.iter().enumerate() {
                out[k] = match e.evaluate_with_scope(&scope, &mut vm) {
                    Ok(Variable::Number(s)) => s.to_u8().expect("a status"),
                    other => panic!("zen t{}: {other:?}", k + 1),
                };
            }
            out
        })
        .collect()
}

// --- the benchmark ----------------------------------------------------------

fn peers<M: Measurement>(c: &mut Criterion<M>) {
    let n = units();
    let csv = common::bac_giang_csv(n, common::SEED);
    let units = bg20::parse_units(&csv);
    let goals = bg20::Goals::default();
    let want = run_baseline(&units[..CHECKED_UNITS.min(n)], &goals);
    let check = &units[..CHECKED_UNITS.min(n)];

    let plan = common::load_plan(
        &common::manifest_dir().join("benches/plans/bac_giang_20_targets.thidua"),
    );
    let rows = common::rows_from_csv(&plan, &csv);
    let ev = thidua::eval::evaluate_with(
        &plan,
        rows[..CHECKED_UNITS.min(n)].to_vec(),
        Detail::Statuses,
    )
    .expect("evaluates");
    agree("thidua", &thidua_statuses(&ev), &want, true);
    let ev =
        thidua::eval::evaluate(&plan, rows[..CHECKED_UNITS.min(n)].to_vec()).expect("evaluates");
    agree("thidua_full", &thidua_statuses(&ev), &want, true);

    let cel_root = cel::Context::default();
    let cel_progs = cel_programs();
    let cel_data = cel_units(&units);
    agree(
        "cel",
        &run_cel(&cel_root, &cel_progs, &cel_data[..check.len()]),
        &want,
        false,
    );

    let engine = rhai::Engine::new();
    let asts = rhai_asts(&engine);
    agree("rhai", &run_rhai(&engine, &asts, check), &want, true);

    let zen = zen_expressions();
    agree("zen", &run_zen(&zen, check), &want, true);

    let mut g = c.benchmark_group("peers");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("baseline/{n}"), |b| {
        b.iter(|| black_box(run_baseline(black_box(&units), &goals)))
    });
    g.bench_function(format!("thidua/{n}"), |b| {
        b.iter_batched(
            || rows.clone(),
            |rows| black_box(thidua::eval::evaluate_with(&plan, rows, Detail::Statuses)),
            BatchSize::PerIteration,
        )
    });
    g.bench_function(format!("thidua_full/{n}"), |b| {
        b.iter_batched(
            || rows.clone(),
            |rows| black_box(thidua::eval::evaluate(&plan, rows)),
            BatchSize::PerIteration,
        )
    });
    g.bench_function(format!("cel/{n}"), |b| {
        b.iter(|| black_box(run_cel(&cel_root, &cel_progs, black_box(&cel_data))))
    });
    g.bench_function(format!("rhai/{n}"), |b| {
        b.iter(|| black_box(run_rhai(&engine, &asts, black_box(&units))))
    });
    g.bench_function(format!("zen/{n}"), |b| {
        b.iter(|| black_box(run_zen(&zen, black_box(&units))))
    });
    g.finish();
}

bench_main!(peers);
