//! Subcommands.

/// A line to stdout; a closed pipe (`thidua … | head`) is not an error.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// A line to stderr, likewise never panicking.
macro_rules! tell {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

pub mod explain;
mod fmt_cmd;
mod out;
mod repl;

use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use thidua::check::{self, Checked};
use thidua::data::{self, Locale};
use thidua::diag::{Diag, SourceMap};
use thidua::eval::{passes, stream, Detail};
use thidua::report::{self, diagnostics};

#[derive(Parser)]
#[command(
    name = "thidua",
    version,
    about = "Check and evaluate the criteria of emulation campaigns (phong trào thi đua)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
    /// Colour: auto, always or never (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// The locale for reading data and writing CSV (else `thidua.toml`'s,
    /// else `en`).
    #[arg(long, global = true, value_enum)]
    pub locale: Option<LocaleArg>,
    /// Warnings fail `check`, `test` and `eval`.
    #[arg(long, global = true)]
    pub deny_warnings: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LocaleArg {
    En,
    Vi,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Human,
    Json,
    Github,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EvalFormat {
    Table,
    Json,
    Csv,
    Md,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TemplateFormat {
    Csv,
    Json,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Parse and check files and directories (recursively, `*.thidua`).
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        format: CheckFormat,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Evaluate every unit in the data against the campaign.
    Eval {
        /// The plan (may also follow `--data`'s files).
        plan: Option<PathBuf>,
        #[arg(long = "data", required = true, num_args = 1..)]
        data: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "table")]
        format: EvalFormat,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Drop rows with bad cells (listed) and evaluate the rest.
        #[arg(long)]
        skip_bad_rows: bool,
    },
    /// The full trace for one unit.
    Explain {
        /// The plan (may also follow `--data`'s files).
        plan: Option<PathBuf>,
        #[arg(long = "data", required = true, num_args = 1..)]
        data: Vec<PathBuf>,
        #[arg(long)]
        unit: String,
        criterion: Option<String>,
        /// `text` (default) or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the `test` blocks.
    Test {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Report the criteria, rating branches and awards no test exercised.
        #[arg(long)]
        coverage: bool,
    },
    /// Rewrite files in canonical form.
    Fmt {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Change nothing; list the files that would change.
        #[arg(long)]
        check: bool,
    },
    /// A data-entry template for the campaign.
    Template {
        plan: PathBuf,
        #[arg(long, value_enum, default_value = "csv")]
        format: TemplateFormat,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The interactive REPL.
    Repl {
        plan: Option<PathBuf>,
        #[arg(long = "data", num_args = 1..)]
        data: Vec<PathBuf>,
    },
}

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
        }
    };
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    };
    let ecolor = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
        }
    };
    let (locale, deny_warnings) = (cli.locale, cli.deny_warnings);
    let mut cmd = cli.cmd;
    let placed = match &mut cmd {
        Cmd::Eval { plan, data, .. } => plan_after_data(plan, data, "eval"),
        Cmd::Explain {
            plan,
            data,
            criterion,
            ..
        } => {
            // `explain --data d.csv plan.thidua --unit a t1`: the plan went
            // to `--data` and the criterion took the plan's place.
            if criterion.is_none()
                && plan.as_deref().is_some_and(|p| !is_plan_file(p))
                && data.iter().any(|d| is_plan_file(d))
            {
                *criterion = plan.take().map(|p| p.to_string_lossy().into_owned());
            }
            let placed = plan_after_data(plan, data, "explain");
            // `explain --data d.csv plan.thidua t1 --unit a`: the criterion
            // after the plan went to `--data` too; a criterion id is a
            // name, not a file that exists.
            if criterion.is_none() && plan.is_some() {
                if let Some(k) = data.iter().position(|d| {
                    !d.exists()
                        && d.to_str().is_some_and(|t| {
                            !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_')
                        })
                }) {
                    *criterion = Some(data.remove(k).to_string_lossy().into_owned());
                }
            }
            placed.and_then(|()| match data.is_empty() {
                true => Err("no data file: write `thidua explain PLAN --data FILE…`".into()),
                false => Ok(()),
            })
        }
        Cmd::Repl { plan, data } => plan_after_data(plan, data, ""),
        _ => Ok(()),
    };
    if let Err(e) = placed {
        eprintln!("error: {e}\n\nFor more information, try '--help'.");
        return 2;
    }
    match cmd {
        Cmd::Check { paths, format, out } => {
            cmd_check(&paths, format, deny_warnings, out.as_deref(), color)
        }
        Cmd::Eval {
            plan: Some(plan),
            data,
            format,
            out,
            skip_bad_rows,
        } => cmd_eval(
            &plan,
            &data,
            format,
            locale,
            out.as_deref(),
            skip_bad_rows,
            deny_warnings,
            color,
            ecolor,
        ),
        Cmd::Explain {
            plan: Some(plan),
            data,
            unit,
            criterion,
            format,
            out,
        } => explain::cmd(
            &plan,
            &data,
            &unit,
            criterion.as_deref(),
            locale,
            &format,
            out.as_deref(),
            ecolor,
        ),
        Cmd::Test { paths, coverage } => {
            cmd_test(&paths, locale, deny_warnings, coverage, color, ecolor)
        }
        Cmd::Fmt { paths, check } => fmt_cmd::cmd(&paths, check, ecolor),
        Cmd::Template { plan, format, out } => {
            cmd_template(&plan, format, locale, out.as_deref(), ecolor)
        }
        Cmd::Repl { plan, data } => repl::cmd(plan.as_deref(), &data, locale, ecolor),
        // `plan_after_data` has refused these.
        Cmd::Eval { plan: None, .. } | Cmd::Explain { plan: None, .. } => 2,
    }
}

