//! The `thidua` command as CLI.md describes it: exit codes, data errors,
//! locales, output formats, `--out`, `fmt`, `template`, and no panic on
//! hostile input.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

const PLAN: &str = r#"use std.units
campaign c "Chiến dịch thử" {
  period 2024-01-01 .. 2024-12-31
  indicator v "Giá trị" : triệu đồng
  indicator g "Tăng trưởng" : percent
  target t1 "Giá trị 1.000 triệu": v >= 1_000 triệu đồng { points 10 proportional }
  target t2 "Tăng trưởng 14,5%": g >= 14.5% { points 5 }
  rating xl "Xếp loại" {
    tot "Tốt" when score >= 14
    kha "Khá" otherwise
  }
  award co "Cờ thi đua" {
    when rating == tot
  }
}
"#;

const DATA: &str = "id,name,bloc,v,g\na,\"Huyện A, B\",K,1234.5,14.5\nb,B,K,999,\n";

fn project() -> Project {
    let p = Project::new();
    p.write("plan.thidua", PLAN);
    p.write("data.csv", DATA);
    p
}

// ---------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------

#[test]
fn exit_0_on_success() {
    let p = project();
    p.run(["check", "./plan.thidua"]).expect_code(0);
    p.run(["eval", "./plan.thidua", "--data", "./data.csv"])
        .expect_code(0);
    p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--format",
        "md",
    ])
    .expect_code(0);
    p.run(["test", "./plan.thidua"]).expect_code(0);
    p.run(["template", "./plan.thidua"]).expect_code(0);
    explain(&p, "./plan.thidua", "./data.csv", "a").expect_code(0);
    p.run([
        "explain",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--unit",
        "a",
        "t1",
    ])
    .expect_code(0);
}

#[test]
fn exit_2_on_a_path_that_does_not_exist() {
    let p = project();
    for args in [
        vec!["check", "./nope.thidua"],
        vec!["check", "./nope-dir"],
        vec!["eval", "./nope.thidua", "--data", "./data.csv"],
        vec!["eval", "./plan.thidua", "--data", "./nope.csv"],
        vec![
            "eval",
            "./plan.thidua",
            "--data",
            "./data.csv",
            "--data",
            "./nope.json",
        ],
        vec![
            "explain",
            "./plan.thidua",
            "--data",
            "./nope.csv",
            "--unit",
            "a",
        ],
        vec!["test", "./nope.thidua"],
        vec!["fmt", "./nope.thidua"],
        vec!["fmt", "--check", "./nope.thidua"],
        vec!["template", "./nope.thidua"],
    ] {
        let r = p.run(&args);
        assert_eq!(
            r.code, 2,
            "{args:?}: expected 2, got {}\n{}",
            r.code, r.stderr
        );
        assert!(!r.stderr.trim().is_empty(), "{args:?}: say why on stderr");
        assert!(
            r.stdout.trim().is_empty(),
            "{args:?}: nothing on stdout, got {}",
            r.stdout
        );
    }
}

/// `--data` takes every value up to the next option: a plan written after
/// the data files is still the plan.
#[test]
fn the_plan_may_follow_the_data_files() {
    let p = project();
    let before = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--format",
        "csv",
    ]);
    before.expect_code(0);
    let after = p.run([
        "eval",
        "--data",
        "./data.csv",
        "./plan.thidua",
        "--format",
        "csv",
    ]);
    after.expect_code(0);
    assert_eq!(before.stdout, after.stdout);
    p.run([
        "explain",
        "--data",
        "./data.csv",
        "./plan.thidua",
        "--unit",
        "a",
    ])
    .expect_code(0)
    .expect_stdout("t1");
    // A criterion after the plan goes to `--data` too: it is still the
    // criterion.
    let one = p.run([
        "explain",
        "--data",
        "./data.csv",
        "./plan.thidua",
        "t2",
        "--unit",
        "a",
    ]);
    one.expect_code(0).expect_stdout("t2");
    assert!(!one.stdout.contains("t1 \""), "{}", one.stdout);
    // A criterion after `--unit` then takes the plan's place.
    let one = p.run([
        "explain",
        "--data",
        "./data.csv",
        "./plan.thidua",
        "--unit",
        "a",
        "t2",
    ]);
    one.expect_code(0).expect_stdout("t2");
    assert!(!one.stdout.contains("t1 \""), "{}", one.stdout);
}

#[test]
fn exit_2_on_bad_usage() {
    let p = project();
    for args in [
        vec!["frobnicate"],
        vec!["check"],
        vec!["eval", "./plan.thidua"],
        vec![
            "eval",
            "./plan.thidua",
            "--data",
            "./data.csv",
            "--format",
            "xml",
        ],
        vec![
            "eval",
            "./plan.thidua",
            "--data",
            "./data.csv",
            "--locale",
            "fr",
        ],
        vec!["check", "--format", "sarif2", "./plan.thidua"],
        vec!["check", "--no-such-flag", "./plan.thidua"],
        vec!["explain", "./plan.thidua", "--data", "./data.csv"],
        vec![
            "explain",
            "./plan.thidua",
            "--data",
            "./data.csv",
            "--unit",
            "a",
            "--format",
            "csv",
        ],
        vec!["template", "./plan.thidua", "--format", "xlsx2"],
        vec!["eval", "--data", "./data.csv"],
        vec!["eval", "--data", "./plan.thidua"],
    ] {
        let r = p.run(&args);
        assert_eq!(
            r.code, 2,
            "{args:?}: expected 2, got {}\n{}",
            r.code, r.stderr
        );
    }
}

#[test]
fn non_utf8_plan_is_exit_1_with_syntax() {
    let p = Project::new();
    let f = p.write(
        "bad.thidua",
        b"campaign c \"\xff\xfe\" {\n  period 2024-01-01 .. 2024-12-31\n}\n",
    );
    let (r, d) = check_json(&f);
    r.expect_code(1);
    assert!(codes(&d).iter().any(|c| c == "thidua::syntax"), "{d:#?}");
    // eval with that plan cannot run either, but it is not a usage error.
    p.write("data.csv", "id\na\n");
    let r = p.run(["eval", "./bad.thidua", "--data", "./data.csv"]);
    r.expect_code(1).expect_no_panic();
}

#[test]
fn check_errors_exit_1_warnings_exit_0_unless_denied() {
    let p = Project::new();
    p.write(
        "warn.thidua",
        "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator g \"G\" : percent\n  target t1 \"T1\": g >= 14.5\n}\n",
    );
    p.write("err.thidua", "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  target t1 \"T1\": khong_co >= 1\n}\n");
    p.run(["check", "./warn.thidua"]).expect_code(0);
    p.run(["check", "--deny-warnings", "./warn.thidua"])
        .expect_code(1);
    p.run(["check", "./err.thidua"]).expect_code(1);
    // A directory is checked recursively; one bad file fails the run.
    p.run(["check", "."]).expect_code(1);
}

/// CLI.md: `thidua test` runs the tests of the files it is given. A test
/// file that imports a plan does not run the plan's own tests again, so a
/// directory with both counts each test once.
#[test]
fn test_runs_each_test_once() {
    let p = Project::new();
    let test = |name: &str| {
        format!("test \"{name}\" {{\n  given a {{ v = 1_000 triệu đồng, g = 15% }}\n  expect a.t1 is met\n}}\n")
    };
    p.write("plan.thidua", format!("{PLAN}\n{}", test("in the plan")));
    p.write(
        "tests.thidua",
        format!("use \"plan.thidua\"\n{}", test("beside it")),
    );
    let r = p.run(["test", "./tests.thidua"]);
    r.expect_code(0);
    r.expect_stdout_end("1 passed, 0 failed");
    assert!(!r.stdout.contains("in the plan"), "{}", r.stdout);
    let r = p.run(["test", "."]);
    r.expect_code(0);
    r.expect_stdout_end("2 passed, 0 failed");
}

#[test]
fn test_command_reports_passed_and_failed() {
    let p = Project::new();
    let plan = format!(
        "{PLAN}\ntest \"t\" {{\n  given a {{ v = 1_000 triệu đồng, g = 15% }}\n  expect a.t1 is met\n  expect a.t2 is exceeded\n  expect a.score == 15\n}}\n"
    );
    p.write("plan.thidua", &plan);
    let r = p.run(["test", "./plan.thidua"]);
    r.expect_code(0);
    r.expect_stdout_end("1 passed, 0 failed");
    p.write(
        "plan.thidua",
        plan.replace("a.score == 15", "a.score == 16"),
    );
    let r = p.run(["test", "./plan.thidua"]);
    r.expect_code(1);
    r.expect_stdout_end("0 passed, 1 failed");
}

/// LANGUAGE.md §8: a failing `expect` shows its expected and actual values
/// as the plan writes them (`15.2%`, `1_000 triệu đồng`, a rating's id and
/// label), not as the stored base number.
#[test]
fn test_failures_show_values_as_written() {
    let p = Project::new();
    let plan = format!(
        "{PLAN}\ntest \"t\" {{\n  given a {{ v = 900, g = 15.2% }}\n  expect a.g == 14%\n  expect a.v == 950 triệu đồng\n  expect a.rating == kha\n}}\n"
    );
    p.write("plan.thidua", &plan);
    let r = p.run(["test", "./plan.thidua"]);
    r.expect_code(1)
        .expect_stdout("expected: == 14%\n    actual:   15.2%")
        .expect_stdout("expected: == 950 triệu đồng\n    actual:   900 triệu đồng")
        .expect_stdout("expected: == kha (Khá)\n    actual:   tot (Tốt)");
}

/// A plan saved with Windows line ends gets the same excerpt as with `\n`:
/// each line numbered once, the right one.
#[test]
fn a_crlf_plan_is_quoted_with_its_own_line_numbers() {
    let p = Project::new();
    p.write(
        "plan.thidua",
        "campaign c \"C\" {\r\n  period 2024-01-01 .. 2024-12-31\r\n  indicator a \"A\" : number\r\n  indicator b \"B\" : number\r\n  target t \"T\": a >= 1\r\n}\r\n",
    );
    let r = p.run(["check", "--color", "never", "./plan.thidua"]);
    r.expect_code(0)
        .expect_stdout("plan.thidua:4:13")
        .expect_stdout(" 3 │   indicator a")
        .expect_stdout(" 4 │   indicator b");
}

