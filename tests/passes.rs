//! Ranked plans and limited awards evaluated in passes over the data
//! (src/eval/passes.rs): the output must be byte for byte what the
//! evaluation in memory gives, with the same warnings, whether or not the
//! eligibility waits for the ranks, over several chunks, with ties at the
//! limits, units without a group, a limit per another field, `limit N% of
//! …`, and awards that read earlier limited awards.

mod common;

use common::Project;
use std::fmt::Write as _;
use thidua::data::{self, Locale};
use thidua::eval::{self, passes, stream, Detail};
use thidua::report;

/// The rating reads `rank`, so the eligibility waits for the ranks: three
/// passes.
const RANKED: &str = r#"
campaign hang "Xếp hạng" {
  period 2024-01-01 .. 2024-12-31
  indicator growth "Tăng trưởng" : percent
  indicator revenue "Thu ngân sách" : number
  indicator poverty "Hộ nghèo" : percent
  target t1 "Tăng trưởng": growth >= 7.5% { points 10 }
  target t2 "Thu": revenue >= 100 { points 10 }
  target t3 "Hộ nghèo": poverty <= 2% { points 5 }
  scoring { total 25 precision 1 }
  rank by score within bloc then by revenue ascending
  rating xep_loai {
    xuat_sac "Xuất sắc" when score >= 20 and rank <= 40
    tot "Tốt" when score >= 15
    kem "Kém" otherwise
  }
  award co "Cờ" {
    when rating == xuat_sac
    limit 2 per bloc
  }
  award gk "Giấy khen" {
    when score >= 10 and not awarded(co)
  }
  award bk "Bằng khen" {
    when score >= 15 and not awarded(co)
    limit 20% of awarded(gk) per kind
  }
  award lk "Lao động" {
    when awarded(gk) and not awarded(bk)
    limit 30% per bloc
  }
}
"#;

/// The same plan without `rank` in the rating: two passes.
fn unranked_rating() -> String {
    RANKED.replace(" and rank <= 40", "")
}

/// `n` units in five blocs (every 17th without one) and two kinds, with
/// coarse values so that many are tied, some empty cells, and, when
/// `past`, some rows of an earlier period (not evaluated).
fn rows(n: usize, past: bool) -> String {
    let mut s = String::from("id,name,bloc,kind,period,growth,revenue,poverty\n");
    for i in 0..n {
        let bloc = if i % 17 == 0 {
            String::new()
        } else {
            format!("K{}", i % 5)
        };
        let kind = if i % 3 == 0 { "B" } else { "A" };
        let period = if past && i % 13 == 5 { "2023" } else { "" };
        let growth = if i % 29 == 0 {
            String::new()
        } else {
            format!("{}.{}", 6 + (i * 7) % 4, (i * 3) % 10)
        };
        let revenue = 90 + 10 * ((i * 11) % 4);
        let poverty = if i % 31 == 0 {
            String::new()
        } else {
            format!("{}.{}", (i * 5) % 4, (i * 7) % 10)
        };
        let _ = writeln!(
            s,
            "u{i:05},\"Đơn vị, số {i}\",{bloc},{kind},{period},{growth},{revenue},{poverty}"
        );
    }
    s
}

/// The CSV and JSON of the evaluation in memory, and its warnings.
fn in_memory(
    plan: &std::path::Path,
    data: &std::path::Path,
    skip: bool,
) -> (Vec<u8>, serde_json::Value, Vec<String>) {
    let mut sources = thidua::diag::SourceMap::default();
    let prog = thidua::check::check_file(plan, &mut sources)
        .expect("readable")
        .program
        .expect("checks");
    let mut ds = data::read_files(&prog, &[data], Locale::En, skip).expect("readable");
    if skip {
        data::skip_bad(&mut ds);
    }
    assert!(ds.errors.is_empty(), "{:?}", ds.errors);
    let lean = eval::evaluate_with(&prog, ds.rows.clone(), Detail::Statuses).expect("evaluates");
    let csv = report::eval_csv(&prog, &lean, Locale::En).expect("csv");
    let full = eval::evaluate(&prog, ds.rows).expect("evaluates");
    let json = report::eval_json(&prog, &full, &[], serde_json::json!([]));
    let warnings = full.warnings.iter().map(|w| w.message.clone()).collect();
    (csv, json["units"].clone(), warnings)
}