/// Whether a path names a plan: its extension is `.thidua` (in any case).
fn is_plan_file(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("thidua"))
}

/// `--data` takes every value up to the next option, so a plan written
/// after the data files (`thidua eval --data d.csv plan.thidua`) arrives
/// among them: when no plan came before, the `.thidua` file among the data
/// files is the plan. `command` names a command that needs a plan (empty
/// for the REPL, where it is optional).
fn plan_after_data(
    plan: &mut Option<PathBuf>,
    data: &mut Vec<PathBuf>,
    command: &str,
) -> Result<(), String> {
    if plan.is_none() {
        if let Some(k) = data.iter().position(|d| is_plan_file(d)) {
            *plan = Some(data.remove(k));
        }
    }
    if command.is_empty() {
        return Ok(());
    }
    if plan.is_none() {
        return Err(format!(
            "no plan: write `thidua {command} PLAN --data FILE…`"
        ));
    }
    if data.is_empty() {
        return Err(format!(
            "no data file: write `thidua {command} PLAN --data FILE…`"
        ));
    }
    Ok(())
}

/// Write output atomically: a temp file in the same directory, renamed.
/// A file that existed keeps its permissions; a new one gets the usual
/// `rw-r--r--` rather than the temp file's private mode.
pub fn write_out(out: Option<&Path>, bytes: &[u8]) -> Result<(), String> {
    match out {
        None => {
            let mut so = std::io::stdout().lock();
            so.write_all(bytes)
                .and_then(|_| so.flush())
                .map_err(|e| format!("cannot write the output: {e}"))
        }
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
            keep_permissions(path, tmp.path());
            tmp.write_all(bytes)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
            tmp.persist(path)
                .map_err(|e| format!("cannot write `{}`: {}", path.display(), e.error))?;
            Ok(())
        }
    }
}

/// The `*.thidua` files under the named paths. A path that does not exist
/// is a usage error.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                let mut entries: Vec<PathBuf> = std::fs::read_dir(&d)
                    .map_err(|e| format!("cannot read `{}`: {e}", d.display()))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .collect();
                entries.sort();
                for e in entries.into_iter().rev() {
                    let is_link = std::fs::symlink_metadata(&e)
                        .map(|m| m.file_type().is_symlink())
                        .unwrap_or(false);
                    // Symbolic links found while walking a directory are not
                    // followed: a checkout must not make thidua read outside it.
                    if is_link {
                        continue;
                    }
                    if e.is_dir() {
                        stack.push(e);
                    } else if e.is_file() && e.extension().map(|x| x == "thidua").unwrap_or(false) {
                        out.push(e);
                    }
                }
            }
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("`{}` does not exist", p.display()));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn print_diags(diags: &[Diag], sources: &SourceMap, color: bool) {
    if diags.is_empty() {
        return;
    }
    let text = diagnostics::human(diags, sources, color);
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
}