/// CLI.md: `--deny-warnings` fails `test` on a warning, those of a test's
/// own run included (here a tie at an award's limit), which are shown.
#[test]
fn test_run_warnings_are_shown_and_denied() {
    let p = Project::new();
    p.write(
        "plan.thidua",
        "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator a \"A\" : number\n  target t1 \"T1\": a >= 10 { points 10 }\n  award x \"X\" {\n    when score > 0\n    limit 1 per bloc\n  }\n}\ntest \"tie\" {\n  given u1 { a = 10 }\n  given u2 { a = 10 }\n  expect u1 has x\n}\ntest \"tie again\" {\n  given u1 { a = 10 }\n  given u2 { a = 10 }\n  expect not (u2 has x)\n}\n",
    );
    let r = p.run(["test", "./plan.thidua"]);
    r.expect_code(0).expect_stderr("thidua::tie-at-limit");
    // Once, though two tests meet it.
    assert_eq!(
        r.stderr.matches("thidua::tie-at-limit").count(),
        1,
        "{}",
        r.stderr
    );
    p.run(["test", "--deny-warnings", "./plan.thidua"])
        .expect_code(1)
        .expect_stdout("2 passed, 0 failed")
        .expect_stdout("--deny-warnings");
}

/// CLI.md: `explain` traces a criterion to its inputs, through the lets it
/// reads down to the data.
#[test]
fn explain_follows_lets_to_the_data() {
    let p = Project::new();
    p.write(
        "plan.thidua",
        "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator a \"A\" : number\n  indicator b \"B\" : number\n  let s = a + b\n  let d = s * 2\n  target t1 \"T1\": d >= 5\n}\n",
    );
    p.write("d.csv", "id,a,b\nu1,2,4\n");
    explain(&p, "./plan.thidua", "./d.csv", "u1")
        .expect_code(0)
        .expect_stdout("input a = 2")
        .expect_stdout("input b = 4")
        .expect_stdout("let s = 6")
        .expect_stdout("let d = 12");
}

// ---------------------------------------------------------------------------
// Data errors
// ---------------------------------------------------------------------------

#[test]
fn bad_data_cell_is_exit_1_naming_file_row_column_and_nothing_on_stdout() {
    let p = project();
    p.write("bad.csv", "id,v,g\na,1000,14.5\nb,abc,14.5\nc,1000,15\n");
    for fmt in ["json", "csv", "table", "md"] {
        let r = p.run([
            "eval",
            "./plan.thidua",
            "--data",
            "./bad.csv",
            "--format",
            fmt,
        ]);
        r.expect_code(1);
        assert!(
            r.stdout.is_empty(),
            "--format {fmt}: nothing on stdout on bad data, got:\n{}",
            r.stdout
        );
        r.expect_stderr("thidua::data");
        assert!(r.stderr.contains("bad.csv"), "names the file: {}", r.stderr);
        assert!(
            r.stderr.contains('3'),
            "names the row (line 3): {}",
            r.stderr
        );
        assert!(r.stderr.contains("`v`"), "names the column: {}", r.stderr);
        assert!(r.stderr.contains("abc"), "shows the cell: {}", r.stderr);
    }
}

/// The row of a data error is the line of the file it is on, with the
/// skipped `#` lines and blank lines counted, and a quoted cell that spans
/// lines starting on its first.
/// "A cell it cannot read is a data error, never a guess" (CLI.md): a
/// number with more digits than a decimal holds is not rounded.
#[test]
fn a_cell_too_precise_for_a_decimal_is_a_data_error() {
    let p = project();
    p.write(
        "fine.csv",
        "id,v,g\na,1000,14.50000000000000000000000000001\n",
    );
    p.write(
        "fine.json",
        r#"[{"id": "a", "v": 1000, "g": 14.50000000000000000000000000001}]"#,
    );
    for data in ["./fine.csv", "./fine.json"] {
        p.run(["eval", "./plan.thidua", "--data", data])
            .expect_code(1)
            .expect_stderr("at most 28 significant digits");
    }
    // Nor once a percent is divided by 100, nor in scientific notation.
    p.write("pct.csv", "id,v,g\na,1000,0.1450000000000000000000000001\n");
    p.write(
        "sci.json",
        r#"[{"id": "a", "v": 1.23456789012345678901234567890123e3, "g": 14.5}]"#,
    );
    for data in ["./pct.csv", "./sci.json"] {
        p.run(["eval", "./plan.thidua", "--data", data])
            .expect_code(1)
            .expect_stderr("at most 28 significant digits");
    }
    p.write("sci.json", r#"[{"id": "a", "v": 1.5e3, "g": 1.45E+1}]"#);
    let j = eval_json_in(&p, "./plan.thidua", "./sci.json");
    j.expect_code(0);
    assert_eq!(
        j.json()["units"][0]["criteria"][1]["actual"]["value"],
        "14.5"
    );
}

#[test]
fn a_data_error_names_the_line_past_comments_and_blank_lines() {
    let p = project();
    p.write(
        "bad.csv",
        "# nhập liệu\n\nid,v,g\r\n# ghi chú\r\n\r\na,1000,14.5\nb,\"12\n# x\",14.5\n\n#\nc,abc,15\n",
    );
    let r = p.run(["eval", "./plan.thidua", "--data", "./bad.csv"]);
    r.expect_code(1);
    r.expect_stderr("bad.csv:7 (column `v`)");
    r.expect_stderr("bad.csv:11 (column `v`)");
}

/// Old Mac files end their lines with `\r` alone ("CSV (Macintosh)"): a
/// `#` line ends there (every row after it was read as part of the
/// comment), and rows are counted by those lines. Header errors name the
/// header's own line.
#[test]
fn carriage_return_lines_and_the_header_line() {
    let p = project();
    p.write(
        "mac.csv",
        "id,v,g\r# ghi chú\ra,1000,14.5\rb,1000,15\rc,1000,16\r",
    );
    let r = eval_json_in(&p, "./plan.thidua", "./mac.csv");
    r.expect_code(0);
    assert_eq!(unit_ids(&r.json()), ["a", "b", "c"]);
    p.write("mac_bad.csv", "id,v,g\ra,1000,14.5\r#\rb,abc,15\r");
    let r = p.run(["eval", "./plan.thidua", "--data", "./mac_bad.csv"]);
    r.expect_code(1);
    r.expect_stderr("mac_bad.csv:4 (column `v`)");
    p.write("head.csv", "# nhập liệu\n\nid,v,v,g\na,1,1,1\n");
    let r = p.run(["eval", "./plan.thidua", "--data", "./head.csv"]);
    r.expect_code(1);
    r.expect_stderr("head.csv:3 (column `v`)");
}

#[test]
fn all_data_errors_are_reported() {
    let p = project();
    p.write(
        "bad.csv",
        "id,v,g\na,x1,14.5\nb,1000,y2\n,1,1\nd,1,1\nd,2,2\n",
    );
    let r = eval_json_in(&p, "./plan.thidua", "./bad.csv");
    r.expect_code(1);
    assert!(r.stdout.is_empty());
    for needle in ["x1", "y2", "`id`", "`d`"] {
        assert!(
            r.stderr.contains(needle),
            "every error is reported: `{needle}` missing in\n{}",
            r.stderr
        );
    }
    assert!(
        r.stderr.matches("thidua::data").count() >= 4,
        "{}",
        r.stderr
    );
}

#[test]
fn parent_cycle_is_a_data_error() {
    let p = project();
    p.write("cyc.csv", "id,parent,v,g\na,b,1,1\nb,a,2,2\n");
    let r = p.run(["eval", "./plan.thidua", "--data", "./cyc.csv"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("thidua::data") && r.stderr.contains("parent"),
        "{}",
        r.stderr
    );
}

/// CLI.md: with `--skip-bad-rows` the bad rows are listed and the rest is
/// evaluated, a parent cycle and an unknown parent included (and the units
/// below them, whose collective is left out).
#[test]
fn skip_bad_rows_leaves_out_parent_cycles_and_unknown_parents() {
    let p = project();
    p.write(
        "par.csv",
        "id,parent,v,g\na,,1000,15\nb,a,1000,15\nc,x,1000,15\nd,c,1000,15\ne,f,1000,15\nf,e,1000,15\n",
    );
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./par.csv",
        "--skip-bad-rows",
        "--format",
        "json",
    ]);
    r.expect_code(0);
    let j = r.json();
    let ids = unit_ids(&j);
    assert_eq!(ids, ["a", "b"]);
    let skipped: Vec<i64> = j["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["row"].as_i64().unwrap())
        .collect();
    assert_eq!(skipped, [4, 5, 6, 7], "{:#}", j["skipped"]);
    r.expect_stderr("skipped ./par.csv:4");
    // Without the flag: data errors, nothing evaluated.
    let r = p.run(["eval", "./plan.thidua", "--data", "./par.csv"]);
    r.expect_code(1);
    assert!(r.stdout.is_empty());
}

#[test]
fn skip_bad_rows_is_exit_0_and_lists_the_skipped_rows() {
    let p = project();
    p.write("bad.csv", "id,v,g\na,1000,14.5\nb,abc,14.5\nc,1000,15\n");
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./bad.csv",
        "--format",
        "json",
        "--skip-bad-rows",
    ]);
    r.expect_code(0);
    let j = r.json();
    let ids = unit_ids(&j);
    assert_eq!(ids, ["a", "c"]);
    let skipped = j["skipped"].as_array().expect("skipped array");
    assert_eq!(skipped.len(), 1, "{skipped:#?}");
    let s = &skipped[0];
    assert!(
        s["file"].as_str().is_some_and(|f| f.ends_with("bad.csv")),
        "{s}"
    );
    assert_eq!(s["row"], 3, "{s}");
    assert!(
        s["reason"].as_str().is_some_and(|m| m.contains("abc")),
        "{s}"
    );
}

