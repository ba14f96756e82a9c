//! Streaming `eval` (src/eval/stream.rs): for a plan whose units are
//! independent the command reads, evaluates and writes in chunks, and its
//! output must be byte for byte what the evaluation in memory gives, over
//! several chunks, in both formats and locales; a data error must leave no
//! output at all.

mod common;

use common::Project;
use std::fmt::Write as _;
use thidua::data::{self, Locale};
use thidua::eval::{self, stream, Detail};
use thidua::report;

/// Per-unit rules with points: bands, lower-is-better, a group, a
/// checklist scored per item, proportional points with a bonus, a penalty,
/// a `for`, a deadline with a penalty per day late, and a rating. Scored,
/// so ranked by score within bloc: evaluated in memory.
const SCORED: &str = r#"
campaign luong "Luồng" {
  period 2024-01-01 .. 2024-12-31
  indicator growth "Tăng trưởng" : percent
  indicator revenue "Thu ngân sách" : number
  indicator poverty "Hộ nghèo" : percent
  indicator agri "Giá trị/ha" : number
  indicator submitted "Ngày nộp" : date
  indicator urban "Đô thị" : bool
  checklist ba_dam "3 dám" {
    item dam_nghi "Dám nghĩ"
    item dam_lam "Dám làm"
    item dam_chiu "Dám chịu trách nhiệm"
    require all
    points 3 per item
  }
  target t1 "Tăng trưởng": growth >= 7.5% { points 10 proportional  bonus 0.5 per 1% above, max 2 }
  target t2 "Thu": revenue >= 100 { points 10  penalty 1 per 5 below, max 5 }
  target t3 "Hộ nghèo": poverty <= 2% { points 5 }
  target t4 "Giá trị/ha": agri >= 138 .. 140 { points 5 }
  target t5 "Cả hai" for urban: all {
    "Tăng trưởng": growth >= 6%
    "Thu": revenue >= 80
  } { points 5 }
  deadline d1 "Nộp báo cáo": submitted by 2024-01-31 { points 2  penalty 0.5 per day late, max 2 }
  rating xep_loai {
    xuat_sac "Xuất sắc" when count(not_met) == 0 and count(missing) == 0
    tot "Tốt" when count(not_met) <= 2
    khong_dat "Không đạt" otherwise
  }
}
"#;