fn usage(msg: &str) -> i32 {
    tell!("error: {msg}");
    2
}

/// The locale: the flag, else `thidua.toml`'s `locale`, else `en`.
pub fn locale_for(flag: Option<LocaleArg>, plan: Option<&Path>) -> Locale {
    if let Some(l) = flag {
        return if l == LocaleArg::Vi {
            Locale::Vi
        } else {
            Locale::En
        };
    }
    if let Some(p) = plan {
        let root = check::project_root(p);
        if let Ok(text) = std::fs::read_to_string(root.join("thidua.toml")) {
            if let Ok(v) = text.parse::<toml::Table>() {
                if let Some(l) = v
                    .get("locale")
                    .and_then(|x| x.as_str())
                    .and_then(Locale::parse)
                {
                    return l;
                }
            }
        }
    }
    Locale::En
}

fn cmd_check(
    paths: &[PathBuf],
    format: CheckFormat,
    deny: bool,
    out: Option<&Path>,
    color: bool,
) -> i32 {
    let files = match collect_files(paths) {
        Ok(f) => f,
        Err(e) => return usage(&e),
    };
    let mut sources = SourceMap::default();
    let mut all: Vec<Diag> = Vec::new();
    // A file imported by several checked files is reported once.
    let mut seen = std::collections::HashSet::new();
    for f in &files {
        match check::check_file(f, &mut sources) {
            Ok(c) => {
                for d in c.diags {
                    let key = match d.span {
                        Some(s) => {
                            let file = sources
                                .get(s.file)
                                .and_then(|x| x.path.clone())
                                .map(|p| std::fs::canonicalize(&p).unwrap_or(p));
                            (d.code, d.message.clone(), file, s.start, s.end)
                        }
                        None => (d.code, d.message.clone(), None, 0, 0),
                    };
                    if seen.insert(key) {
                        all.push(d);
                    }
                }
            }
            Err(check::Unreadable(msg)) => return usage(&msg),
        }
    }
    let errors = all.iter().filter(|d| d.is_error()).count();
    let warnings = all.len() - errors;
    let text = match format {
        CheckFormat::Human => {
            let mut t = diagnostics::human(&all, &sources, color);
            t.push_str(&format!(
                "{} file{} checked: {errors} error{}, {warnings} warning{}\n",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                if errors == 1 { "" } else { "s" },
                if warnings == 1 { "" } else { "s" }
            ));
            t
        }
        CheckFormat::Json => {
            let mut s = serde_json::to_string_pretty(&diagnostics::json(&all, &sources))
                .unwrap_or_else(|_| "[]".into());
            s.push('\n');
            s
        }
        CheckFormat::Github => diagnostics::github(&all, &sources),
    };
    if let Err(e) = write_out(out, text.as_bytes()) {
        return usage(&e);
    }
    if errors > 0 || (deny && warnings > 0) {
        1
    } else {
        0
    }
}