/// The table gives each criterion's label after what was found, so that a
/// reader need not look the ids up in the plan.
#[test]
fn the_table_names_each_criterion_in_the_plans_words() {
    let p = project();
    let r = p.run(["eval", "./plan.thidua", "--data", "./data.csv"]);
    r.expect_code(0);
    let line = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("t2 "))
        .unwrap_or_else(|| panic!("no line for t2: {}", r.stdout));
    assert!(line.ends_with("  · Tăng trưởng 14,5%"), "{line}");
    assert!(line.contains("met"), "{line}");
}

/// A bad cell is shown in its line, pointed at, with its row and column:
/// a quoted separator does not move it, and a long line is cut around it.
#[test]
fn a_bad_cell_is_shown_in_its_line() {
    let p = project();
    let long = "x".repeat(5000);
    p.write(
        "bad.csv",
        format!("# đơn vị\nid,name,v,g\na,\"Xã A, huyện B\",abc,14.5\nb,{long},1000,zz\n"),
    );
    let r = p.run(["eval", "./plan.thidua", "--data", "./bad.csv"]);
    r.expect_code(1);
    // The header names the column; the message does not say it again.
    r.expect_stderr("./bad.csv:3 (column `v`): `abc` is not a number\n");
    r.expect_stderr("3 │ a,\"Xã A, huyện B\",abc,14.5")
        .expect_stderr("this cell")
        .expect_stderr("[./bad.csv:3:")
        .expect_stderr("[./bad.csv:4:")
        .expect_stderr("4 │ …xxx")
        .expect_stderr("xxx,1000,zz\n");
}

#[test]
fn unknown_and_missing_columns_are_warnings() {
    let p = project();
    p.write("d.csv", "id,v,zzz\na,1000,1\n");
    let r = eval_json_in(&p, "./plan.thidua", "./d.csv");
    r.expect_code(0);
    let j = r.json();
    let w: Vec<&Value> = j["warnings"].as_array().unwrap().iter().collect();
    let find = |code: &str| w.iter().find(|x| x["code"] == code).copied();
    let unknown = find("thidua::unknown-column").unwrap_or_else(|| panic!("{w:#?}"));
    assert!(unknown["message"].as_str().unwrap().contains("zzz"));
    assert_eq!(unknown["severity"], "warning");
    // Line and columns of the header cell `zzz` in `id,v,zzz`.
    assert_eq!(
        (&unknown["line"], &unknown["column"], &unknown["end_column"]),
        (
            &serde_json::json!(1),
            &serde_json::json!(6),
            &serde_json::json!(9)
        ),
        "{unknown}"
    );
    let missing = find("thidua::missing-column").unwrap_or_else(|| panic!("{w:#?}"));
    assert!(missing["message"].as_str().unwrap().contains('g'));
    // Every unit is missing `g`.
    assert_eq!(status(&j, "a", "t2"), "missing");
    // Warning entries have the shape of `check --format json` diagnostics.
    for x in &w {
        for k in [
            "severity",
            "code",
            "message",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "help",
        ] {
            assert!(x.get(k).is_some(), "warning without `{k}`: {x}");
        }
    }
}

#[test]
fn data_files_are_concatenated_comments_skipped_json_read_exactly() {
    let p = project();
    p.write("one.csv", "id,v,g\n# a comment line\na,1000,14.5\n");
    p.write(
        "two.json",
        r#"{"units": [{"id": "b", "v": 999.99999999999999999, "g": 14.5, "name": null}]}"#,
    );
    p.write("three.json", r#"[{"id": "c", "v": null, "g": "15%"}]"#);
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./one.csv",
        "--data",
        "./two.json",
        "--data",
        "./three.json",
        "--format",
        "json",
    ]);
    r.expect_code(0);
    let j = r.json();
    let ids = unit_ids(&j);
    assert_eq!(ids, ["a", "b", "c"]);
    // Never through a float: 999.99999999999999999 stays below 1000.
    assert_eq!(
        crit(&j, "b", "t1")["actual"]["value"],
        "999.99999999999999999"
    );
    assert_eq!(status(&j, "b", "t1"), "not_met");
    // A JSON number for a percent is in percent points.
    assert_eq!(status(&j, "b", "t2"), "met");
    assert_eq!(status(&j, "c", "t1"), "missing");
    assert_eq!(status(&j, "c", "t2"), "exceeded");
}

/// CLI.md: values are objects, bools as JSON booleans; every result
/// carries its actual, for `==`, `!=` and a bool condition too.
#[test]
fn bool_and_text_targets_carry_their_actual() {
    let p = Project::new();
    p.write(
        "plan.thidua",
        "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator done \"Xong\" : bool\n  indicator note \"Ghi chú\" : text\n  indicator n \"N\" : number\n  target tb \"B\": done\n  target tt \"T\": note == \"ok\"\n  target tn \"N\": n != 3\n}\n",
    );
    p.write("d.csv", "id,done,note,n\nu,no,ok,5\nv,,,\n");
    let r = eval_json_in(&p, "./plan.thidua", "./d.csv");
    r.expect_code(0);
    let j = r.json();
    assert_eq!(status(&j, "u", "tb"), "not_met");
    assert_eq!(
        crit(&j, "u", "tb")["actual"],
        serde_json::json!({"value": false, "unit": null})
    );
    assert_eq!(status(&j, "u", "tt"), "met");
    assert_eq!(
        crit(&j, "u", "tt")["actual"],
        serde_json::json!({"value": "ok", "unit": null})
    );
    assert_eq!(
        crit(&j, "u", "tt")["goal"],
        serde_json::json!({"value": "ok", "unit": null})
    );
    assert_eq!(status(&j, "u", "tn"), "met");
    assert_eq!(crit(&j, "u", "tn")["actual"]["value"], "5");
    assert_eq!(crit(&j, "u", "tn")["goal"]["value"], "3");
    // Missing: `null`, and the status says so.
    for t in ["tb", "tt", "tn"] {
        assert_eq!(status(&j, "v", t), "missing", "{t}");
        assert!(crit(&j, "v", t)["actual"].is_null(), "{t}");
    }
}

/// LANGUAGE.md §6: outputs give both the id and the label of a rating
/// and of an award (the table gave the award ids alone, Markdown the
/// labels alone).
#[test]
fn ratings_and_awards_show_id_and_label() {
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bac_giang_2024");
    for fmt in ["table", "md"] {
        let r = run_in(
            Some(&ex),
            ["eval", "plan.thidua", "--data", "data.csv", "--format", fmt],
        );
        r.expect_code(0);
        assert!(
            r.stdout.contains("co_thi_dua (Cờ thi đua"),
            "--format {fmt}:\n{}",
            r.stdout
        );
        assert!(
            r.stdout.contains("xuat_sac (Xuất sắc)"),
            "--format {fmt}:\n{}",
            r.stdout
        );
    }
}

/// A result missing although its data is there says why in `explain`:
/// a division by zero, a date out of range. Missing data says nothing more
/// than its input line.
#[test]
fn explain_says_why_a_result_with_its_data_is_missing() {
    let p = Project::new();
    p.write(
        "plan.thidua",
        "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator x \"X\" : number\n  indicator d \"D\" : date\n  target t \"T\": 10 / x >= 2\n  target u \"U\": d + 99999999999 years > 2024-01-01\n}\n",
    );
    p.write("d.csv", "id,x,d\na,0,2024-01-01\nb,,\n");
    let r = explain(&p, "./plan.thidua", "./d.csv", "a");
    r.expect_code(0);
    r.expect_stdout("missing because of a division by zero\n");
    assert!(
        r.stdout
            .contains("missing because of a date out of range (01/01/2024 plus"),
        "{}",
        r.stdout
    );
    let r = explain(&p, "./plan.thidua", "./d.csv", "b");
    r.expect_code(0);
    assert!(!r.stdout.contains("because of"), "{}", r.stdout);
    // Through a `let`; not through `previous`, whose values are another
    // period's.
    p.write(
        "plan2.thidua",
        "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator x \"X\" : number\n  let r = 10 / x\n  target t \"T\": r >= 2\n  target u \"U\": previous(10 / x) >= 2\n}\n",
    );
    let r = explain(&p, "./plan2.thidua", "./d.csv", "a");
    r.expect_code(0);
    assert_eq!(
        r.stdout.matches("because of a division by zero").count(),
        1,
        "{}",
        r.stdout
    );
    // And in the JSON trace.
    let r = p.run([
        "explain",
        "./plan2.thidua",
        "--data",
        "./d.csv",
        "--unit",
        "a",
        "--format",
        "json",
    ]);
    r.expect_code(0);
    let j = r.json();
    let why: Vec<&serde_json::Value> = j["criteria"]
        .as_array()
        .map(|cs| cs.iter().map(|c| &c["missing_because"]).collect())
        .unwrap_or_default();
    assert_eq!(
        why,
        [
            &serde_json::json!(["a division by zero"]),
            &serde_json::json!([])
        ]
    );
}

/// `thidua explain PLAN --data DATA --unit UNIT` in the project.
fn explain(p: &Project, plan: &str, data: &str, unit: &str) -> Run {
    p.run(["explain", plan, "--data", data, "--unit", unit])
}

/// `thidua eval PLAN --data DATA --format json` in the project.
fn eval_json_in(p: &Project, plan: &str, data: &str) -> Run {
    p.run(["eval", plan, "--data", data, "--format", "json"])
}

/// A quotient unit is shown as the plan writes it: `giường/10_000 người`,
/// not `giường/10000 người`.
#[test]
fn a_quotient_unit_keeps_its_written_number() {
    let p = Project::new();
    p.write(
        "plan.thidua",
        "use std.units\ncampaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator beds \"B\" : giường/10_000 người\n  target t1 \"T1\": beds >= 34.4 giường/10_000 người\n}\n",
    );
    p.write("d.csv", "id,beds\nx,34.4\n");
    let r = eval_json_in(&p, "./plan.thidua", "./d.csv");
    r.expect_code(0);
    let j = r.json();
    let c = &j["units"][0]["criteria"][0];
    assert_eq!(c["actual"]["unit"], "giường/10_000 người", "{c:#}");
    assert_eq!(c["goal"]["unit"], "giường/10_000 người", "{c:#}");
}

