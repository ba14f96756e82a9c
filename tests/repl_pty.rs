//! The REPL driven through a real pseudo-terminal: rustyline's editing,
//! completion, multi-line input, Ctrl-C and Ctrl-D as a user meets them.

#![cfg(unix)]

use rexpect::session::{spawn_command, PtySession};
use std::path::{Path, PathBuf};
use std::process::Command;

fn example(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/bac_giang_2024")
        .join(file)
        .display()
        .to_string()
}

fn repl(history: &Path) -> PtySession {
    let mut c = Command::new(env!("CARGO_BIN_EXE_thidua"));
    c.args([
        "repl",
        &example("plan.thidua"),
        "--data",
        &example("data.csv"),
    ])
    .env("NO_COLOR", "1")
    .env("TERM", "xterm")
    .env("THIDUA_HISTORY", history);
    let mut p = spawn_command(c, Some(20_000)).expect("the REPL starts in a pty");
    p.exp_string("thidua> ").expect("first prompt");
    p
}

fn history_file() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("temp dir");
    let h = d.path().join("history.txt");
    (d, h)
}

#[test]
fn loading_switching_units_and_evaluating() {
    let (_d, h) = history_file();
    let mut p = repl(&h);
    p.send_line(":units").unwrap();
    // The pty reader decodes bytes one by one: match the ASCII parts.
    p.exp_string("hiep_hoa  Huy").unwrap();
    p.exp_string("thidua> ").unwrap();
    p.send_line("grdp_growth").unwrap();
    p.exp_string(": percent").unwrap();
    p.send_line(":unit hiep_hoa").unwrap();
    p.exp_string("hiep_hoa> ").unwrap();
    p.send_line("grdp_growth").unwrap();
    p.exp_string("15.2%").unwrap();
    p.send_line(":unit viet_yen").unwrap();
    p.exp_string("viet_yen> ").unwrap();
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn a_what_if_is_shown_beside_the_original() {
    let (_d, h) = history_file();
    let mut p = repl(&h);
    p.send_line(":unit hiep_hoa").unwrap();
    p.exp_string("hiep_hoa> ").unwrap();
    p.send_line(":set grdp_growth = 13%").unwrap();
    p.exp_string("what-if grdp_growth = 13%").unwrap();
    p.exp_string("t1: not_met (was exceeded)").unwrap();
    p.exp_string("hiep_hoa> ").unwrap();
    p.send_line(":unset grdp_growth").unwrap();
    p.exp_string("back to the data").unwrap();
    p.send_line("grdp_growth").unwrap();
    p.exp_string("15.2%").unwrap();
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn a_rejected_declaration_leaves_the_session_unchanged() {
    let (_d, h) = history_file();
    let mut p = repl(&h);
    p.send_line(":unit hiep_hoa").unwrap();
    p.exp_string("hiep_hoa> ").unwrap();
    p.send_line("let g = grdp_growth * 2").unwrap();
    p.exp_string("added").unwrap();
    p.send_line("let g = nope").unwrap();
    p.exp_string("thidua::").unwrap();
    p.exp_string("hiep_hoa> ").unwrap();
    // The first `g` is still there, unchanged.
    p.send_line("g").unwrap();
    p.exp_string("30.4%").unwrap();
    p.send_line("let bad = nope").unwrap();
    p.exp_string("unknown name `nope`").unwrap();
    p.send_line("bad").unwrap();
    p.exp_string("unknown name `bad`").unwrap();
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn completion_multiline_input_and_ctrl_c() {
    let (_d, h) = history_file();
    let mut p = repl(&h);
    // Tab completes a unit id.
    p.send(":unit hiep_h").unwrap();
    p.send("\t").unwrap();
    p.send_line("").unwrap();
    p.exp_string("hiep_hoa> ").unwrap();
    // An open parenthesis continues the input on the next line.
    p.send_line("(grdp_growth").unwrap();
    p.send_line("+ 1%)").unwrap();
    p.exp_string("16.2%").unwrap();
    // Ctrl-C drops the line being typed; the session goes on.
    p.exp_string("hiep_hoa> ").unwrap();
    p.send("grdp_gr").unwrap();
    p.flush().unwrap();
    p.exp_string("grdp_gr").unwrap();
    p.send_control('c').unwrap();
    p.exp_string("hiep_hoa> ").unwrap();
    p.send_line(":unit viet_yen").unwrap();
    p.exp_string("viet_yen> ").unwrap();
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
    let hist = std::fs::read_to_string(&h).expect("history is saved");
    assert!(hist.contains(":unit hiep_hoa"), "{hist}");
}

#[test]
fn the_units_results_are_asked_for_by_name() {
    let (_d, h) = history_file();
    let mut p = repl(&h);
    // Without a unit: their types.
    p.send_line("score").unwrap();
    p.exp_string(": number").unwrap();
    p.send_line("score >= 90 and status(t1) == met").unwrap();
    p.exp_string(": bool").unwrap();
    p.send_line(":unit viet_yen").unwrap();
    p.exp_string("viet_yen> ").unwrap();
    p.send_line("score").unwrap();
    p.exp_string("98.52").unwrap();
    p.exp_string("viet_yen> ").unwrap();
    p.send_line("rank").unwrap();
    p.exp_string("\r\n1\r\n").unwrap();
    p.exp_string("viet_yen> ").unwrap();
    p.send_line("rating").unwrap();
    p.exp_string("xuat_sac \"Xu").unwrap();
    p.exp_string("viet_yen> ").unwrap();
    p.send_line("status(t1)").unwrap();
    p.exp_string("exceeded").unwrap();
    p.send_line("status(t99)").unwrap();
    p.exp_string("no criterion `t99`").unwrap();
    // Beside the original under a what-if.
    p.send_line(":set grdp_growth = 14.2%").unwrap();
    p.exp_string("t1: not_met (was exceeded)").unwrap();
    p.send_line("status(t1)").unwrap();
    p.exp_string("not_met   (without the what-ifs: exceeded)")
        .unwrap();
    p.send_line("score").unwrap();
    p.exp_string("97.4   (without the what-ifs: 98.52)")
        .unwrap();
    // In a larger expression, read after the evaluation as a rating or
    // an award reads it.
    p.send_line("score + 1").unwrap();
    p.exp_string("98.4   (without the what-ifs: 99.52)")
        .unwrap();
    p.exp_string("viet_yen> ").unwrap();
    p.send_line(":unset grdp_growth").unwrap();
    p.exp_string("viet_yen> ").unwrap();
    p.send_line("score - rank").unwrap();
    p.exp_string("\r\n97.52\r\n").unwrap();
    p.exp_string("viet_yen> ").unwrap();
    // A bool in the data's language: "không" (false) for an exceeded t1
    // ranked first that holds the flag.
    p.send_line("status(t1) == not_met or rank > 1 or not awarded(co_thi_dua)")
        .unwrap();
    p.exp_string("\r\nkh").unwrap();
    p.exp_string("viet_yen> ").unwrap();
    // Its errors are its own, with the results among the names.
    p.send_line("scor + 1").unwrap();
    p.exp_string("did you mean `score`?").unwrap();
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
}