/// Check a plan for a command that runs it; print its diagnostics.
pub fn load_plan(
    plan: &Path,
    sources: &mut SourceMap,
    color: bool,
) -> Result<(thidua::ir::Program, Vec<Diag>), i32> {
    let Checked { program, diags } = match check::check_file(plan, sources) {
        Ok(c) => c,
        Err(check::Unreadable(msg)) => return Err(usage(&msg)),
    };
    match program {
        Some(p) if !diags.iter().any(|d| d.is_error()) => {
            if p.info.id.is_empty() {
                tell!("error: `{}` declares no campaign", plan.display());
                return Err(1);
            }
            Ok((p, diags))
        }
        _ => {
            print_diags(&diags, sources, color);
            Err(1)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_eval(
    plan: &Path,
    data_paths: &[PathBuf],
    format: EvalFormat,
    locale: Option<LocaleArg>,
    out: Option<&Path>,
    skip: bool,
    deny: bool,
    color: bool,
    ecolor: bool,
) -> i32 {
    let mut sources = SourceMap::default();
    let (prog, mut warnings) = match load_plan(plan, &mut sources, ecolor) {
        Ok(x) => x,
        Err(code) => return code,
    };
    for d in data_paths {
        if !d.is_file() {
            return usage(&format!(
                "`{}` does not exist or is not a file",
                d.display()
            ));
        }
    }
    let locale = locale_for(locale, Some(plan));
    let progress =
        Progress::start(std::io::stderr().is_terminal() && std::env::var_os("CI").is_none());
    // Independent units stream in one pass; ranked plans and limited
    // awards in passes over the data (`thidua::eval::passes`).
    let one_pass = stream::streamable(&prog);
    if matches!(format, EvalFormat::Csv | EvalFormat::Json)
        && !data_paths.is_empty()
        && (one_pass || passes::passes_possible(&prog))
        && stream::streamable_data(data_paths)
    {
        let opts = StreamOpts {
            one_pass,
            format,
            locale,
            out,
            skip,
            deny,
            ecolor,
        };
        return eval_streaming(&prog, data_paths, warnings, &sources, &progress, opts);
    }
    progress.phase("reading the data");
    let ds = match data::read_files(&prog, data_paths, locale, skip) {
        Ok(ds) => ds,
        Err(data::Unreadable(msg)) => return usage(&msg),
    };
    progress.phase(&format!("evaluating {} rows", ds.rows.len()));
    if !ds.errors.is_empty() {
        return data_errors(&ds.errors, &sources, &progress, ecolor);
    }
    warnings.extend(ds.warnings);
    for s in &ds.skipped {
        tell!("skipped {}:{}: {}", s.file, s.row, s.reason);
    }
    // The wide CSV shows statuses and points only.
    let detail = match format {
        EvalFormat::Csv => Detail::Statuses,
        _ => Detail::Full,
    };
    let ev = match thidua::eval::evaluate_with(&prog, ds.rows, detail) {
        Ok(ev) => ev,
        Err(es) => {
            progress.finish();
            print_diags(&es, &sources, ecolor);
            return 1;
        }
    };
    progress.phase("writing the results");
    let bytes = match format {
        EvalFormat::Json => {
            let all: Vec<Diag> = warnings.iter().chain(ev.warnings.iter()).cloned().collect();
            let w = diagnostics::json(&all, &sources);
            report::eval_json_text(&prog, &ev, &ds.skipped, &w).into_bytes()
        }
        EvalFormat::Csv => match report::eval_csv(&prog, &ev, locale) {
            Ok(b) => b,
            Err(e) => return usage(&e),
        },
        EvalFormat::Md => report::eval_md(&prog, &ev).into_bytes(),
        EvalFormat::Table => report::eval_table(&prog, &ev, color && out.is_none()).into_bytes(),
    };
    progress.finish();
    warnings.extend(ev.warnings.iter().cloned());
    print_diags(&warnings, &sources, ecolor);
    if let Err(e) = write_out(out, &bytes) {
        return usage(&e);
    }
    if deny && !warnings.is_empty() {
        return 1;
    }
    0
}

/// The data's errors stop `eval`: print them and say nothing was kept.
fn data_errors(errors: &[Diag], sources: &SourceMap, progress: &Progress, color: bool) -> i32 {
    progress.finish();
    print_diags(errors, sources, color);
    tell!(
        "{} data error{}: nothing was evaluated (use --skip-bad-rows to evaluate the good rows)",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    1
}

struct StreamOpts<'a> {
    /// In one pass (independent units), or in passes (ranked plans).
    one_pass: bool,
    format: EvalFormat,
    locale: Locale,
    out: Option<&'a Path>,
    skip: bool,
    deny: bool,
    ecolor: bool,
}

/// `eval` to CSV or JSON of a campaign whose units are independent, or
/// only ranked and limited: read, evaluate and write unit by unit in
/// bounded memory (see `thidua::eval::stream` and `thidua::eval::passes`),
/// in passes over the data for a ranked plan. The output is the same, byte for byte, as the
/// evaluation in memory would give, and is kept only when the run succeeds.
fn eval_streaming(
    prog: &thidua::ir::Program,
    data_paths: &[PathBuf],
    mut warnings: Vec<Diag>,
    sources: &SourceMap,
    progress: &Progress,
    o: StreamOpts<'_>,
) -> i32 {
    let mut sink = match out::Output::new(o.out) {
        Ok(s) => s,
        Err(e) => return usage(&e),
    };
    let head = match o.format {
        EvalFormat::Json => Ok(report::JsonPieces::head(prog).into_bytes()),
        _ => report::csv_head(prog, o.locale),
    };
    let head = match head {
        Ok(h) => h,
        Err(e) => return usage(&e),
    };
    if let Err(e) = sink.write_all(&head) {
        return usage(&format!("cannot write the output: {e}"));
    }
    let csv_units = |ev: &thidua::eval::Evaluation, buf: &mut Vec<u8>| {
        report::csv_units(prog, ev, o.locale, buf)
    };
    let json_units = |ev: &thidua::eval::Evaluation, buf: &mut Vec<u8>| {
        report::JsonPieces::units(prog, ev, buf);
        Ok(())
    };
    let (units, sep, detail): (&stream::ChunkFormat<'_>, &[u8], _) = match o.format {
        EvalFormat::Json => (&json_units, report::JsonPieces::SEP, Detail::Full),
        _ => (&csv_units, b"", Detail::Statuses),
    };
    progress.phase("evaluating");
    let told = |n: usize| progress.phase(&format!("evaluated {n} rows"));
    let told_pass = |pass: usize, of: usize, n: usize| {
        progress.phase(&format!("pass {pass} of {of}: evaluated {n} rows"))
    };
    let done = if o.one_pass {
        stream::evaluate_stream(
            prog, data_paths, o.locale, o.skip, detail, units, sep, &mut sink, &told,
        )
    } else {
        passes::evaluate_passes(
            prog, data_paths, o.locale, o.skip, detail, units, sep, &mut sink, &told_pass,
        )
    };
    let done = match done {
        Ok(d) => d,
        Err(stream::StreamError::Unreadable(m)) => {
            progress.finish();
            return usage(&m);
        }
        Err(stream::StreamError::Output(m)) => {
            progress.finish();
            return usage(&format!("cannot write the output: {m}"));
        }
    };
    let ds = done.data;
    if !ds.errors.is_empty() {
        return data_errors(&ds.errors, sources, progress, o.ecolor);
    }
    warnings.extend(ds.warnings);
    warnings.extend(done.warnings);
    for s in &ds.skipped {
        tell!("skipped {}:{}: {}", s.file, s.row, s.reason);
    }
    if let EvalFormat::Json = o.format {
        let w = diagnostics::json(&warnings, sources);
        let tail = report::JsonPieces::tail(done.wrote, &ds.skipped, &w);
        if let Err(e) = sink.write_all(tail.as_bytes()) {
            progress.finish();
            return usage(&format!("cannot write the output: {e}"));
        }
    }
    progress.finish();
    print_diags(&warnings, sources, o.ecolor);
    if let Err(e) = sink.commit() {
        return usage(&e);
    }
    if o.deny && !warnings.is_empty() {
        return 1;
    }
    0
}

/// What one campaign's tests left unexercised, by kind: `(what, id, where)`.
struct CoverageReport {
    items: Vec<(&'static str, String, String)>,
    coverage: thidua::testing::Coverage,
}

fn coverage_items(
    prog: &thidua::ir::Program,
    sources: &SourceMap,
) -> Vec<(&'static str, String, String)> {
    let at = |s: thidua::diag::Span| {
        let (l, _) = sources.line_col(s.file, s.start);
        format!(
            "{}:{l}",
            sources
                .get(s.file)
                .map(|f| f.name.clone())
                .unwrap_or_default()
        )
    };
    let mut v: Vec<(&'static str, String, String)> = Vec::new();
    for c in &prog.criteria {
        v.push(("criterion", c.id.clone(), at(c.span)));
    }
    if let Some(r) = &prog.rating {
        for b in &r.branches {
            v.push(("rating branch", b.id.clone(), at(b.span)));
        }
    }
    for a in &prog.awards {
        v.push(("award", a.id.clone(), at(a.span)));
    }
    v
}

fn print_coverage(reports: &std::collections::BTreeMap<String, CoverageReport>) -> String {
    let mut out = String::new();
    let cwd = std::env::current_dir()
        .map(|d| format!("{}/", d.display()))
        .unwrap_or_default();
    for (campaign, r) in reports {
        let campaign = campaign.replace(&cwd, "");
        let nc = r.items.iter().filter(|i| i.0 == "criterion").count();
        let nb = r.items.iter().filter(|i| i.0 == "rating branch").count();
        let na = r.items.iter().filter(|i| i.0 == "award").count();
        out.push_str(&format!(
            "coverage of `{campaign}`: {}/{nc} criteria, {}/{nb} rating branches, {}/{na} awards\n",
            r.coverage.criteria.len(),
            r.coverage.branches.len(),
            r.coverage.awards.len()
        ));
        let (mut ci, mut bi, mut ai) = (0usize, 0usize, 0usize);
        for (kind, id, at) in &r.items {
            let (idx, set) = match *kind {
                "criterion" => {
                    ci += 1;
                    (ci - 1, &r.coverage.criteria)
                }
                "rating branch" => {
                    bi += 1;
                    (bi - 1, &r.coverage.branches)
                }
                _ => {
                    ai += 1;
                    (ai - 1, &r.coverage.awards)
                }
            };
            if !set.contains(&idx) {
                out.push_str(&format!(
                    "  not exercised: {kind} `{id}` ({})\n",
                    at.replace(&cwd, "")
                ));
            }
        }
    }
    out
}

fn cmd_test(
    paths: &[PathBuf],
    locale: Option<LocaleArg>,
    deny: bool,
    want_coverage: bool,
    color: bool,
    ecolor: bool,
) -> i32 {
    let files = match collect_files(paths) {
        Ok(f) => f,
        Err(e) => return usage(&e),
    };
    let mut passed = 0usize;
    let mut failed = 0usize;
    let mut any_warning = false;
    let mut out = String::new();
    let mut reports: std::collections::BTreeMap<String, CoverageReport> = Default::default();
    for f in &files {
        let mut sources = SourceMap::default();
        let checked = match check::check_file(f, &mut sources) {
            Ok(c) => c,
            Err(check::Unreadable(msg)) => return usage(&msg),
        };
        // The tests of this file only: a campaign it imports brings its
        // own tests, which run with the file that holds them.
        let mut checked = checked;
        if let Some(p) = checked.program.as_mut() {
            let here = std::fs::canonicalize(f).ok();
            p.tests.retain(|t| {
                let path = sources.get(t.span.file).and_then(|x| x.path.clone());
                path.and_then(|p| std::fs::canonicalize(p).ok()) == here
            });
        }
        let has_tests = checked
            .program
            .as_ref()
            .map(|p| !p.tests.is_empty())
            .unwrap_or(false);
        if checked.has_errors() {
            print_diags(&checked.diags, &sources, ecolor);
            out.push_str(&format!("FAIL {}: the file does not check\n", f.display()));
            failed += 1;
            continue;
        }
        if !checked.diags.is_empty() {
            any_warning = true;
            if deny {
                print_diags(&checked.diags, &sources, ecolor);
            }
        }
        let Some(prog) = checked.program else {
            continue;
        };
        if !has_tests {
            continue;
        }
        let loc = locale_for(locale, Some(f));
        let key = {
            let s = prog.info.span;
            let (l, _) = sources.line_col(s.file, s.start);
            let file = sources
                .get(s.file)
                .and_then(|x| x.path.clone())
                .map(|p| std::fs::canonicalize(&p).unwrap_or(p).display().to_string())
                .unwrap_or_default();
            format!("{} ({file}:{l})", prog.info.id)
        };
        let items = coverage_items(&prog, &sources);
        let outcomes = thidua::testing::run(&prog, loc);
        let entry = reports.entry(key).or_insert_with(|| CoverageReport {
            items,
            coverage: Default::default(),
        });
        for o in &outcomes {
            entry.coverage.merge(&o.coverage);
        }
        // Each warning once per file, though several tests share data.
        let mut seen: Vec<(&str, String, Option<thidua::diag::Span>)> = Vec::new();
        for o in &outcomes {
            let fresh: Vec<Diag> = (o.warnings.iter())
                .filter(|w| {
                    let key = (w.code, w.message.clone(), w.span);
                    let new = !seen.contains(&key);
                    if new {
                        seen.push(key);
                    }
                    new
                })
                .cloned()
                .collect();
            if !fresh.is_empty() {
                any_warning = true;
                tell!("warnings of test \"{}\":", o.name);
                print_diags(&fresh, &sources, ecolor);
            }
        }
        for o in outcomes {
            let (l, _) = sources.line_col(o.span.file, o.span.start);
            let fname = sources
                .get(o.span.file)
                .map(|x| x.name.clone())
                .unwrap_or_default();
            if o.passed() {
                passed += 1;
                out.push_str(&format!(
                    "{} {fname}:{l} \"{}\" ({} expectation{})\n",
                    report::paint(thidua::value::Status::Met, "ok  ", color),
                    o.name,
                    o.expectations,
                    if o.expectations == 1 { "" } else { "s" }
                ));
            } else {
                failed += 1;
                out.push_str(&format!(
                    "{} {fname}:{l} \"{}\"\n",
                    report::paint(thidua::value::Status::NotMet, "FAIL", color),
                    o.name
                ));
                for e in &o.errors {
                    out.push_str(&format!(
                        "  data error: {}{}\n",
                        e.location
                            .as_ref()
                            .map(|l| format!("{}:{}: ", l.file, l.row))
                            .unwrap_or_default(),
                        e.message
                    ));
                }
                for fl in &o.failures {
                    let (fl_l, fl_c) = sources.line_col(fl.span.file, fl.span.start);
                    let text = sources
                        .snippet(fl.span)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim_end();
                    out.push_str(&format!("  {fname}:{fl_l}:{fl_c}: expect {text}\n    expected: {}\n    actual:   {}\n", fl.expected, fl.actual));
                }
            }
        }
    }
    if want_coverage {
        out.push_str(&print_coverage(&reports));
    }
    out.push_str(&format!("{passed} passed, {failed} failed\n"));
    if deny && any_warning {
        out.push_str("warnings were found and --deny-warnings fails them\n");
    }
    let _ = write_out(None, out.as_bytes());
    if failed > 0 || (deny && any_warning) {
        1
    } else {
        0
    }
}

fn cmd_template(
    plan: &Path,
    format: TemplateFormat,
    locale: Option<LocaleArg>,
    out: Option<&Path>,
    ecolor: bool,
) -> i32 {
    let mut sources = SourceMap::default();
    let (prog, _) = match load_plan(plan, &mut sources, ecolor) {
        Ok(x) => x,
        Err(code) => return code,
    };
    // `vi`: the separator `;` (and the byte-order mark), as `eval` writes.
    let vi = locale_for(locale, Some(plan)) == Locale::Vi;
    let bytes = match format {
        TemplateFormat::Csv => {
            let mut cols: Vec<String> =
                ["id", "name", "bloc", "kind", "parent", "period", "awards"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
            let mut labels: Vec<String> = [
                "mã đơn vị (bắt buộc)",
                "tên đơn vị",
                "khối thi đua",
                "loại",
                "đơn vị cấp trên",
                "năm",
                "danh hiệu đã có (mã; cách nhau bởi dấu chấm phẩy)",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            for ind in &prog.indicators {
                cols.push(ind.id.clone());
                let ty = match &ind.ty {
                    thidua::value::Type::Percent => "%".to_string(),
                    thidua::value::Type::Bool => "có/không".to_string(),
                    thidua::value::Type::Date => "dd/mm/yyyy".to_string(),
                    thidua::value::Type::Level(i) => prog
                        .levels
                        .get(*i)
                        .map(|l| {
                            l.levels
                                .iter()
                                .map(|x| x.id.clone())
                                .collect::<Vec<_>>()
                                .join("/")
                        })
                        .unwrap_or_default(),
                    thidua::value::Type::Text => "chữ".to_string(),
                    _ => ind.display.text.clone().unwrap_or_else(|| "số".into()),
                };
                labels.push(format!(
                    "{} [{ty}]",
                    ind.label.clone().unwrap_or_else(|| ind.id.clone())
                ));
            }
            let sep = if vi { b';' } else { b',' };
            // The labels, on a `#` line readers skip, quoted as any record
            // (RFC 4180), so that a spreadsheet shows each in its column.
            // The line must stay one line: a line break in a label becomes
            // a space.
            let label_line: Vec<String> = labels
                .iter()
                .enumerate()
                .map(|(k, l)| {
                    let l = l.replace(['\r', '\n'], " ");
                    if k == 0 {
                        format!("# {l}")
                    } else {
                        l
                    }
                })
                .collect();
            let mut buf = Vec::new();
            {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(sep)
                    .from_writer(&mut buf);
                let _ = w.write_record(&cols);
                let _ = w.write_record(&label_line);
                let _ = w.flush();
            }
            let mut s = String::from_utf8(buf).unwrap_or_default();
            if vi {
                s.insert(0, '\u{feff}');
            }
            s.into_bytes()
        }
        TemplateFormat::Json => {
            let mut unit = serde_json::Map::new();
            for k in ["id", "name", "bloc", "kind", "parent", "period", "awards"] {
                unit.insert(k.into(), serde_json::Value::Null);
            }
            for ind in &prog.indicators {
                unit.insert(ind.id.clone(), serde_json::Value::Null);
            }
            let fields: Vec<serde_json::Value> = prog
                .indicators
                .iter()
                .map(|i| {
                    let (ty, levels) = template_type(&prog, &i.ty);
                    let mut f = serde_json::json!({"id": i.id, "label": i.label, "type": ty, "unit": i.display.text});
                    if let (Some(levels), Some(o)) = (levels, f.as_object_mut()) {
                        o.insert("levels".into(), levels.into());
                    }
                    f
                })
                .collect();
            let v = serde_json::json!({"campaign": prog.info.id, "fields": fields, "units": [serde_json::Value::Object(unit)]});
            let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
            s.push('\n');
            s.into_bytes()
        }
    };
    match write_out(out, &bytes) {
        Ok(()) => 0,
        Err(e) => usage(&e),
    }
}

/// How the JSON template names a column's type, and a level's ids.
fn template_type(
    prog: &thidua::ir::Program,
    ty: &thidua::value::Type,
) -> (&'static str, Option<Vec<String>>) {
    use thidua::value::Type;
    match ty {
        Type::Percent => ("percent", None),
        Type::Quantity(_) => ("quantity", None),
        Type::Duration(_) => ("duration", None),
        Type::Bool => ("bool", None),
        Type::Date => ("date", None),
        Type::Text => ("text", None),
        Type::Level(i) => (
            "level",
            Some(
                prog.levels
                    .get(*i)
                    .map(|l| l.levels.iter().map(|x| x.id.clone()).collect())
                    .unwrap_or_default(),
            ),
        ),
        Type::Number | Type::Status | Type::Error => ("number", None),
    }
}

fn keep_permissions(target: &Path, tmp: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(target)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        let _ = std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    {
        if let Ok(m) = std::fs::metadata(target) {
            let _ = std::fs::set_permissions(tmp, m.permissions());
        }
    }
}

/// A spinner on stderr for evaluations that take longer than a second on a
/// terminal; silent otherwise (pipes, CI).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn start(terminal: bool) -> Progress {
        if !terminal {
            return Progress { bar: None };
        }
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        let shown = bar.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(1));
            if !shown.is_finished() {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown.enable_steady_tick(std::time::Duration::from_millis(120));
            }
        });
        Progress { bar: Some(bar) }
    }
    fn phase(&self, what: &str) {
        if let Some(b) = &self.bar {
            b.set_message(what.to_string());
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