/// The REPL with piped input: its standard output and error, together.
fn repl_script(args: &[&str], script: &str) -> String {
    use std::io::Write as _;
    let mut child = bin()
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the REPL starts");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .expect("the script is written");
    }
    let out = child.wait_with_output().expect("the REPL ends");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// CLI.md: in the REPL errors are shown and never end the session. Bad
/// data is reported, its rows left out and the rest kept; a data file that
/// does not exist is exit 2, like a plan that does not exist; `:set` takes
/// a percent with its `%`, as a test's `given` does (LANGUAGE.md §8).
#[test]
fn repl_reports_bad_data_and_wants_percents_with_their_sign() {
    let p = project();
    p.write(
        "bad.csv",
        "id,v,g\na,xyz,14.5\nb,999,15\nb,998,15\nc,1000,16\n",
    );
    let plan = p.path("plan.thidua");
    let bad = p.path("bad.csv");
    let (plan, bad) = (plan.to_string_lossy(), bad.to_string_lossy());
    let out = repl_script(&["repl", &plan, "--data", &bad], ":units\n");
    assert!(out.contains("`xyz` is not a number"), "{out}");
    assert!(out.contains("appears twice"), "{out}");
    assert!(out.contains("2 data errors"), "{out}");
    assert!(out.contains("\nc "), "the good rows are kept: {out}");
    let missing = p.path("missing.csv");
    p.run(["repl", &plan, "--data", &missing.to_string_lossy()])
        .expect_code(2)
        .expect_stderr("does not exist");
    p.run(["repl", &plan, "--data", &p.path(".").to_string_lossy()])
        .expect_code(2)
        .expect_stderr("not a file");
    // Units in a parent cycle, or below a missing parent, are left out, so
    // the others still evaluate.
    p.write(
        "cycle.csv",
        "id,parent,v,g\na,b,1,1\nb,a,2,2\nc,,1000,15\nd,zz,1,1\n",
    );
    let out = repl_script(
        &[
            "repl",
            &plan,
            "--data",
            &p.path("cycle.csv").to_string_lossy(),
        ],
        ":units\n:unit c\nscore\n",
    );
    assert!(out.contains("left out"), "{out}");
    assert!(out.contains("own ancestor"), "{out}");
    assert!(!out.contains("the data has errors"), "{out}");
    assert!(out.contains("\n15\n"), "c is scored: {out}");
    let data = p.path("data.csv");
    let out = repl_script(
        &["repl", &plan, "--data", &data.to_string_lossy()],
        ":unit a\n:set g = 14\n:set g = 14%\n",
    );
    assert!(out.contains("`g` is a percent: write it with `%`"), "{out}");
    assert!(out.contains("what-if g = 14%"), "{out}");
}

/// CLI.md: an expression shows its type when no unit is selected, with no
/// plan loaded too (the session has a campaign of its own).
#[test]
fn repl_without_a_plan_gives_types_and_takes_declarations() {
    let out = repl_script(
        &["repl"],
        "14.5% * 2\nindicator g \"G\" : percent\nlet gap = g - 14.5%\n:type gap\n",
    );
    assert!(out.contains(": percent\nadded\nadded\n: percent"), "{out}");
    assert!(!out.contains("load a plan first"), "{out}");
    // Input still open when it ends is checked as it is, not dropped.
    let out = repl_script(&["repl"], "let z = (1\n");
    assert!(out.contains("found the end of the input"), "{out}");
    // A `}` that closes nothing typed would close the session's campaign.
    let out = repl_script(&["repl"], "let z = 1 }\n");
    assert!(
        out.contains("this `}` closes no `{` of what you typed"),
        "{out}"
    );
}

/// The REPL shows the checker's warnings about the input, and an input that
/// ends too soon is reported against the input, not the plan.
#[test]
fn repl_shows_warnings_and_where_the_input_ends() {
    let out = repl_script(
        &[
            "repl",
            "examples/bac_giang_2024/plan.thidua",
            "--data",
            "examples/bac_giang_2024/data.csv",
        ],
        ":unit hiep_hoa\ngrdp_growth > 2\nlet z =\nrating == xuat_sac\n",
    );
    // `rating == …` is a comparison, not a `rating` declaration.
    assert!(out.contains("\ncó\n"), "{out}");
    assert!(out.contains("thidua::percent-bare-number"), "{out}");
    assert!(out.contains("did you mean 2%?"), "{out}");
    assert!(out.contains("found the end of the input"), "{out}");
    assert!(!out.contains("plan.thidua:"), "{out}");
}

/// LANGUAGE.md §1: a `///` doc comment is shown in reports and the REPL,
/// whatever it documents.
#[test]
fn doc_comments_are_shown() {
    let p = Project::new();
    p.write(
        "plan.thidua",
        "/// Kế hoạch số 1.\ncampaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  /// Theo báo cáo của Cục Thống kê.\n  indicator g \"G\" : percent\n  /// Khoảng cách tới mục tiêu.\n  let gap = g - 14.5%\n  target t \"T\": gap >= 0%\n  target u \"U\": g >= 14.5%\n}\n",
    );
    p.write("d.csv", "id,g\na,15\n");
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./d.csv",
        "--format",
        "md",
    ]);
    r.expect_code(0);
    r.expect_stdout("Kế hoạch số 1.");
    let r = explain(&p, "./plan.thidua", "./d.csv", "a");
    r.expect_code(0);
    r.expect_stdout("/// Theo báo cáo của Cục Thống kê.");
    r.expect_stdout("/// Khoảng cách tới mục tiêu.");
}

/// The Markdown table names each unit by id and name and each status by
/// the language's word, with the Vietnamese beside it.
#[test]
fn markdown_gives_ids_and_status_words() {
    let p = project();
    p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--format",
        "md",
    ])
    .expect_code(0)
    .expect_stdout("| a (Huyện A, B) |")
    .expect_stdout("exceeded (vượt)")
    .expect_stdout("missing (thiếu số liệu)");
}

/// Achievement is a ratio over a positive divisor only: a negative goal
/// missed gives no achievement and no proportional points.
#[test]
fn no_achievement_over_a_goal_that_is_not_positive() {
    let p = Project::new();
    p.write(
        "plan.thidua",
        "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator x \"X\" : number\n  target d \"D\": x >= -5 { points 10 proportional }\n  target e \"E\": x >= 4 { points 10 proportional }\n}\n",
    );
    p.write("d.csv", "id,x\nv,-10\nw,2\n");
    let r = eval_json_in(&p, "./plan.thidua", "./d.csv");
    r.expect_code(0);
    let j = r.json();
    assert_eq!(status(&j, "v", "d"), "not_met");
    assert!(crit(&j, "v", "d")["achievement"].is_null());
    assert_eq!(crit(&j, "v", "d")["points"], "0");
    assert_eq!(crit(&j, "w", "e")["achievement"], "0.5");
    assert_eq!(crit(&j, "w", "e")["points"], "5");
}

/// CLI.md writes `eval PLAN --data FILE…`: several files after one `--data`.
#[test]
fn data_takes_several_files_after_one_flag() {
    let p = project();
    p.write("one.csv", "id,v,g\na,1000,14.5\n");
    p.write("two.csv", "id,v,g\nb,1000,14.5\n");
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./one.csv",
        "./two.csv",
        "--format",
        "json",
    ]);
    r.expect_code(0);
    assert_eq!(r.json()["units"].as_array().map(|a| a.len()), Some(2));
}

#[test]
fn bool_cells_in_every_spelling() {
    let plan = "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator b \"B\" : bool\n  target t \"T\": b\n}\n";
    let trues = [
        "true", "TRUE", "yes", "Yes", "1", "có", "Có", "đạt", "ĐẠT", "x", "X",
    ];
    let falses = [
        "false",
        "False",
        "no",
        "NO",
        "0",
        "không",
        "KHÔNG",
        "không đạt",
        "Không Đạt",
    ];
    let mut csv = String::from("id,b\n");
    for (i, v) in trues.iter().enumerate() {
        csv.push_str(&format!("t{i},{v}\n"));
    }
    for (i, v) in falses.iter().enumerate() {
        csv.push_str(&format!("f{i},{v}\n"));
    }
    csv.push_str("m,\n");
    let r = eval_json(plan, &csv);
    for (i, v) in trues.iter().enumerate() {
        assert_eq!(status(&r, &format!("t{i}"), "t"), "met", "`{v}` is true");
    }
    for (i, v) in falses.iter().enumerate() {
        assert_eq!(
            status(&r, &format!("f{i}"), "t"),
            "not_met",
            "`{v}` is false"
        );
    }
    assert_eq!(status(&r, "m", "t"), "missing", "an empty cell is missing");

    let p = Project::new();
    p.write("plan.thidua", plan);
    p.write("d.csv", "id,b\na,maybe\n");
    let r = p.run(["eval", "./plan.thidua", "--data", "./d.csv"]);
    r.expect_code(1);
    r.expect_stderr("maybe");
}

// ---------------------------------------------------------------------------
// Locales
// ---------------------------------------------------------------------------

#[test]
fn locale_vi_reads_grouped_numbers_and_decimal_comma() {
    let p = project();
    p.write(
        "vi.csv",
        "id;name;v;g\na;Á;1.234,5;14,5%\nb;B;999,5;\"14,4\"\nc;C;1.000;15\n",
    );
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./vi.csv",
        "--locale",
        "vi",
        "--format",
        "json",
    ]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(crit(&j, "a", "t1")["actual"]["value"], "1234.5");
    assert_eq!(crit(&j, "a", "t2")["actual"]["value"], "14.5");
    assert_eq!(status(&j, "a", "t2"), "met");
    assert_eq!(crit(&j, "b", "t1")["actual"]["value"], "999.5");
    assert_eq!(status(&j, "b", "t2"), "not_met");
    assert_eq!(
        crit(&j, "c", "t1")["actual"]["value"],
        "1000",
        "`1.000` is one thousand under vi"
    );
}

