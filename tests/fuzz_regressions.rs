//! Inputs the fuzzers found, kept as regression tests: each must end in a
//! diagnostic and exit code 1, never a crash (101) or an abort (134).

use std::path::{Path, PathBuf};
use std::process::Command;

fn thidua(args: &[&str], dir: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_thidua"))
        .args(args)
        .arg("--color")
        .arg("never")
        .current_dir(dir)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

const HEAD: &str = "campaign c {\n  indicator x : number\n";

#[test]
fn kept_regressions_end_in_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut n = 0;
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "bin")
            || !p
                .file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with("check"))
        {
            continue;
        }
        n += 1;
        let path = p.display().to_string();
        for cmd in ["check", "test"] {
            let (code, out) = thidua(&[cmd, &path], &dir);
            assert!(
                code == 0 || code == 1,
                "{cmd} {path}: exit {code}\n{}",
                out.chars().take(400).collect::<String>()
            );
        }
    }
    assert!(n >= 1, "no regressions found in {}", dir.display());
}

#[test]
fn deep_unbracketed_nesting_is_a_limit() {
    let d = tempfile::tempdir().expect("dir");
    let n = 5_000;
    let ifs = format!(
        "{HEAD}  target t: {}x > 1{}\n}}\n",
        "if x > 1 then ".repeat(n),
        " else x > 1".repeat(n)
    );
    let nots = format!("{HEAD}  target t: {}x > 1\n}}\n", "not ".repeat(100_000));
    let ats = format!("{HEAD}  target t: x{} > 1\n}}\n", "@2022".repeat(10_000));
    for (name, text) in [
        ("ifs.thidua", ifs),
        ("nots.thidua", nots),
        ("ats.thidua", ats),
    ] {
        write(d.path(), name, &text);
        let (code, out) = thidua(&["check", name], d.path());
        assert_eq!(
            code,
            1,
            "{name}: {}",
            out.chars().take(300).collect::<String>()
        );
        assert!(
            out.contains("thidua::limit"),
            "{name}: {}",
            out.chars().take(300).collect::<String>()
        );
    }
}

#[test]
fn a_long_chain_of_lets_is_a_limit() {
    let d = tempfile::tempdir().expect("dir");
    let mut text = String::from(HEAD);
    for i in 0..20_000 {
        text.push_str(&format!("  let a{i} = a{}\n", i + 1));
    }
    text.push_str("  let a20000 = x\n  target t: a0 > 1\n}\n");
    write(d.path(), "lets.thidua", &text);
    let (code, out) = thidua(&["check", "lets.thidua"], d.path());
    assert_eq!(code, 1);
    assert!(
        out.contains("thidua::limit"),
        "{}",
        out.chars().take(300).collect::<String>()
    );
}

#[test]
fn huge_percent_quota_does_not_overflow() {
    let d = tempfile::tempdir().expect("dir");
    let text = "campaign c {\n  indicator x : number\n  target t: x >= 1\n  award a { when true\n    limit 79228162514264337593543950335% per bloc }\n  test \"t\" {\n    given u0 { x = 1 }\n    given u1 { x = 1 }\n    expect u0 has a\n  }\n}\n";
    write(d.path(), "quota.thidua", text);
    let (code, out) = thidua(&["test", "quota.thidua"], d.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
}

#[test]
fn wide_json_data_is_read_in_linear_time() {
    let d = tempfile::tempdir().expect("dir");
    write(
        d.path(),
        "p.thidua",
        "campaign c {\n  indicator x : number\n  target t: x >= 1\n}\n",
    );
    let mut obj = serde_json::Map::new();
    obj.insert("id".into(), serde_json::json!("u"));
    for i in 0..100_000 {
        obj.insert(format!("f{i}"), serde_json::json!(1));
    }
    let data = serde_json::Value::Array(vec![serde_json::Value::Object(obj)]);
    write(d.path(), "d.json", &data.to_string());
    let (code, out) = thidua(&["eval", "p.thidua", "--data", "d.json"], d.path());
    assert_eq!(code, 1, "{}", out.chars().take(300).collect::<String>());
    assert!(out.contains("thidua::data"));
}

#[test]
fn test_data_paths_stay_inside_the_project_root() {
    let d = tempfile::tempdir().expect("dir");
    let proj = d.path().join("proj");
    std::fs::create_dir_all(proj.join("sub")).expect("dirs");
    std::fs::write(proj.join("thidua.toml"), "").expect("toml");
    std::fs::write(
        d.path().join("outside.csv"),
        "id,x\nleak1,TOPSECRET-VALUE\n",
    )
    .expect("outside");
    write(
        &proj.join("sub"),
        "t.thidua",
        "campaign c {\n  indicator x : number\n  target t: x >= 1\n  test \"escape\" {\n    data \"../../outside.csv\"\n    expect leak1.t is met\n  }\n  test \"abs\" {\n    data \"/etc/passwd\"\n    expect a.t is met\n  }\n}\n",
    );
    let (code, out) = thidua(&["test", "sub/t.thidua"], &proj);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("thidua::import"), "{out}");
    assert!(
        !out.contains("TOPSECRET"),
        "the outside file must not be read: {out}"
    );
    assert!(out.contains("outside the project root"), "{out}");
    assert!(out.contains("absolute path"), "{out}");
}