/// `eval` to CSV and to JSON gives what the evaluation in memory gives,
/// warnings included; returns those warnings.
fn same_as_in_memory(plan_text: &str, data_text: &str, skip: bool) -> Vec<String> {
    let p = Project::new();
    let plan = p.write("plan.thidua", plan_text);
    let data = p.write("data.csv", data_text);
    let (csv, units, warnings) = in_memory(&plan, &data, skip);
    let mut args = vec!["eval", "plan.thidua", "--data", "data.csv"];
    if skip {
        args.push("--skip-bad-rows");
    }
    args.push("--format");
    let r = p.run(args.iter().copied().chain(["csv"]));
    r.expect_code(0);
    assert!(r.stdout_bytes == csv, "the CSV differs:\n{}", r.stdout);
    let r = p.run(args.iter().copied().chain(["json"]));
    r.expect_code(0);
    let got = r.json();
    assert_eq!(got["units"], units, "the JSON units differ");
    let got_warnings: Vec<String> = got["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w["message"].as_str().unwrap_or_default().to_string())
        .filter(|m| m.contains("tied at the limit"))
        .collect();
    assert_eq!(got_warnings, warnings);
    warnings
}

fn load(text: &str) -> thidua::ir::Program {
    let mut sources = thidua::diag::SourceMap::default();
    thidua::check::check_str(text, "plan.thidua", None, &mut sources)
        .program
        .expect("checks")
}

#[test]
fn three_passes_when_the_rating_reads_the_rank() {
    let prog = load(RANKED);
    assert!(!stream::streamable(&prog));
    assert!(passes::passes_possible(&prog));
    assert_eq!(passes::pass_count(&prog), 3);
    let warnings = same_as_in_memory(RANKED, &rows(1_500, false), false);
    // The coarse values tie units at the limits: the test would not see a
    // wrong tie-break otherwise.
    assert!(warnings.len() >= 3, "{warnings:?}");
}

#[test]
fn two_passes_when_nothing_reads_the_rank() {
    let plan = unranked_rating();
    assert_eq!(passes::pass_count(&load(&plan)), 2);
    same_as_in_memory(&plan, &rows(1_500, false), false);
}

#[test]
fn rows_of_another_period_and_skipped_rows_keep_their_places() {
    let mut data = rows(900, true);
    // Two bad cells, skipped.
    data = data.replacen(",100,", ",một trăm,", 2);
    same_as_in_memory(RANKED, &data, true);
}

#[test]
fn the_library_writes_what_the_command_writes() {
    let p = Project::new();
    let plan = p.write("plan.thidua", RANKED);
    let data = p.write("data.csv", rows(700, false));
    let prog = load(RANKED);
    let (csv, _, warnings) = in_memory(&plan, &data, false);
    let mut out = report::csv_head(&prog, Locale::En).expect("head");
    let format =
        |ev: &eval::Evaluation, buf: &mut Vec<u8>| report::csv_units(&prog, ev, Locale::En, buf);
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |pass: usize, of: usize, _units: usize| {
        if let Ok(mut s) = seen.lock() {
            s.push((pass, of));
        }
    };
    let done = passes::evaluate_passes(
        &prog,
        &[&data],
        Locale::En,
        false,
        Detail::Statuses,
        &format,
        b"",
        &mut out,
        &progress,
    )
    .expect("evaluates");
    assert!(out == csv);
    assert_eq!(done.units, 700);
    assert!(done.wrote);
    let messages: Vec<String> = done.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(messages, warnings);
    let seen = seen.into_inner().expect("progress");
    for pass in 1..=3 {
        assert!(seen.contains(&(pass, 3)), "pass {pass} not told: {seen:?}");
    }
}

#[test]
fn a_data_error_leaves_no_output() {
    let p = Project::new();
    p.write("plan.thidua", RANKED);
    p.write(
        "data.csv",
        rows(600, false).replacen(",100,", ",một trăm,", 1),
    );
    let r = p.run([
        "eval",
        "plan.thidua",
        "--data",
        "data.csv",
        "--format",
        "csv",
        "--out",
        "out.csv",
    ]);
    r.expect_code(1);
    assert!(r.stderr.contains("một trăm"), "{}", r.stderr);
    assert!(!p.path("out.csv").exists());
}

#[test]
fn what_goes_in_passes() {
    assert!(passes::passes_possible(&load(RANKED)));
    // `relative` points compare units with one another: in memory.
    let relative = RANKED.replace(
        "target t2 \"Thu\": revenue >= 100 { points 10 }",
        "target t2 \"Thu\": revenue >= 100 { points 10 relative }",
    );
    assert!(!passes::passes_possible(&load(&relative)));
    // More limited awards than the eligibility bits allow: in memory.
    let mut many = RANKED.trim_end().trim_end_matches('}').to_string();
    for k in 0..passes::MAX_LIMITED {
        let _ = writeln!(
            many,
            "  award x{k} {{\n    when score >= 5\n    limit 1 per bloc\n  }}"
        );
    }
    many.push('}');
    assert!(!passes::passes_possible(&load(&many)));
}