#[test]
fn locale_vi_rejects_14_point_5() {
    let p = project();
    p.write("d.csv", "id,v,g\na,1000,14.5\n");
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./d.csv",
        "--locale",
        "vi",
        "--format",
        "json",
    ]);
    r.expect_code(1);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("thidua::data") && r.stderr.contains("14.5"),
        "{}",
        r.stderr
    );
    // `.` must group exactly three digits.
    p.write("d.csv", "id,v,g\na,\"1.23,5\",14\n");
    p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./d.csv",
        "--locale",
        "vi",
    ])
    .expect_code(1);
    // Nor does a group of thousands start with 0: `0.145` is no Vietnamese
    // number (it would read as 145).
    p.write("d.csv", "id,v,g\na,1000,0.145\n");
    p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./d.csv",
        "--locale",
        "vi",
    ])
    .expect_code(1)
    .expect_stderr("0.145");
}

#[test]
fn locale_en_rejects_1_comma_300() {
    let p = project();
    p.write("d.csv", "id,v,g\na,\"1,300\",14.5\n");
    for extra in [vec![], vec!["--locale", "en"]] {
        let mut args = vec![
            "eval",
            "./plan.thidua",
            "--data",
            "./d.csv",
            "--format",
            "json",
        ];
        args.extend(extra.iter().copied());
        let r = p.run(&args);
        r.expect_code(1);
        assert!(r.stdout.is_empty());
        assert!(
            r.stderr.contains("thidua::data") && r.stderr.contains("1,300"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn locale_from_thidua_toml_and_the_flag_wins() {
    let p = project();
    p.write("thidua.toml", "locale = \"vi\"\n");
    p.write("vi.csv", "id,v,g\na,\"1.234,5\",\"14,5\"\n");
    let r = eval_json_in(&p, "./plan.thidua", "./vi.csv");
    r.expect_code(0);
    assert_eq!(crit(&r.json(), "a", "t1")["actual"]["value"], "1234.5");
    p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./vi.csv",
        "--locale",
        "en",
    ])
    .expect_code(1);
}

// ---------------------------------------------------------------------------
// eval output formats, --out
// ---------------------------------------------------------------------------

fn parse_csv(text: &str, delim: u8) -> Vec<Vec<String>> {
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delim)
        .from_reader(text.as_bytes());
    rd.records()
        .map(|r| {
            r.expect("valid RFC 4180 CSV")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn eval_csv_is_wide_with_the_fixed_columns_first() {
    let p = project();
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--format",
        "csv",
    ]);
    r.expect_code(0);
    assert!(!r.stdout.starts_with('\u{feff}'), "no BOM in the en locale");
    let rows = parse_csv(&r.stdout, b',');
    assert_eq!(
        rows[0],
        [
            "id",
            "name",
            "bloc",
            "score",
            "rank",
            "rating",
            "awards",
            "t1",
            "t1.points",
            "t2",
            "t2.points"
        ]
    );
    assert_eq!(rows.len(), 3);
    // Quoting where needed: the name holds a comma.
    assert_eq!(rows[1][..3], ["a", "Huyện A, B", "K"]);
    assert_eq!(rows[1][3], "15");
    assert_eq!(rows[1][4], "1");
    assert_eq!(rows[1][5], "tot");
    assert_eq!(rows[1][6], "co");
    assert_eq!(rows[1][7..], ["exceeded", "10", "met", "5"]);
    // b: 999 / 1000 × 10 = 9.99; g is empty → missing, 0 points.
    assert_eq!(rows[2][3], "9.99");
    assert_eq!(rows[2][6], "", "no awards → empty cell");
    assert_eq!(rows[2][7..], ["not_met", "9.99", "missing", "0"]);
}

#[test]
fn eval_csv_awards_are_joined_with_semicolons() {
    let plan = PLAN.replace(
        "  award co \"Cờ thi đua\" {\n    when rating == tot\n  }\n",
        "  award co \"Cờ thi đua\" {\n    when rating == tot\n  }\n  award bk \"Bằng khen\" {\n    when score >= 1\n  }\n",
    );
    let p = project();
    p.write("plan.thidua", plan);
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--format",
        "csv",
    ]);
    r.expect_code(0);
    let rows = parse_csv(&r.stdout, b',');
    assert_eq!(rows[1][6], "co;bk");
    assert_eq!(rows[2][6], "bk");
}

#[test]
fn eval_csv_locale_vi_has_bom_semicolons_and_decimal_comma() {
    let p = project();
    p.write(
        "vi.csv",
        "id;name;bloc;v;g\na;\"Huyện A; B\";K;1.234,5;14,5\nb;B;K;999;\n",
    );
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./vi.csv",
        "--format",
        "csv",
        "--locale",
        "vi",
    ]);
    r.expect_code(0);
    assert!(
        r.stdout_bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "UTF-8 byte-order mark first"
    );
    let text = r.stdout.trim_start_matches('\u{feff}');
    let rows = parse_csv(text, b';');
    assert_eq!(
        rows[0][..7],
        ["id", "name", "bloc", "score", "rank", "rating", "awards"]
    );
    assert_eq!(
        rows[1][1], "Huyện A; B",
        "quoted because it holds the separator"
    );
    assert_eq!(rows[2][3], "9,99", "decimal comma in the vi locale");
    assert_eq!(rows[2][8], "9,99");
    assert!(
        !text.lines().next().unwrap().contains(','),
        "header uses `;` only"
    );
}

#[test]
fn out_writes_the_file_and_not_stdout() {
    let p = project();
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--format",
        "json",
        "--out",
        "./report.json",
    ]);
    r.expect_code(0);
    assert!(
        r.stdout.trim().is_empty(),
        "with --out nothing goes to stdout: {}",
        r.stdout
    );
    let written = std::fs::read_to_string(p.path("report.json")).expect("--out file");
    let j: Value = serde_json::from_str(&written).expect("JSON in the --out file");
    assert_eq!(j["units"].as_array().map(|a| a.len()), Some(2));
    let stdout = eval_json_in(&p, "./plan.thidua", "./data.csv");
    assert_eq!(
        written.trim(),
        stdout.stdout.trim(),
        "--out holds what stdout would"
    );

    p.run([
        "check",
        "--format",
        "json",
        "--out",
        "./check.json",
        "./plan.thidua",
    ])
    .expect_code(0);
    let c: Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("check.json")).unwrap()).unwrap();
    assert!(c.is_array());
    p.run(["template", "./plan.thidua", "--out", "./tpl.csv"])
        .expect_code(0);
    assert!(std::fs::read_to_string(p.path("tpl.csv"))
        .unwrap()
        .starts_with("id,"));
    // An existing file is replaced, and no temporary file is left behind.
    p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--format",
        "csv",
        "--out",
        "./report.json",
    ])
    .expect_code(0);
    assert!(std::fs::read_to_string(p.path("report.json"))
        .unwrap()
        .starts_with("id,name"));
    let names: Vec<String> = std::fs::read_dir(p.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut expected = [
        "check.json",
        "data.csv",
        "plan.thidua",
        "report.json",
        "thidua.toml",
        "tpl.csv",
    ];
    expected.sort();
    let mut names_sorted = names.clone();
    names_sorted.sort();
    assert_eq!(names_sorted, expected, "stray files: {names:?}");
}

#[test]
fn out_into_a_missing_directory_is_exit_2() {
    let p = project();
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--out",
        "./no/such/dir/r.json",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// A report written with `--out`, and a file rewritten by `fmt`, keep the
/// usual permissions (the umask's, or the file's own).
#[cfg(unix)]
#[test]
fn out_and_fmt_keep_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let p = project();
    p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--out",
        "./r.txt",
    ])
    .expect_code(0);
    let mode = std::fs::metadata(p.path("r.txt"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert!(
        mode & 0o044 != 0,
        "--out file is private (mode {mode:o}); a report is usually shared"
    );
    let f = p.write(
        "ugly.thidua",
        PLAN.replace("  indicator v", "indicator    v"),
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    p.run(["fmt", "./ugly.thidua"]).expect_code(0);
    let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "fmt changed the file's mode to {mode:o}");
}

#[test]
fn colour_never_with_no_color() {
    let p = project();
    p.write("w.thidua", "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator g \"G\" : percent\n  target t1 \"T1\": g >= 14.5\n}\n");
    let r = p.run(["check", "./w.thidua"]);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stdout.contains('\u{1b}'),
        "NO_COLOR is honoured"
    );
    let r = p.run(["check", "--color", "always", "./w.thidua"]);
    assert!(
        r.stderr.contains('\u{1b}') || r.stdout.contains('\u{1b}'),
        "--color always colours:\n{}{}",
        r.stdout,
        r.stderr
    );
}

// ---------------------------------------------------------------------------
// check --format github / json
// ---------------------------------------------------------------------------

fn unescape_prop(s: &str) -> String {
    s.replace("%2C", ",")
        .replace("%3A", ":")
        .replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

struct GhLine {
    kind: String,
    props: Vec<(String, String)>,
    message: String,
}

/// `::error file=F,line=L,…,title=T::MESSAGE`
fn parse_github(line: &str) -> GhLine {
    let rest = line
        .strip_prefix("::")
        .unwrap_or_else(|| panic!("not a workflow command: {line}"));
    let (head, message) = rest
        .split_once("::")
        .unwrap_or_else(|| panic!("no `::` before the message: {line}"));
    let (kind, props) = head
        .split_once(' ')
        .unwrap_or_else(|| panic!("no properties: {line}"));
    let props = props
        .split(',')
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .unwrap_or_else(|| panic!("property without `=` in {line}"));
            assert!(
                !v.contains(':'),
                "`:` must be escaped in a property: {line}"
            );
            (k.to_string(), v.to_string())
        })
        .collect();
    assert!(!message.contains('\n') && !message.contains('\r'));
    GhLine {
        kind: kind.to_string(),
        props,
        message: message.to_string(),
    }
}

