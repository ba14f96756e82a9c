//! Snapshot files (insta) of what a drafter reads: the human diagnostics of
//! every syntax and check case of the corpus, and the JSON of an example
//! evaluation. A change to any wording shows up as a snapshot diff.

use std::path::Path;
use thidua::diag::SourceMap;

fn cases(stage: &str) -> Vec<String> {
    let dir = Path::new("tests/corpus").join(stage);
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "thidua"))
        .map(|p| p.display().to_string())
        .collect();
    out.sort();
    out
}

fn diagnostics(path: &str) -> String {
    let mut sources = SourceMap::default();
    match thidua::check::check_file(Path::new(path), &mut sources) {
        Ok(c) => thidua::report::diagnostics::human(&c.diags, &sources, false),
        Err(e) => format!("unreadable: {}", e.0),
    }
}

#[test]
fn syntax_diagnostics() {
    for case in cases("syntax") {
        let name = Path::new(&case)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("case")
            .to_string();
        insta::assert_snapshot!(format!("syntax__{name}"), diagnostics(&case));
    }
}

#[test]
fn check_diagnostics() {
    for case in cases("check") {
        let name = Path::new(&case)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("case")
            .to_string();
        insta::assert_snapshot!(format!("check__{name}"), diagnostics(&case));
    }
}

#[test]
fn example_evaluation_json() {
    let root = Path::new("examples/bac_giang_2024");
    let mut sources = SourceMap::default();
    let prog = thidua::check::check_file(&root.join("plan.thidua"), &mut sources)
        .expect("readable")
        .program
        .expect("checks");
    let ds = thidua::data::read_files(
        &prog,
        &[root.join("data.csv")],
        thidua::data::Locale::En,
        false,
    )
    .expect("data");
    let ev = thidua::eval::evaluate(&prog, ds.rows).expect("evaluates");
    let json = thidua::report::eval_json(&prog, &ev, &ds.skipped, serde_json::json!([]));
    let text = serde_json::to_string_pretty(&json).expect("json");
    insta::assert_snapshot!("eval__bac_giang_2024_json", text);
}
