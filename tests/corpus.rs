//! The corpus of small criteria files under `tests/corpus/`, sorted by the
//! stage that decides their fate.
//!
//! `syntax/` and `check/`: `NAME.thidua` with `NAME.expected`. Each line of
//! `NAME.expected` is one of (blank lines and `# …` comments are skipped):
//! - `thidua::CODE` — a diagnostic with that code must be reported;
//! - `thidua::CODE @LINE` — …and start on that line;
//! - `!thidua::CODE` — no diagnostic with that code may be reported;
//! - `error` — at least one diagnostic of severity `error` (for errors whose
//!   code is not one of LANGUAGE.md §9);
//! - `none` — no diagnostic at all;
//! - `message~ TEXT` / `help~ TEXT` — some diagnostic's message / help
//!   contains TEXT; `!message~ TEXT` — none does.
//!
//! The file is run through `thidua check --format json`; every diagnostic must
//! have a non-empty message and 1-based positions, the severities of the codes
//! of LANGUAGE.md §9 must be the table's, and the exit code must be 1 exactly
//! when an error was reported.
//!
//! `eval/`: `NAME.thidua` + `NAME.csv` + `NAME.expected.json`, a JSON object
//! whose keys address the `thidua eval --format json` report:
//! - `"UNIT.CRITERION"`: the criterion's status;
//! - `"UNIT.CRITERION.FIELD"`: a field of the criterion (`actual`, `goal` and
//!   `gap` compare their `value`; `children` compares the children's statuses);
//! - `"UNIT.score"`, `"UNIT.rank"`, `"UNIT.rating"`, `"UNIT.awards"`, … : a
//!   field of the unit;
//! - `"units"`: the unit ids in report order; `"warnings"`: codes that must be
//!   among the report's warnings.
//!
//! A case that fails because of a bug recorded in `tests/FINDINGS.md` has a
//! sibling `NAME.known-bug` naming the finding; it is left out of the main
//! tests and run by the ignored `known_bugs` test.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus_dir(stage: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("corpus")
        .join(stage)
}

/// Every `*.thidua` directly in the stage folder (helper files live in
/// sub-folders), sorted.
fn cases(stage: &str) -> Vec<PathBuf> {
    let dir = corpus_dir(stage);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "thidua"))
        .collect();
    v.sort();
    v
}

fn is_known_bug(case: &Path) -> bool {
    case.with_extension("known-bug").exists()
}

/// Severity of the codes of LANGUAGE.md §9.
fn spec_severity(code: &str) -> Option<&'static str> {
    Some(match code {
        "thidua::syntax"
        | "thidua::unknown-name"
        | "thidua::duplicate"
        | "thidua::type-mismatch"
        | "thidua::unit-mismatch"
        | "thidua::bad-date"
        | "thidua::import"
        | "thidua::cycle"
        | "thidua::data" => "error",
        "thidua::percent-bare-number"
        | "thidua::ambiguous-thousands"
        | "thidua::unused-indicator"
        | "thidua::deadline-outside-period"
        | "thidua::points-total"
        | "thidua::tie-at-limit"
        | "thidua::missing-column"
        | "thidua::unknown-column" => "warning",
        _ => return None,
    })
}