#[test]
fn check_github_format_escapes_properties() {
    let p = Project::new();
    let dir = "d,1:x%";
    p.write(
        &format!("{dir}/p,l:a%n.thidua"),
        "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator g \"G\" : percent\n  indicator khong \"K\" : number\n  target t1 \"T1\": g >= 14.5\n  target t2 \"T2\": g >= 30/02/2024\n}\n",
    );
    let arg = format!("./{dir}/p,l:a%n.thidua");
    let r = p.run(["check", "--format", "github", &arg]);
    r.expect_code(1);
    let lines: Vec<&str> = r.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 3, "one line per diagnostic:\n{}", r.stdout);
    let (_, json) = check_json(&p.path(&format!("{dir}/p,l:a%n.thidua")));
    assert_eq!(lines.len(), json.len(), "as many lines as diagnostics");
    let mut kinds = Vec::new();
    for l in &lines {
        let g = parse_github(l);
        let keys: Vec<&str> = g.props.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["file", "line", "col", "endLine", "endColumn", "title"],
            "{l}"
        );
        let file = unescape_prop(&g.props[0].1);
        assert!(
            file.ends_with("d,1:x%/p,l:a%n.thidua"),
            "file round-trips: {file} ({l})"
        );
        assert!(
            g.props[0].1.contains("%2C")
                && g.props[0].1.contains("%3A")
                && g.props[0].1.contains("%25"),
            "{l}"
        );
        for (k, v) in &g.props[1..5] {
            assert!(v.parse::<u32>().is_ok_and(|n| n >= 1), "{k}={v} in {l}");
        }
        let title = unescape_prop(&g.props[5].1);
        assert!(title.starts_with("thidua::"), "title is the code: {title}");
        assert!(
            g.props[5].1.starts_with("thidua%3A%3A"),
            "`:` escaped in the title: {l}"
        );
        // `%` in the message is escaped too (`did you mean 14.5%?`).
        let raw_percent = g
            .message
            .match_indices('%')
            .any(|(i, _)| !matches!(g.message.get(i + 1..i + 3), Some("25" | "0A" | "0D")));
        assert!(!raw_percent, "unescaped `%` in the message: {l}");
        // MESSAGE is the diagnostic's message alone, as in JSON.
        let message = g
            .message
            .replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%25", "%");
        assert!(
            json.iter().any(|d| d["message"] == message.as_str()),
            "the message of {l} is not a JSON diagnostic's message"
        );
        kinds.push((g.kind, title));
    }
    assert!(
        kinds.contains(&("error".to_string(), "thidua::bad-date".to_string())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            "warning".to_string(),
            "thidua::percent-bare-number".to_string()
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            "warning".to_string(),
            "thidua::unused-indicator".to_string()
        )),
        "{kinds:?}"
    );
}

#[test]
fn check_json_shape() {
    let p = Project::new();
    let f = p.write(
        "p.thidua",
        "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator grdp_growth \"G\" : percent\n  target t1 \"T1\": grdp_grwth >= 14.5%\n}\n",
    );
    let (r, d) = check_json(&f);
    r.expect_code(1);
    let e = d
        .iter()
        .find(|x| x["code"] == "thidua::unknown-name")
        .expect("unknown-name");
    assert_eq!(e["severity"], "error");
    assert_eq!(e["line"], 4);
    assert_eq!(e["column"], 19);
    assert_eq!(e["end_line"], 4);
    assert_eq!(e["end_column"], 29, "the span covers `grdp_grwth`");
    assert!(e["file"].as_str().unwrap().ends_with("p.thidua"));
    assert!(
        e["help"].as_str().unwrap().contains("grdp_growth"),
        "help names the nearest name"
    );
}

#[test]
fn unclosed_brace_says_where_it_was_opened() {
    let p = Project::new();
    p.write("u.thidua", "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator g \"G\" : percent\n  target t1 \"T1\": g >= 14.5%\n");
    let r = p.run(["check", "./u.thidua"]);
    r.expect_code(1);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("thidua::syntax"), "{all}");
    assert!(all.contains("1:16"), "the opening brace is at 1:16: {all}");
}

#[test]
fn long_lines_are_not_printed_whole() {
    let p = Project::new();
    let line = format!(
        "campaign c \"C\" {{ period 2024-01-01 .. 2024-12-31 {} @@@ }}\n",
        " ".repeat(1_000_000)
    );
    p.write("long.thidua", line);
    let r = p.run(["check", "./long.thidua"]);
    r.expect_code(1).expect_no_panic();
    let widest = r
        .stdout
        .lines()
        .chain(r.stderr.lines())
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    assert!(widest <= 400, "a report line of {widest} characters");
    let r = p.run(["check", "--format", "json", "./long.thidua"]);
    assert!(
        r.stdout.len() < 10_000,
        "the JSON report holds no megabyte line ({} bytes)",
        r.stdout.len()
    );
}

// ---------------------------------------------------------------------------
// `use`, project root
// ---------------------------------------------------------------------------

#[test]
fn use_stays_inside_the_project_root() {
    let p = Project::bare();
    p.write("common/khoi.thidua", "unit lượt_khách \"lượt khách\"\n");
    p.write(
        "plans/p.thidua",
        "use \"../common/khoi.thidua\"\ncampaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n}\n",
    );
    // Without thidua.toml the root is plans/: `..` escapes it.
    let (r, d) = check_json(&p.path("plans/p.thidua"));
    r.expect_code(1);
    assert!(codes(&d).iter().any(|c| c == "thidua::import"), "{d:#?}");
    // With thidua.toml above, the root is the project: allowed.
    p.write("thidua.toml", "");
    let (r, d) = check_json(&p.path("plans/p.thidua"));
    assert!(d.is_empty(), "{d:#?}");
    r.expect_code(0);
}

#[cfg(unix)]
#[test]
fn use_through_a_symlink_out_of_the_root_is_refused() {
    let outside = Project::bare();
    let target = outside.write("x.thidua", "unit z \"z\"\n");
    let p = Project::new();
    std::os::unix::fs::symlink(&target, p.path("link.thidua")).unwrap();
    let f = p.write(
        "p.thidua",
        "use \"link.thidua\"\ncampaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n}\n",
    );
    let (r, d) = check_json(&f);
    r.expect_code(1);
    assert!(codes(&d).iter().any(|c| c == "thidua::import"), "{d:#?}");
}

