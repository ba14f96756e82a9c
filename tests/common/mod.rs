//! Helpers shared by the integration tests: run the `thidua` binary, write
//! small projects into temporary directories, and read its JSON outputs.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: Vec<u8>,
}

impl Run {
    /// Panics (with both streams) unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit code {code}, got {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panics (with the stream) unless standard output holds `needle`.
    #[track_caller]
    pub fn expect_stdout(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "no `{needle}` on stdout:\n{}",
            self.stdout
        );
        self
    }

    /// Panics (with the stream) unless standard output ends with `tail`
    /// (trailing white space aside), as a test run ends with its summary.
    #[track_caller]
    pub fn expect_stdout_end(&self, tail: &str) -> &Self {
        assert!(
            self.stdout.trim_end().ends_with(tail),
            "stdout does not end with `{tail}`:\n{}",
            self.stdout
        );
        self
    }

    /// Panics (with the stream) unless standard error holds `needle`.
    #[track_caller]
    pub fn expect_stderr(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "no `{needle}` on stderr:\n{}",
            self.stderr
        );
        self
    }

    /// The exit code is never 101 (a Rust panic) and the process was not
    /// killed by a signal.
    #[track_caller]
    pub fn expect_no_panic(&self) -> &Self {
        assert!(
            self.code != 101 && self.code >= 0,
            "thidua panicked or was killed (code {})\n--- stderr ---\n{}",
            self.code,
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked at"),
            "thidua printed a panic message:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e})\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_thidua"));
    c.env("NO_COLOR", "1");
    c.env_remove("CLICOLOR_FORCE");
    c
}

/// Runs `thidua ARGS…` in `cwd` (or the current directory).
pub fn run_in<I, S>(cwd: Option<&Path>, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut c = bin();
    c.args(args);
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    c.stdin(Stdio::null());
    let out = c.output().expect("cannot start the thidua binary");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout_bytes: out.stdout,
    }
}

pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    run_in(None, args)
}

/// A temporary project directory. An empty `thidua.toml` makes the directory
/// the project root whatever lies above it.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("thidua.toml"), "").expect("write thidua.toml");
        Project { dir }
    }

    /// A directory without `thidua.toml`.
    pub fn bare() -> Project {
        Project {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        run_in(Some(self.dir.path()), args)
    }
}

/// `thidua check --format json FILE` → (exit code, diagnostics).
pub fn check_json(path: &Path) -> (Run, Vec<Value>) {
    let r = run([
        "check".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        path.as_os_str(),
    ]);
    let v = r.json();
    let arr = v
        .as_array()
        .unwrap_or_else(|| panic!("check --format json did not print an array: {v}"))
        .clone();
    (r, arr)
}

pub fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

pub fn errors(diags: &[Value]) -> Vec<&Value> {
    diags.iter().filter(|d| d["severity"] == "error").collect()
}

/// Writes `plan.thidua` and `data.csv` into a fresh project and runs
/// `thidua eval plan.thidua --data data.csv --format json EXTRA…`;
/// asserts exit code 0 and returns the JSON.
#[track_caller]
pub fn eval_json(plan: &str, csv: &str) -> Value {
    eval_json_with(plan, csv, &[])
}

#[track_caller]
pub fn eval_json_with(plan: &str, csv: &str, extra: &[&str]) -> Value {
    let p = Project::new();
    p.write("plan.thidua", plan);
    p.write("data.csv", csv);
    let mut args = vec![
        "eval",
        "./plan.thidua",
        "--data",
        "./data.csv",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let r = p.run(&args);
    r.expect_code(0);
    r.json()
}

/// The unit `id` of an eval JSON report.
#[track_caller]
pub fn unit<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["units"]
        .as_array()
        .expect("units array")
        .iter()
        .find(|u| u["id"] == id)
        .unwrap_or_else(|| panic!("no unit `{id}` in the report:\n{report:#}"))
}

/// The ids of the units of an `eval --format json`, in order.
pub fn unit_ids(report: &Value) -> Vec<&str> {
    report["units"]
        .as_array()
        .map(|us| us.iter().filter_map(|u| u["id"].as_str()).collect())
        .unwrap_or_default()
}

/// The criterion `crit` of unit `id`.
#[track_caller]
pub fn crit<'a>(report: &'a Value, id: &str, crit: &str) -> &'a Value {
    unit(report, id)["criteria"]
        .as_array()
        .expect("criteria array")
        .iter()
        .find(|c| c["id"] == crit)
        .unwrap_or_else(|| panic!("no criterion `{crit}` for unit `{id}`:\n{report:#}"))
}

/// The status of criterion `crit` of unit `id`.
#[track_caller]
pub fn status(report: &Value, id: &str, c: &str) -> String {
    crit(report, id, c)["status"]
        .as_str()
        .unwrap_or_else(|| panic!("status of {id}.{c} is not a string"))
        .to_string()
}

/// `{"value": V, …}` → V as a string (`null` → None).
pub fn value_of(v: &Value) -> Option<String> {
    match &v["value"] {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A decimal as JSON must be a string in plain notation without trailing
/// zeros (CLI.md, `eval` output).
#[track_caller]
pub fn assert_plain_decimal(s: &str) {
    let body = s.strip_prefix('-').unwrap_or(s);
    assert!(!body.is_empty(), "empty decimal");
    assert!(
        body.chars().all(|c| c.is_ascii_digit() || c == '.'),
        "`{s}` is not a plain decimal"
    );
    assert!(body.matches('.').count() <= 1, "`{s}` has two points");
    if body.contains('.') {
        assert!(!body.ends_with('0'), "`{s}` has trailing zeros");
        assert!(!body.ends_with('.'), "`{s}` ends with a point");
    }
    assert!(
        !(body.len() > 1 && body.starts_with('0') && !body.starts_with("0.")),
        "`{s}` has a leading zero"
    );
    assert!(s != "-0", "negative zero `{s}`");
}
