//! Helpers shared by the fuzz targets: the fixed plans, a stack as large as
//! the CLI's, data files on disk, and the report renderers every target
//! pushes its diagnostics through (hostile spans and messages must render,
//! not only be produced).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use thidua::data::{self, DataSet, Locale};
use thidua::diag::{Diag, SourceMap};
use thidua::eval;
use thidua::ir::Program;
use thidua::report::{self, diagnostics};

/// The stack `src/main.rs` gives the CLI's worker thread.
pub const CLI_STACK_BYTES: usize = 256 * 1024 * 1024;

fn stack_bytes() -> usize {
    static S: OnceLock<usize> = OnceLock::new();
    *S.get_or_init(|| {
        std::env::var("THIDUA_FUZZ_STACK_MB")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .map(|mb| mb * 1024 * 1024)
            .unwrap_or(CLI_STACK_BYTES)
    })
}

/// Run `f` on a thread with the CLI's stack (256 MiB; set
/// `THIDUA_FUZZ_STACK_MB` to try another size, e.g. 8 for a library user
/// on an ordinary main thread). A panic in `f` aborts the process through
/// libfuzzer-sys' panic hook, so libFuzzer records it as a crash.
pub fn with_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name("fuzz".into())
            .stack_size(stack_bytes())
            .spawn_scoped(s, f)
            .expect("cannot start the fuzz thread");
        match h.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

/// The repository root (the parent of this crate).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Check a plan of the repository; it must check without errors.
pub fn load_plan(rel: &str) -> Option<Program> {
    let path = repo().join(rel);
    let mut sources = SourceMap::default();
    let checked = thidua::check::check_file(&path, &mut sources).ok()?;
    if checked.has_errors() {
        return None;
    }
    checked.program
}

/// The plan of the `data_*` and `eval` targets.
pub const FIXED_PLAN: &str = "examples/bac_giang_2024/plan.thidua";

pub fn fixed_plan() -> &'static Program {
    static P: OnceLock<Program> = OnceLock::new();
    P.get_or_init(|| {
        load_plan(FIXED_PLAN).unwrap_or_else(|| panic!("{FIXED_PLAN} does not check"))
    })
}

/// The plans of `eval_multi`, in a fixed order (the first input byte picks
/// one; see `eval_multi.rs`). A plan that does not check (the language is
/// still moving) is `None`, and inputs that pick it do nothing.
pub const MULTI_PLANS: &[&str] = &[
    "examples/bac_giang_2021_muc_tieu_kep/plan.thidua",
    "examples/bac_giang_2024/plan.thidua",
    "examples/binh_duong_2021/plan.thidua",
    "examples/hau_giang_2023/plan.thidua",
    "examples/hoa_binh_2021/plan.thidua",
    "tests/corpus/eval/band_goal.thidua",
    "tests/corpus/eval/checklist_require.thidua",
    "tests/corpus/eval/counts.thidua",
    "tests/corpus/eval/deadlines.thidua",
    "tests/corpus/eval/groups.thidua",
    "tests/corpus/eval/history.thidua",
    "tests/corpus/eval/levels_dates.thidua",
    "tests/corpus/eval/lower_is_better.thidua",
    "tests/corpus/eval/members.thidua",
    "tests/corpus/eval/ranking_awards.thidua",
    "tests/corpus/eval/relative.thidua",
    "tests/corpus/eval/scales.thidua",
    "tests/corpus/eval/scoring.thidua",
    "tests/corpus/eval/sections_normalize.thidua",
    "tests/corpus/eval/three_valued.thidua",
];

pub fn multi_plans() -> &'static [Option<Program>] {
    static P: OnceLock<Vec<Option<Program>>> = OnceLock::new();
    P.get_or_init(|| {
        let v: Vec<Option<Program>> = MULTI_PLANS.iter().map(|p| load_plan(p)).collect();
        for (p, prog) in MULTI_PLANS.iter().zip(&v) {
            if prog.is_none() {
                eprintln!("eval_multi: {p} does not check; inputs that pick it are ignored");
            }
        }
        v
    })
}

/// A directory of this process for the data files handed to
/// `data::read_files` (it reads paths, not bytes).
fn scratch() -> &'static Path {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("thidua-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("cannot create the scratch directory");
        d
    })
}

/// Write `bytes` as `fuzz.<ext>` (the extension picks the reader: `json`
/// or anything else for CSV) and read it as the CLI's `eval` does.
pub fn read_data(prog: &Program, bytes: &[u8], ext: &str, locale: Locale, skip: bool) -> DataSet {
    let path = scratch().join(format!("fuzz.{ext}"));
    std::fs::write(&path, bytes).expect("cannot write the scratch data file");
    match data::read_files(prog, &[&path], locale, skip) {
        Ok(ds) => ds,
        Err(data::Unreadable(m)) => panic!("scratch data file unreadable: {m}"),
    }
}

/// At most this many diagnostics of one list are rendered per input
/// (miette's graphical renderer costs most of an execution otherwise).
pub const RENDER_MAX: usize = 6;

/// Render diagnostics in every output shape (human, JSON, GitHub).
pub fn render(diags: &[Diag], sources: &SourceMap) {
    if diags.is_empty() {
        return;
    }
    // The first few, and the last one (often the odd one out).
    let mut shown: Vec<Diag> = diags.iter().take(RENDER_MAX).cloned().collect();
    if diags.len() > RENDER_MAX {
        shown.extend(diags.last().cloned());
    }
    let diags = &shown[..];
    black_box(diagnostics::human(diags, sources, false));
    let j = diagnostics::json(diags, sources);
    black_box(serde_json::to_string_pretty(&j).ok());
    black_box(diagnostics::github(diags, sources));
}

/// The rest of `thidua eval` after the data is read: stop on data errors,
/// evaluate, render every report format. Returns the JSON report, or `None`
/// when nothing was evaluated.
pub fn eval_reports(prog: &Program, ds: &DataSet) -> Option<String> {
    let sources = SourceMap::default();
    render(&ds.errors, &sources);
    render(&ds.warnings, &sources);
    if !ds.errors.is_empty() {
        return None;
    }
    let ev = match eval::evaluate(prog, ds.rows.clone()) {
        Ok(ev) => ev,
        Err(es) => {
            render(&es, &sources);
            return None;
        }
    };
    let mut warnings = ds.warnings.clone();
    warnings.extend(ev.warnings.iter().cloned());
    render(&warnings, &sources);
    let w = diagnostics::json(&warnings, &sources);
    let json = serde_json::to_string_pretty(&report::eval_json(prog, &ev, &ds.skipped, w))
        .unwrap_or_default();
    black_box(report::eval_csv(prog, &ev, Locale::En).ok());
    black_box(report::eval_csv(prog, &ev, Locale::Vi).ok());
    black_box(report::eval_md(prog, &ev));
    black_box(report::eval_table(prog, &ev, false));
    black_box(report::eval_table(prog, &ev, true));
    Some(json)
}

/// Read, evaluate and report twice; the two JSON reports must be equal
/// (evaluation is deterministic: no hash-order or other hidden state).
pub fn eval_twice(prog: &Program, bytes: &[u8], ext: &str, locale: Locale) {
    let ds = read_data(prog, bytes, ext, locale, true);
    let a = eval_reports(prog, &ds);
    let ds2 = read_data(prog, bytes, ext, locale, true);
    let b = eval_reports(prog, &ds2);
    assert_eq!(a, b, "two evaluations of the same data differ");
}