/// `thidua check plan.thidua` run in the plan's own folder, the way the
/// examples' README and a drafter would type it.
#[test]
fn use_works_when_the_file_is_named_without_a_directory() {
    let p = Project::new();
    p.write("common.thidua", "unit lượt_khách \"lượt khách\"\n");
    p.write(
        "plan.thidua",
        "use \"common.thidua\"\ncampaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n}\n",
    );
    p.write(
        "tests.thidua",
        "use \"plan.thidua\"\ntest \"x\" {\n  given a { bloc = \"K\" }\n}\n",
    );
    let r = p.run(["check", "plan.thidua"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = p.run(["test", "tests.thidua"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

// ---------------------------------------------------------------------------
// fmt
// ---------------------------------------------------------------------------

const UGLY: &str = "use std.units\ncampaign c \"C\" {\n      period 2024-01-01 .. 2024-12-31   \nindicator v \"V\" : triệu đồng\n\n\n\n  target t1 \"T1\": v >= 1 triệu đồng\n}\n";

#[test]
fn fmt_check_exits_1_on_an_unformatted_file_and_leaves_it_alone() {
    let p = Project::new();
    let f = p.write("ugly.thidua", UGLY);
    let r = p.run(["fmt", "--check", "./ugly.thidua"]);
    r.expect_code(1);
    assert!(
        r.stdout.contains("ugly.thidua"),
        "lists the file: {}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        UGLY,
        "--check changes nothing"
    );

    // fmt rewrites it; then --check is clean, a second fmt changes nothing,
    // and the meaning is kept.
    p.run(["fmt", "./ugly.thidua"]).expect_code(0);
    let once = std::fs::read_to_string(&f).unwrap();
    assert_ne!(once, UGLY);
    p.run(["fmt", "--check", "./ugly.thidua"]).expect_code(0);
    p.run(["fmt", "./ugly.thidua"]).expect_code(0);
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        once,
        "fmt is idempotent"
    );
    let (r, d) = check_json(&f);
    r.expect_code(0);
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn fmt_check_is_clean_on_the_examples() {
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let r = run(["fmt".as_ref(), "--check".as_ref(), ex.as_os_str()]);
    assert_eq!(r.code, 0, "examples need formatting:\n{}", r.stdout);
}

/// CLI.md: content that cannot be decoded is a `thidua::syntax` error, exit 1.
#[test]
fn fmt_on_a_non_utf8_file_is_exit_1() {
    let p = Project::new();
    p.write("bad.thidua", b"campaign c \"\xff\" {\n}\n");
    p.run(["fmt", "--check", "./bad.thidua"]).expect_code(1);
    p.run(["fmt", "./bad.thidua"]).expect_code(1);
}

/// A file that does not parse is left as it is, with its syntax error:
/// the formatter lays out braces, and a misread brace would move the error.
#[test]
fn fmt_leaves_a_file_that_does_not_parse_alone() {
    let p = Project::new();
    let src = "campaign c \"C\" {\n    period 2024-01-01 .. 2024-12-31\n  indicator x \"X\" : number\n  target t \"T\": all {\n\n  target u \"U\": x > 2\n}\n";
    p.write("c.thidua", src);
    let r = p.run(["fmt", "./c.thidua"]);
    r.expect_code(1);
    r.expect_stderr("thidua::syntax");
    r.expect_stderr("left as it is");
    assert_eq!(
        std::fs::read_to_string(p.path("c.thidua")).expect("read"),
        src
    );
    p.run(["fmt", "--check", "./c.thidua"]).expect_code(1);
    assert_eq!(
        std::fs::read_to_string(p.path("c.thidua")).expect("read"),
        src
    );
}

/// The formatter counts braces; a `{` inside a block comment is not one.
#[test]
fn fmt_ignores_braces_in_comments() {
    let p = Project::new();
    let src = "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator x \"X\" : number\n  /* { */\n  target t1 \"T1\": x >= 1 // {\n  target t2 \"T2\": x >= 2\n}\n";
    p.write("c.thidua", src);
    let r = p.run(["fmt", "--check", "./c.thidua"]);
    assert_eq!(
        r.code, 0,
        "an already formatted file would be re-indented: {}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------
// template
// ---------------------------------------------------------------------------

const CHECKLIST_PLAN: &str = r#"use std.chi_thi_26
campaign c "C" {
  period 2024-01-01 .. 2024-12-31
  indicator g "Tăng trưởng" : percent
  indicator ngay "Ngày gửi" : date
  target t1 "T1": g >= 14.5%
  deadline d1 "D1": ngay by 31/01/2024
  checklist ba_dam { points 3 per item }
}
"#;

#[test]
fn template_csv_is_read_back_by_eval_without_edits() {
    let p = Project::new();
    p.write("plan.thidua", CHECKLIST_PLAN);
    let r = p.run(["template", "./plan.thidua", "--format", "csv"]);
    r.expect_code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.len() >= 2, "{}", r.stdout);
    let header = parse_csv(lines[0], b',').remove(0);
    assert_eq!(header[0], "id", "the reserved columns come first");
    for col in [
        "name",
        "bloc",
        "g",
        "ngay",
        "ba_dam.dam_noi",
        "ba_dam.dam_lam",
        "ba_dam.dam_chiu_trach_nhiem",
    ] {
        assert!(
            header.iter().any(|h| h == col),
            "no column `{col}` in {header:?}"
        );
    }
    let gi = header.iter().position(|h| h == "g").unwrap();
    let di = header.iter().position(|h| h == "ba_dam.dam_noi").unwrap();
    assert!(di > gi, "indicators, then checklist items");
    assert!(
        lines[1].starts_with('#'),
        "the second line gives labels and types: {}",
        lines[1]
    );
    assert!(lines[1].contains("Tăng trưởng"), "{}", lines[1]);
    assert_eq!(
        parse_csv(lines[1], b',')[0].len(),
        header.len(),
        "one label per column"
    );

    p.write("tpl.csv", &r.stdout);
    let e = eval_json_in(&p, "./plan.thidua", "./tpl.csv");
    e.expect_code(0);
    let j = e.json();
    assert_eq!(j["units"].as_array().map(|a| a.len()), Some(0));
    let unknown: Vec<&Value> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "thidua::unknown-column")
        .collect();
    assert!(
        unknown.is_empty(),
        "the template's own columns are all known: {unknown:#?}"
    );

    // Filled in, it evaluates.
    let mut filled = r.stdout.clone();
    let mut row = vec![String::new(); header.len()];
    row[0] = "u1".into();
    row[gi] = "15".into();
    row[header.iter().position(|h| h == "ngay").unwrap()] = "31/01/2024".into();
    row[di] = "x".into();
    filled.push_str(&row.join(","));
    filled.push('\n');
    p.write("filled.csv", filled);
    let e = eval_json_in(&p, "./plan.thidua", "./filled.csv");
    e.expect_code(0);
    let j = e.json();
    assert_eq!(status(&j, "u1", "t1"), "exceeded");
    assert_eq!(status(&j, "u1", "d1"), "met");
    assert_eq!(status(&j, "u1", "ba_dam"), "missing");
    assert_eq!(crit(&j, "u1", "ba_dam")["points"], "1");
}

/// CLI.md: `--locale` applies to writing CSV, the template's included; a
/// `vi` template is filled in and read back with `;`.
#[test]
fn template_csv_follows_the_locale() {
    let p = Project::new();
    p.write("plan.thidua", CHECKLIST_PLAN);
    let r = p.run(["template", "./plan.thidua", "--locale", "vi"]);
    r.expect_code(0);
    let text = r.stdout.trim_start_matches('\u{feff}');
    let header = text.lines().next().unwrap_or_default();
    assert!(header.starts_with("id;name;bloc;"), "{header}");
    let mut filled = text.to_string();
    let cells = header.split(';').count();
    let mut row = vec![""; cells];
    row[0] = "u1";
    let gi = header.split(';').position(|h| h == "g").unwrap();
    row[gi] = "15,2";
    filled.push_str(&row.join(";"));
    filled.push('\n');
    p.write("d.csv", filled.as_bytes());
    let r = p.run([
        "eval",
        "./plan.thidua",
        "--data",
        "./d.csv",
        "--locale",
        "vi",
        "--format",
        "json",
    ]);
    r.expect_code(0);
    assert_eq!(crit(&r.json(), "u1", "t1")["actual"]["value"], "15.2");
}

/// CLI.md's common options may stand before the command too.
#[test]
fn common_options_before_the_command() {
    let p = Project::new();
    p.write("plan.thidua", CHECKLIST_PLAN);
    p.write("w.thidua", "campaign w \"W\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator g \"G\" : percent\n  target t \"T\": g >= 14\n}\n");
    p.run(["check", "./w.thidua"]).expect_code(0);
    p.run(["--deny-warnings", "check", "./w.thidua"])
        .expect_code(1);
    p.run(["check", "./w.thidua", "--deny-warnings"])
        .expect_code(1);
    let r = p.run(["--locale", "vi", "template", "./plan.thidua"]);
    r.expect_code(0);
    assert!(
        r.stdout.trim_start_matches('\u{feff}').starts_with("id;"),
        "{}",
        r.stdout
    );
}

#[test]
fn template_json_lists_the_fields() {
    let p = Project::new();
    p.write("plan.thidua", CHECKLIST_PLAN);
    let r = p.run(["template", "./plan.thidua", "--format", "json"]);
    r.expect_code(0);
    let j = r.json();
    let text = j.to_string();
    for f in ["g", "ngay", "ba_dam.dam_noi"] {
        assert!(
            text.contains(&format!("\"{f}\"")),
            "`{f}` not in the JSON template: {j:#}"
        );
    }
}

/// The template's `#` line is a CSV record like any other: a label with the
/// separator or quotes is quoted, not rewritten; the JSON template gives
/// each field's type, and a level's ids.
#[test]
fn template_labels_are_quoted_and_types_given() {
    let p = Project::new();
    p.write(
        "plan.thidua",
        "levels muc { cao \"Cao\" thap \"Thấp\" }\ncampaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator hs \"Hồ sơ tiếp nhận, giải quyết \\\"trực tuyến\\\"\" : percent\n  indicator m \"Mức\" : muc\n  target t1 \"T1\": hs >= 50%\n  target t2 \"T2\": m >= cao\n}\n",
    );
    let r = p.run(["template", "./plan.thidua"]);
    r.expect_code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let labels = parse_csv(lines[1], b',').remove(0);
    assert!(
        labels.contains(&"Hồ sơ tiếp nhận, giải quyết \"trực tuyến\" [%]".to_string()),
        "{labels:?}"
    );
    let j = p
        .run(["template", "./plan.thidua", "--format", "json"])
        .json();
    assert_eq!(j["fields"][0]["type"], "percent", "{j:#}");
    assert_eq!(j["fields"][1]["type"], "level", "{j:#}");
    assert_eq!(
        j["fields"][1]["levels"],
        serde_json::json!(["cao", "thap"]),
        "{j:#}"
    );
}

// ---------------------------------------------------------------------------
// No panic, no hang, on hostile input
// ---------------------------------------------------------------------------

/// Hostile criteria files: (name, bytes, whether `check` must report an error).
fn hostile_input(name: &str) -> (Vec<u8>, bool) {
    const MB: usize = 1_000_000;
    match name {
        "empty" => (Vec::new(), false),
        "garbage" => {
            let mut garbage = Vec::with_capacity(4096);
            let mut x: u32 = 0x9E37_79B9;
            for _ in 0..4096 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                garbage.push((x >> 24) as u8);
            }
            (garbage, true)
        }
        // 1 MB single lines: a comment, a run of names, a string.
        "one_mb_comment_line" => (
            format!("// {}\ncampaign c \"C\" {{\n  period 2024-01-01 .. 2024-12-31\n}}\n", "a".repeat(MB)).into_bytes(),
            false,
        ),
        "one_mb_token_line" => (
            format!(
                "campaign c \"C\" {{ period 2024-01-01 .. 2024-12-31 indicator x \"X\" : number target t \"T\": {}}}",
                "x ".repeat(MB / 2)
            )
            .into_bytes(),
            true,
        ),
        "one_mb_string" => (format!("campaign c \"{}\" {{\n}}\n", "ạ".repeat(MB / 3)).into_bytes(), false),
        // A long chain of operators (the parser's own limits).
        "long_operator_chain" => (
            format!(
                "campaign c \"C\" {{ period 2024-01-01 .. 2024-12-31 indicator x \"X\" : number target t \"T\": {}x >= 1 }}",
                "x + ".repeat(20_000)
            )
            .into_bytes(),
            true,
        ),
        "nested_200_parens" => (
            format!(
                "campaign c \"C\" {{\n  period 2024-01-01 .. 2024-12-31\n  indicator x \"X\" : number\n  target t \"T\": {}x{} >= 1\n}}\n",
                "(".repeat(200),
                ")".repeat(200)
            )
            .into_bytes(),
            true,
        ),
        "unbalanced_parens" => (format!("campaign c \"C\" {{\n  target t \"T\": {}\n", "(".repeat(5000)).into_bytes(), true),
        "braces" => ("{".repeat(100_000).into_bytes(), true),
        "nul_bytes" => (b"campaign c \"C\0\" {\n\0 period 2024-01-01 .. 2024-12-31\n}\n\0".to_vec(), true),
        "only_bom" => (vec![0xEF, 0xBB, 0xBF], false),
        "crlf" => (b"campaign c \"C\" {\r\n  period 2024-01-01 .. 2024-12-31\r\n}\r\n".to_vec(), false),
        "lone_cr" => (b"campaign c \"C\" {\r  period\r".to_vec(), true),
        "huge_number" => (
            format!("campaign c \"C\" {{\n  period 2024-01-01 .. 2024-12-31\n  target t \"T\": {} > 1\n}}\n", "9".repeat(5000)).into_bytes(),
            true,
        ),
        "huge_year" => (b"campaign c \"C\" {\n  period 2024-01-01 .. 99999999-12-31\n}\n".to_vec(), true),
        "deep_sections" => (
            format!(
                "campaign c \"C\" {{\n  period 2024-01-01 .. 2024-12-31\n{}{}}}\n",
                "section s \"S\" {\n".repeat(300),
                "}\n".repeat(300)
            )
            .into_bytes(),
            true,
        ),
        "escape_at_eof" => (b"campaign c \"\\u{".to_vec(), true),
        "bad_unicode_escape" => (b"campaign c \"\\u{110000}\\u{D800}\" {\n}\n".to_vec(), true),
        "comment_at_eof" => (b"/* never closed".to_vec(), true),
        other => panic!("no hostile input `{other}`"),
    }
}

fn assert_no_panic_on_plan(name: &str) {
    let (bytes, malformed) = hostile_input(name);
    let p = Project::new();
    p.write("data.csv", "id,x\na,1\n");
    let file = format!("{name}.thidua");
    p.write(&file, &bytes);
    let arg = format!("./{file}");
    for args in [
        vec!["check", "--format", "json", arg.as_str()],
        vec!["check", arg.as_str()],
        vec!["check", "--format", "github", arg.as_str()],
        vec!["fmt", "--check", arg.as_str()],
        vec!["test", arg.as_str()],
        vec!["template", arg.as_str()],
        vec![
            "eval",
            arg.as_str(),
            "--data",
            "./data.csv",
            "--format",
            "json",
        ],
    ] {
        let start = std::time::Instant::now();
        let r = p.run(&args);
        assert!(
            r.code != 101 && r.code >= 0 && !r.stderr.contains("panicked at"),
            "{name}: `thidua {}` panicked (code {}):\n{}",
            args.join(" "),
            r.code,
            r.stderr.chars().take(2000).collect::<String>()
        );
        assert!(
            r.code <= 2,
            "{name}: `thidua {}`: exit code {} out of 0..=2",
            args.join(" "),
            r.code
        );
        assert!(
            start.elapsed().as_secs() < 30,
            "{name}: `thidua {}` took {:?}",
            args.join(" "),
            start.elapsed()
        );
        if args.starts_with(&["check", "--format", "json"]) {
            let v: Value = serde_json::from_str(&r.stdout)
                .unwrap_or_else(|e| panic!("{name}: check JSON: {e}\n{}", r.stderr));
            for d in v.as_array().unwrap() {
                assert!(d["line"].as_u64().is_some_and(|l| l >= 1), "{name}: {d}");
                assert!(d["column"].as_u64().is_some_and(|c| c >= 1), "{name}: {d}");
                assert!(
                    d["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "{name}: {d}"
                );
            }
            let has_error = v
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["severity"] == "error");
            assert_eq!(has_error, malformed, "{name}: error reported = {has_error}");
            assert_eq!(
                r.code,
                if malformed { 1 } else { 0 },
                "{name}: exit code of check"
            );
        }
    }
}

macro_rules! hostile_plan_tests {
    ($($test:ident => $name:literal,)*) => {$(
        #[test]
        fn $test() {
            assert_no_panic_on_plan($name);
        }
    )*};
}

hostile_plan_tests! {
    no_panic_empty_file => "empty",
    no_panic_binary_garbage => "garbage",
    no_panic_one_mb_comment_line => "one_mb_comment_line",
    no_panic_one_mb_token_line => "one_mb_token_line",
    no_panic_one_mb_string => "one_mb_string",
    no_panic_long_operator_chain => "long_operator_chain",
    no_panic_200_nested_parentheses => "nested_200_parens",
    no_panic_unbalanced_parentheses => "unbalanced_parens",
    no_panic_100k_braces => "braces",
    no_panic_nul_bytes => "nul_bytes",
    no_panic_only_bom => "only_bom",
    no_panic_crlf => "crlf",
    no_panic_lone_cr => "lone_cr",
    no_panic_huge_number => "huge_number",
    no_panic_huge_year => "huge_year",
    no_panic_300_nested_sections => "deep_sections",
    no_panic_escape_at_eof => "escape_at_eof",
    no_panic_bad_unicode_escape => "bad_unicode_escape",
    no_panic_comment_at_eof => "comment_at_eof",
}

/// LANGUAGE.md §9: "A report never prints more than about 200 characters of
/// one source line". Messages quote a long token whole.
#[test]
fn long_tokens_are_not_quoted_whole() {
    let p = Project::new();
    for (name, line) in [
        (
            "long_name",
            format!("  target t \"T\": khong_co_{} >= 1", "a".repeat(100_000)),
        ),
        (
            "long_number",
            format!("  target t \"T\": x >= {}", "1".repeat(100_000)),
        ),
    ] {
        let src = format!("campaign c \"C\" {{\n  period 2024-01-01 .. 2024-12-31\n  indicator x \"X\" : number\n{line}\n}}\n");
        let file = format!("{name}.thidua");
        p.write(&file, src);
        let r = p.run(["check", &format!("./{file}")]);
        r.expect_code(1);
        let total = r.stdout.len() + r.stderr.len();
        assert!(
            total < 5_000,
            "{name}: the human report is {total} bytes for one diagnostic"
        );
        let r = p.run(["check", "--format", "json", &format!("./{file}")]);
        assert!(
            r.stdout.len() < 5_000,
            "{name}: the JSON report is {} bytes",
            r.stdout.len()
        );
    }
}

#[test]
fn no_panic_on_hostile_data() {
    let p = project();
    let mut cases: Vec<(&str, Vec<u8>)> = [
        "garbage",
        "nul_bytes",
        "one_mb_token_line",
        "only_bom",
        "lone_cr",
    ]
    .into_iter()
    .map(|n| (n, hostile_input(n).0))
    .collect();
    cases.push(("header_only", b"id,v,g\n".to_vec()));
    cases.push(("no_id_column", b"v,g\n1,2\n".to_vec()));
    cases.push(("unbalanced_quote", b"id,v,g\na,\"1,2\n".to_vec()));
    cases.push(("ragged", b"id,v,g\na\nb,1,2,3,4\n".to_vec()));
    cases.push((
        "huge_number",
        format!("id,v,g\na,{},1\n", "9".repeat(5000)).into_bytes(),
    ));
    cases.push(("exponent", b"id,v,g\na,1e999999999,1\n".to_vec()));
    cases.push(("bom_header", b"\xEF\xBB\xBFid,v,g\na,1,2\n".to_vec()));
    cases.push(("nul_cell", b"id,v,g\na,1\x002,3\n".to_vec()));
    for (name, bytes) in cases {
        for ext in ["csv", "json"] {
            let file = format!("{name}.{ext}");
            p.write(&file, &bytes);
            let arg = format!("./{file}");
            for extra in [vec![], vec!["--skip-bad-rows"], vec!["--locale", "vi"]] {
                let mut args = vec![
                    "eval",
                    "./plan.thidua",
                    "--data",
                    arg.as_str(),
                    "--format",
                    "json",
                ];
                args.extend(extra.iter().copied());
                let r = p.run(&args);
                r.expect_no_panic();
                assert!(r.code <= 2, "{file}: exit code {}", r.code);
                if r.code == 0 {
                    let _ = r.json();
                } else {
                    assert!(
                        r.stdout.is_empty(),
                        "{file}: output despite exit {}",
                        r.code
                    );
                }
            }
        }
    }
    // Valid JSON that is not an array of objects.
    for (name, text) in [
        ("scalar", "42"),
        ("nested", r#"{"units": [[1, 2]]}"#),
        (
            "objects_in_cells",
            r#"[{"id": "a", "v": {"x": 1}, "g": [1]}]"#,
        ),
        (
            "deep",
            &format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        ),
        ("numbers", r#"[{"id": 7, "v": 1e400, "g": -0.0}]"#),
    ] {
        let file = format!("{name}.json");
        p.write(&file, text);
        let r = p.run([
            "eval",
            "./plan.thidua",
            "--data",
            &format!("./{file}"),
            "--format",
            "json",
        ]);
        r.expect_no_panic();
        assert!(r.code <= 2, "{file}: exit code {}", r.code);
    }
}

#[test]
fn empty_plan_checks_cleanly_but_cannot_be_evaluated() {
    let p = Project::new();
    p.write("empty.thidua", "");
    p.write("data.csv", "id\na\n");
    let (r, d) = check_json(&p.path("empty.thidua"));
    r.expect_code(0);
    assert!(d.is_empty());
    let r = p.run(["eval", "./empty.thidua", "--data", "./data.csv"]);
    assert!(
        r.code == 1 || r.code == 2,
        "no campaign to evaluate: exit {}",
        r.code
    );
    r.expect_stderr("campaign");
}

/// A cell that is not UTF-8 stops the file with one error naming its row
/// and column, whether the evaluation streams or not, and also when the
/// bad bytes would form a character only across two cells.
#[test]
fn non_utf8_cell_names_row_and_column() {
    let p = Project::new();
    p.write(
        "plan.thidua",
        "campaign c \"C\" {\n  period 2024-01-01 .. 2024-12-31\n  indicator x \"X\" : number\n  target t1 \"T1\": x >= 1\n}\n",
    );
    p.write("bad.csv", b"id,name,x\na,An,1\nb,B\xff,2\nc,C,3\n");
    // `"\xC3",\xA9`: each cell alone is invalid, the two side by side are `é`.
    p.write("split.csv", b"id,name,x\na,An,1\nb,\"B\xC3\",\xA92\n");
    for (file, row, col) in [("bad.csv", 3, "name"), ("split.csv", 3, "name")] {
        for format in ["csv", "json", "table"] {
            let r = p.run(["eval", "./plan.thidua", "--data", file, "--format", format]);
            r.expect_code(1).expect_no_panic();
            let want = format!("an invalid byte in row {row}, column `{col}`");
            assert!(r.stderr.contains(&want), "{file} {format}: {}", r.stderr);
            assert_eq!(
                r.stderr.matches("is not UTF-8 text").count(),
                1,
                "{}",
                r.stderr
            );
            assert!(r.stdout.is_empty(), "{file} {format}: {}", r.stdout);
        }
    }
}
