//! Members, parents and history as data: unknown parents and parent cycles
//! are data errors naming file, row and column; a long chain of parents is
//! checked in linear time.

use std::process::Command;

const PLAN: &str = r#"campaign c "C" {
  period 2024-01-01 .. 2024-12-31
  indicator x "X" : number
  target t1 "T1": count(members) >= 1
}
"#;

fn run(data: &str) -> (i32, String, String) {
    let d = tempfile::tempdir().expect("temp dir");
    std::fs::write(d.path().join("p.thidua"), PLAN).expect("plan");
    std::fs::write(d.path().join("d.csv"), data).expect("data");
    let out = Command::new(env!("CARGO_BIN_EXE_thidua"))
        .args([
            "eval", "p.thidua", "--data", "d.csv", "--format", "json", "--color", "never",
        ])
        .current_dir(d.path())
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_parent_is_a_data_error() {
    let (code, stdout, stderr) = run("id,parent,x\nso,,1\nphong_a,so,1\nanh,phong_b,1\n");
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "no output on bad data: {stdout}");
    assert!(stderr.contains("thidua::data"), "{stderr}");
    assert!(stderr.contains("phong_b"), "{stderr}");
    assert!(stderr.contains("d.csv:4"), "names file and row: {stderr}");
}

#[test]
fn a_parent_cycle_is_a_data_error() {
    let (code, _, stderr) = run("id,parent,x\na,b,1\nb,c,1\nc,a,1\n");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("its own ancestor"), "{stderr}");
}

#[test]
fn members_count_and_a_long_chain_of_parents() {
    let mut data = String::from("id,parent,x\nu0,,1\n");
    for i in 1..20_000 {
        data.push_str(&format!("u{i},u{},1\n", i - 1));
    }
    let (code, stdout, stderr) = run(&data);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let units = v["units"].as_array().expect("units");
    assert_eq!(units.len(), 20_000);
    assert_eq!(units[0]["criteria"][0]["status"], "met");
    assert_eq!(units[19_999]["criteria"][0]["status"], "not_met");
}