#[test]
fn fmt_keeps_characters_the_grammar_rejects() {
    let d = tempfile::tempdir().expect("dir");
    // A control character is not whitespace (a vertical tab, found by the
    // fuzzer, is: Unicode White_Space separates tokens).
    write(d.path(), "soh.thidua", "\u{1}");
    // The file does not parse: `fmt` shows why and leaves it as it is.
    let (code, out) = thidua(&["fmt", "soh.thidua"], d.path());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("thidua::syntax"), "{out}");
    let after = std::fs::read_to_string(d.path().join("soh.thidua")).expect("read");
    assert!(
        after.contains('\u{1}'),
        "the control character stays: {after:?}"
    );
    let (code, _) = thidua(&["check", "soh.thidua"], d.path());
    assert_eq!(code, 1, "the file still does not parse");
    write(d.path(), "vt.thidua", "\u{b}");
    let (code, out) = thidua(&["check", "vt.thidua"], d.path());
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    use std::io::Write as _;
    use std::process::Stdio;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bac_giang_2024");
    let mut child = Command::new(env!("CARGO_BIN_EXE_thidua"))
        .args(["repl", "plan.thidua", "--data", "data.csv"])
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    drop(child.stdout.take());
    if let Some(mut stdin) = child.stdin.take() {
        for _ in 0..50 {
            let _ = stdin.write_all(b":units\n");
        }
        let _ = stdin.write_all(b":quit\n");
    }
    let status = child.wait().expect("waits");
    assert_ne!(status.code(), Some(101), "panicked on a closed pipe");
}

#[cfg(unix)]
#[test]
fn symlinks_in_a_walked_directory_are_not_followed() {
    let d = tempfile::tempdir().expect("dir");
    let secret = d.path().join("secret.txt");
    std::fs::write(&secret, "API_TOKEN=do-not-print\n").expect("secret");
    let proj = d.path().join("proj");
    std::fs::create_dir_all(&proj).expect("proj");
    std::os::unix::fs::symlink(&secret, proj.join("evil.thidua")).expect("symlink");
    write(
        &proj,
        "ok.thidua",
        "campaign c {\n  indicator x : number\n  target t: x >= 1\n}\n",
    );
    let (code, out) = thidua(&["check", "."], &proj);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("do-not-print"), "{out}");
    assert!(out.contains("1 file checked"), "{out}");
    let (code, out) = thidua(&["check", "/dev/zero"], &proj);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn an_over_long_and_group_does_not_hide_later_errors() {
    let d = tempfile::tempdir().expect("dir");
    let long = vec!["p"; 2_001].join(" and ");
    let head = "campaign c {\n  indicator a : number\n  indicator p : bool\n";
    let two = format!("{head}  let x = {long} or {long}\n  target t: x\n}}\n");
    let band = format!("{head}  let x = {long} or a > 1 .. 2\n  target t: x\n}}\n");
    write(d.path(), "two.thidua", &two);
    write(d.path(), "band.thidua", &band);
    let (code, out) = thidua(&["check", "two.thidua"], d.path());
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.matches("longer than 2000 operators").count(),
        2,
        "{out}"
    );
    let (code, out) = thidua(&["check", "band.thidua"], d.path());
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.matches("longer than 2000 operators").count(),
        1,
        "{out}"
    );
    assert!(
        out.contains("a band goal `low .. high` follows `>=`"),
        "{out}"
    );
}