/// Checks one diagnostics case; returns the failures (empty when it passes).
fn run_check_case(case: &Path) -> Vec<String> {
    let mut fails = Vec::new();
    let name = case.file_name().unwrap().to_string_lossy().to_string();
    let exp_path = case.with_extension("expected");
    let Ok(expected) = std::fs::read_to_string(&exp_path) else {
        return vec![format!("{name}: no sibling {}", exp_path.display())];
    };
    let (r, diags) = check_json(case);
    if r.code == 101 {
        return vec![format!("{name}: thidua panicked:\n{}", r.stderr)];
    }
    let shown = || {
        diags
            .iter()
            .map(|d| {
                format!(
                    "  {} {} @{}:{} {} | help: {}",
                    d["severity"], d["code"], d["line"], d["column"], d["message"], d["help"]
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };

    // Shape of every diagnostic.
    for d in &diags {
        for k in ["line", "column", "end_line", "end_column"] {
            if d[k].as_u64().is_none_or(|n| n < 1) {
                fails.push(format!("{name}: `{k}` is not a 1-based number in {d}"));
            }
        }
        if (d["end_line"].as_u64(), d["end_column"].as_u64())
            < (d["line"].as_u64(), d["column"].as_u64())
        {
            fails.push(format!("{name}: the span ends before it starts in {d}"));
        }
        if d["message"].as_str().is_none_or(|m| m.trim().is_empty()) {
            fails.push(format!("{name}: empty message in {d}"));
        }
        if !matches!(d["severity"].as_str(), Some("error" | "warning")) {
            fails.push(format!(
                "{name}: severity is neither error nor warning in {d}"
            ));
        }
        let code = d["code"].as_str().unwrap_or("");
        if !code.starts_with("thidua::") {
            fails.push(format!("{name}: code `{code}` is not a thidua:: code"));
        }
        if let Some(sev) = spec_severity(code) {
            if d["severity"] != sev {
                fails.push(format!(
                    "{name}: `{code}` must be a{} {sev} (LANGUAGE.md §9), got {}",
                    if sev == "error" { "n" } else { "" },
                    d["severity"]
                ));
            }
        }
        if d["file"].as_str().is_none_or(|f| f.is_empty()) {
            fails.push(format!("{name}: no file in {d}"));
        }
    }

    // Exit code: 1 exactly when an error was reported.
    let has_error = diags.iter().any(|d| d["severity"] == "error");
    let want_code = if has_error { 1 } else { 0 };
    if r.code != want_code {
        fails.push(format!(
            "{name}: exit code {} but expected {want_code} (errors reported: {has_error})",
            r.code
        ));
    }

    for line in expected.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "none" {
            if !diags.is_empty() {
                fails.push(format!("{name}: expected no diagnostic, got:\n{}", shown()));
            }
        } else if line == "error" {
            if !has_error {
                fails.push(format!("{name}: expected an error, got:\n{}", shown()));
            }
        } else if let Some(text) = line.strip_prefix("!message~ ") {
            if diags
                .iter()
                .any(|d| d["message"].as_str().unwrap_or("").contains(text))
            {
                fails.push(format!(
                    "{name}: no message may contain `{text}`, got:\n{}",
                    shown()
                ));
            }
        } else if let Some(text) = line.strip_prefix("message~ ") {
            if !diags
                .iter()
                .any(|d| d["message"].as_str().unwrap_or("").contains(text))
            {
                fails.push(format!(
                    "{name}: no message contains `{text}`:\n{}",
                    shown()
                ));
            }
        } else if let Some(text) = line.strip_prefix("help~ ") {
            if !diags
                .iter()
                .any(|d| d["help"].as_str().unwrap_or("").contains(text))
            {
                fails.push(format!("{name}: no help contains `{text}`:\n{}", shown()));
            }
        } else if let Some(code) = line.strip_prefix('!') {
            if diags.iter().any(|d| d["code"] == code) {
                fails.push(format!(
                    "{name}: `{code}` must not be reported:\n{}",
                    shown()
                ));
            }
        } else if line.starts_with("thidua::") {
            let (code, at) = match line.split_once('@') {
                Some((c, l)) => (
                    c.trim(),
                    Some(l.trim().parse::<u64>().expect("line number after @")),
                ),
                None => (line, None),
            };
            let found = diags
                .iter()
                .any(|d| d["code"] == code && at.is_none_or(|l| d["line"].as_u64() == Some(l)));
            if !found {
                let where_ = at.map(|l| format!(" on line {l}")).unwrap_or_default();
                fails.push(format!(
                    "{name}: expected `{code}`{where_}, got:\n{}",
                    shown()
                ));
            }
            if spec_severity(code) == Some("error") && r.code != 1 {
                fails.push(format!(
                    "{name}: `{code}` is an error: exit code must be 1, got {}",
                    r.code
                ));
            }
        } else {
            fails.push(format!("{name}: cannot read the expectation `{line}`"));
        }
    }
    fails
}

/// A JSON value as the corpus writes it: decimals and statuses as strings.
fn same(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        // `actual`/`goal`/`gap` objects compare by their value.
        (Value::Object(o), e) if o.contains_key("value") && !e.is_object() => same(&o["value"], e),
        _ => actual == expected,
    }
}

fn run_eval_case(case: &Path) -> Vec<String> {
    let name = case.file_name().unwrap().to_string_lossy().to_string();
    let csv = case.with_extension("csv");
    let exp_path = case.with_extension("expected.json");
    let expected: Value = match std::fs::read_to_string(&exp_path) {
        Ok(t) => match serde_json::from_str(&t) {
            Ok(v) => v,
            Err(e) => return vec![format!("{name}: {} is not JSON: {e}", exp_path.display())],
        },
        Err(_) => return vec![format!("{name}: no sibling {}", exp_path.display())],
    };
    let r = run([
        "eval".as_ref(),
        case.as_os_str(),
        "--data".as_ref(),
        csv.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    if r.code != 0 {
        return vec![format!("{name}: eval exited {}:\n{}", r.code, r.stderr)];
    }
    let report = match serde_json::from_str::<Value>(&r.stdout) {
        Ok(v) => v,
        Err(e) => return vec![format!("{name}: eval output is not JSON: {e}")],
    };
    let mut fails = Vec::new();
    let Some(obj) = expected.as_object() else {
        return vec![format!("{name}: the expectations are not a JSON object")];
    };
    for (key, want) in obj {
        if key == "units" {
            let ids: Vec<Value> = report["units"]
                .as_array()
                .map(|a| a.iter().map(|u| u["id"].clone()).collect())
                .unwrap_or_default();
            if &Value::Array(ids.clone()) != want {
                fails.push(format!("{name}: units {ids:?}, expected {want}"));
            }
            continue;
        }
        if key == "warnings" {
            let got: Vec<String> = report["warnings"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|w| w["code"].as_str().unwrap_or("").to_string())
                        .collect()
                })
                .unwrap_or_default();
            for w in want.as_array().into_iter().flatten() {
                let w = w.as_str().unwrap_or("");
                if !got.iter().any(|g| g == w) {
                    fails.push(format!("{name}: warning `{w}` expected, got {got:?}"));
                }
            }
            continue;
        }
        let parts: Vec<&str> = key.split('.').collect();
        let Some(u) = report["units"]
            .as_array()
            .and_then(|a| a.iter().find(|u| u["id"] == parts[0]))
        else {
            fails.push(format!("{name}: no unit `{}` in the report", parts[0]));
            continue;
        };
        const UNIT_FIELDS: &[&str] = &[
            "score",
            "rank",
            "rating",
            "rating_label",
            "awards",
            "award_labels",
            "name",
            "bloc",
        ];
        let got: Value = if parts.len() == 2 && UNIT_FIELDS.contains(&parts[1]) {
            u[parts[1]].clone()
        } else {
            let Some(c) = u["criteria"]
                .as_array()
                .and_then(|a| a.iter().find(|c| c["id"] == parts[1]))
            else {
                fails.push(format!(
                    "{name}: no criterion `{}` for unit `{}`",
                    parts[1], parts[0]
                ));
                continue;
            };
            match parts.get(2) {
                None => c["status"].clone(),
                Some(&"children") => Value::Array(
                    c["children"]
                        .as_array()
                        .map(|a| a.iter().map(|ch| ch["status"].clone()).collect())
                        .unwrap_or_default(),
                ),
                Some(field) => c[*field].clone(),
            }
        };
        if !same(&got, want) {
            fails.push(format!("{name}: `{key}` is {got}, expected {want}"));
        }
    }
    fails
}

fn run_stage(stage: &str, known_bugs: bool) -> (usize, Vec<String>) {
    let mut fails = Vec::new();
    let mut n = 0;
    for case in cases(stage) {
        if is_known_bug(&case) != known_bugs {
            continue;
        }
        n += 1;
        let f = if stage == "eval" {
            run_eval_case(&case)
        } else {
            run_check_case(&case)
        };
        fails.extend(f);
    }
    (n, fails)
}

#[track_caller]
fn assert_stage(stage: &str, min_cases: usize) {
    let (n, fails) = run_stage(stage, false);
    assert!(n >= min_cases, "only {n} cases in tests/corpus/{stage}");
    assert!(
        fails.is_empty(),
        "{} failure(s) in tests/corpus/{stage}:\n{}",
        fails.len(),
        fails.join("\n\n")
    );
}

#[test]
fn corpus_syntax() {
    assert_stage("syntax", 8);
}

#[test]
fn corpus_check() {
    assert_stage("check", 30);
}

#[test]
fn corpus_eval() {
    assert_stage("eval", 8);
}

/// Every syntax case must fail with `thidua::syntax` (it is the stage that
/// decides them), and every `check` case must get past the parser.
#[test]
fn corpus_cases_sit_in_their_stage() {
    let mut fails = Vec::new();
    for case in cases("syntax") {
        let (_, d) = check_json(&case);
        if !codes(&d).iter().any(|c| c == "thidua::syntax") {
            fails.push(format!("{}: no thidua::syntax", case.display()));
        }
    }
    for case in cases("check") {
        let (_, d) = check_json(&case);
        if codes(&d).iter().any(|c| c == "thidua::syntax") {
            fails.push(format!(
                "{}: a check case that does not parse",
                case.display()
            ));
        }
    }
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

/// Every `check`-time code of LANGUAGE.md §9 is exercised by the corpus.
#[test]
fn corpus_covers_every_check_code() {
    let mut seen = std::collections::BTreeSet::new();
    for stage in ["syntax", "check"] {
        for case in cases(stage) {
            let t = std::fs::read_to_string(case.with_extension("expected")).unwrap_or_default();
            for l in t.lines() {
                let l = l.trim();
                if l.starts_with("thidua::") {
                    seen.insert(l.split('@').next().unwrap().trim().to_string());
                }
            }
        }
    }
    for code in [
        "thidua::syntax",
        "thidua::unknown-name",
        "thidua::duplicate",
        "thidua::type-mismatch",
        "thidua::unit-mismatch",
        "thidua::bad-date",
        "thidua::import",
        "thidua::cycle",
        "thidua::percent-bare-number",
        "thidua::ambiguous-thousands",
        "thidua::unused-indicator",
        "thidua::deadline-outside-period",
        "thidua::points-total",
    ] {
        assert!(seen.contains(code), "no corpus case expects `{code}`");
    }
}

/// The cases that fail because of a recorded bug (see FINDINGS.md). Run with
/// `cargo test -- --ignored` once the bugs are fixed, then delete the
/// `.known-bug` files.
#[test]
#[ignore = "see FINDINGS.md"]
fn known_bugs() {
    let mut fails = Vec::new();
    let mut n = 0;
    for stage in ["syntax", "check", "eval"] {
        let (k, f) = run_stage(stage, true);
        n += k;
        fails.extend(f);
    }
    // Passes trivially once every known bug is fixed.
    eprintln!("{n} known-bug case(s)");
    assert!(fails.is_empty(), "{}", fails.join("\n\n"));
}