/// The same rules without points, so nothing is ranked: it streams.
fn plan() -> String {
    SCORED
        .lines()
        .filter(|l| !l.trim_start().starts_with("points "))
        .map(|l| match l.find(" { points") {
            Some(k) => &l[..k],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const HEADER: &str = "id,name,bloc,growth,revenue,poverty,agri,submitted,urban,ba_dam.dam_nghi,ba_dam.dam_lam,ba_dam.dam_chiu";

/// `n` rows (several chunks of 256), every status and some empty cells.
fn rows(n: usize) -> String {
    let mut s = String::from(HEADER);
    s.push('\n');
    for i in 0..n {
        let cell = |k: usize, v: String| {
            if (i * 7 + k).is_multiple_of(23) {
                String::new()
            } else {
                v
            }
        };
        let growth = cell(1, format!("{}.{}", 5 + i % 6, i % 10));
        let revenue = cell(2, format!("{}", 70 + (i * 13) % 60));
        let poverty = cell(3, format!("{}.{}", i % 4, (i * 3) % 10));
        let agri = cell(4, format!("{}", 135 + i % 8));
        let day = 20 + i % 20;
        let submitted = cell(5, format!("2024-{:02}-{:02}", 1 + day / 31, 1 + day % 28));
        let yes = |k: usize| {
            if (i + k).is_multiple_of(3) {
                "không"
            } else {
                "có"
            }
        };
        let _ = writeln!(
            s,
            "u{i:05},\"Đơn vị, số {i}\",K{},{growth},{revenue},{poverty},{agri},{submitted},{},{},{},{}",
            i % 5,
            yes(0),
            yes(1),
            yes(2),
            if i.is_multiple_of(11) { "" } else { yes(3) }
        );
    }
    s
}

fn in_memory(
    plan: &std::path::Path,
    data: &std::path::Path,
    locale: Locale,
    json: bool,
) -> Vec<u8> {
    let mut sources = thidua::diag::SourceMap::default();
    let checked = thidua::check::check_file(plan, &mut sources).expect("readable");
    let prog = checked.program.expect("checks");
    assert!(eval::stream::streamable(&prog));
    let ds = data::read_files(&prog, &[data], locale, false).expect("readable");
    assert!(ds.errors.is_empty(), "{:?}", ds.errors);
    assert!(ds.warnings.is_empty(), "{:?}", ds.warnings);
    if json {
        let ev = eval::evaluate(&prog, ds.rows).expect("evaluates");
        report::eval_json_text(&prog, &ev, &[], &serde_json::json!([])).into_bytes()
    } else {
        let ev = eval::evaluate(&prog, ds.rows).expect("evaluates");
        report::eval_csv(&prog, &ev, locale).expect("csv")
    }
}

/// `eval plan.thidua --data data.csv --format FORMAT` in `p` prints what
/// the evaluation in memory gives; that output is returned.
fn same_as_in_memory(
    p: &Project,
    plan: &std::path::Path,
    data: &std::path::Path,
    format: &str,
) -> Vec<u8> {
    let want = in_memory(plan, data, Locale::En, format == "json");
    let r = p.run([
        "eval",
        "plan.thidua",
        "--data",
        "data.csv",
        "--format",
        format,
    ]);
    r.expect_code(0);
    assert!(
        r.stdout_bytes == want,
        "{format}: the streamed output differs"
    );
    want
}

#[test]
fn streamed_output_is_the_in_memory_output() {
    let p = Project::new();
    let plan = p.write("plan.thidua", plan());
    let data = p.write("data.csv", rows(1_300));
    for format in ["csv", "json"] {
        let want = same_as_in_memory(&p, &plan, &data, format);
        // Through --out too.
        p.run([
            "eval",
            "plan.thidua",
            "--data",
            "data.csv",
            "--format",
            format,
            "--out",
            "out",
        ])
        .expect_code(0);
        assert!(std::fs::read(p.path("out")).expect("out") == want);
    }
}

/// The scored plan, checked, and `n` generated units read as the command
/// reads them.
fn scored(n: usize) -> (thidua::ir::Program, data::DataSet) {
    let p = Project::new();
    let plan = p.write("scored.thidua", SCORED);
    let data = p.write("data.csv", rows(n));
    let mut sources = thidua::diag::SourceMap::default();
    let prog = thidua::check::check_file(&plan, &mut sources)
        .expect("readable")
        .program
        .expect("checks");
    let ds = data::read_files(&prog, &[&data], Locale::En, false).expect("readable");
    (prog, ds)
}

#[test]
fn statuses_only_gives_the_same_csv() {
    // Points computed from values (proportional, bonus, penalty, per item)
    // still see them under Detail::Statuses.
    let (prog, ds) = scored(300);
    assert!(!stream::streamable(&prog));
    let lean = eval::evaluate_with(&prog, ds.rows.clone(), Detail::Statuses).expect("evaluates");
    let full = eval::evaluate(&prog, ds.rows).expect("evaluates");
    assert_eq!(
        report::eval_csv(&prog, &lean, Locale::En).expect("csv"),
        report::eval_csv(&prog, &full, Locale::En).expect("csv")
    );
}

#[test]
fn streamed_vi_locale_matches() {
    let p = Project::new();
    let plan = p.write("plan.thidua", plan());
    let vi = rows(700).replace(',', ";");
    // `;` separates; decimal points become commas inside numbers.
    let vi: String = vi
        .lines()
        .map(|l| {
            l.split(';')
                .map(|c| {
                    if c.chars().all(|ch| ch.is_ascii_digit() || ch == '.') && c.contains('.') {
                        c.replace('.', ",")
                    } else {
                        c.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(";")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let data = p.write("data.csv", vi);
    let want = in_memory(&plan, &data, Locale::Vi, false);
    let r = p.run([
        "eval",
        "plan.thidua",
        "--data",
        "data.csv",
        "--format",
        "csv",
        "--locale",
        "vi",
    ]);
    r.expect_code(0);
    assert!(r.stdout_bytes == want);
}

#[test]
fn a_data_error_anywhere_leaves_no_output() {
    let p = Project::new();
    p.write("plan.thidua", plan());
    let data = rows(1_200);
    // A bad cell far into the file, after several chunks were written.
    let bad_cell = data.replacen(
        "\nu01150,\"Đơn vị, số 1150\",K0,",
        "\nu01150,\"Đơn vị, số 1150\",K0,abc",
        1,
    );
    p.write("bad.csv", &bad_cell);
    for format in ["csv", "json"] {
        let r = p.run([
            "eval",
            "plan.thidua",
            "--data",
            "bad.csv",
            "--format",
            format,
        ]);
        r.expect_code(1);
        assert!(r.stdout.is_empty(), "{format}: output despite a data error");
        assert!(r.stderr.contains("nothing was evaluated"), "{}", r.stderr);
        let r = p.run([
            "eval",
            "plan.thidua",
            "--data",
            "bad.csv",
            "--format",
            format,
            "--out",
            "o",
        ]);
        r.expect_code(1);
        assert!(
            !p.path("o").exists(),
            "{format}: --out written despite a data error"
        );
    }
    // With --skip-bad-rows the other rows are evaluated.
    let r = p.run([
        "eval",
        "plan.thidua",
        "--data",
        "bad.csv",
        "--format",
        "csv",
        "--skip-bad-rows",
    ]);
    r.expect_code(0);
    assert!(r.stderr.contains("skipped"), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1 + 1_200 - 1, "{}", r.stderr);
    assert!(!r.stdout.contains("\nu01150,"));
}

#[test]
fn a_unit_repeated_in_another_chunk_is_an_error() {
    let p = Project::new();
    p.write("plan.thidua", plan());
    let data = rows(1_100);
    let first = data.lines().nth(1).expect("a row").to_string();
    p.write("dup.csv", format!("{data}{first}\n"));
    let r = p.run([
        "eval",
        "plan.thidua",
        "--data",
        "dup.csv",
        "--format",
        "csv",
    ]);
    r.expect_code(1);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr
            .contains("unit id `u00000` appears twice (rows 2 and 1102)"),
        "{}",
        r.stderr
    );
}

#[test]
fn no_units_streams_an_empty_report() {
    let p = Project::new();
    let plan = p.write("plan.thidua", plan());
    let data = p.write("data.csv", format!("{HEADER}\n"));
    for format in ["csv", "json"] {
        same_as_in_memory(&p, &plan, &data, format);
    }
}

/// The JSON written in pieces is serde_json's pretty layout of the whole
/// report, to the byte.
#[test]
fn json_pieces_are_the_pretty_report() {
    let (prog, ds) = scored(40);
    let ev = eval::evaluate(&prog, ds.rows).expect("evaluates");
    let warnings = serde_json::json!([{"code": "thidua::x", "message": "a \"quoted\"\nline"}]);
    let skipped = [data::Skipped {
        file: "data.csv".into(),
        row: 3,
        reason: "bad".into(),
    }];
    let whole = report::eval_json(&prog, &ev, &skipped, warnings.clone());
    let mut want = serde_json::to_string_pretty(&whole).expect("json");
    want.push('\n');
    assert_eq!(
        report::eval_json_text(&prog, &ev, &skipped, &warnings),
        want
    );
}

#[test]
fn what_streams() {
    let load = |text: &str| {
        let mut sources = thidua::diag::SourceMap::default();
        thidua::check::check_str(text, "plan.thidua", None, &mut sources)
            .program
            .expect("checks")
    };
    assert!(stream::streamable(&load(&plan())));
    // A scored plan ranks by score within bloc unless told otherwise.
    assert!(!stream::streamable(&load(SCORED)));
    let p = Project::new();
    let with_parent = p.write("parent.csv", "id,parent,growth\na,,1\nb,a,2\n");
    let plain = p.write("plain.csv", "id,growth\na,1\n");
    let json = p.write("data.json", "[]");
    assert!(stream::streamable_data(&[&plain]));
    assert!(!stream::streamable_data(&[&with_parent]));
    assert!(!stream::streamable_data(&[&json]));
}
