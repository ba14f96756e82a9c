//! The REPL: load a plan and data, pick a unit, try rules out.
//!
//! Every input is checked against the whole plan before it is accepted: a
//! declaration is added to the campaign only if the plan still checks, so a
//! rejected input leaves the session exactly as it was.

use super::{locale_for, LocaleArg};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Editor, Helper};
use std::borrow::Cow;
use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use thidua::check;
use thidua::data::{self, Locale};
use thidua::diag::{Diag, SourceMap};
use thidua::eval::{self, UnitRow};
use thidua::ir::Program;
use thidua::report::{diagnostics, value_text};
use thidua::value::Value;

/// A unit's result the REPL answers from the evaluation.
#[derive(Clone, Copy)]
enum UnitResult {
    Score,
    Rank,
    Rating,
    Status(usize),
}

struct Session {
    plan: Option<PathBuf>,
    base_text: String,
    extra: Vec<String>,
    data: Vec<PathBuf>,
    rows: Vec<UnitRow>,
    unit: Option<String>,
    overrides: Vec<(String, String)>,
    locale: Locale,
    prog: Option<Program>,
    /// Where declarations go: the campaign's closing brace.
    insert_at: Option<usize>,
}

/// The offset of the campaign's closing brace.
fn campaign_close(text: &str) -> Option<usize> {
    let file = thidua::syntax::parse(text, 0).ok()?;
    file.items.iter().find_map(|i| match i {
        thidua::syntax::ast::Item::Campaign(c) => Some(c.span.end.saturating_sub(1)),
        _ => None,
    })
}

const HELP: &str = "\
expressions      evaluated for the current unit (their type when none is selected)
score, rank, rating, status(CRIT), awarded(AWARD)   the unit's results
let/target/…     a declaration, added to the campaign if the plan still checks
:load FILE       load a plan            :reload        reload it from disk
:data FILE       load data              :units         list the units
:unit ID         select a unit          :eval [ID]     evaluate a unit
:explain CRIT    trace one criterion    :type EXPR     the type of an expression
:set NAME = V    what-if on the unit    :unset NAME    undo a what-if
:rank            the ranking            :help  :quit";

/// Move a diagnostic of the session's text onto the user's input
/// (`input`: its offset and length in `text`) when it lies there, or
/// just past it (at the brace that closes the campaign around it: the
/// input ended too soon). Whether it was moved.
fn onto_input(text: &str, input: Option<(usize, usize)>, d: &mut Diag) -> bool {
    let (Some((off, len)), Some(sp)) = (input, d.span) else {
        return false;
    };
    let end = off + len;
    if sp.file != 0 || sp.start < off {
        return false;
    }
    if sp.end <= end {
        d.span = Some(thidua::diag::Span::new(0, sp.start - off, sp.end - off));
    } else if sp.start >= end && text.get(end..sp.start).is_some_and(|t| t.trim().is_empty()) {
        d.span = Some(thidua::diag::Span::new(0, len, len));
        d.message = d.message.replace("found `}`", "found the end of the input");
    } else {
        return false;
    }
    d.related.clear();
    true
}

impl Session {
    /// Every name completion may offer.
    fn words(&self) -> Vec<String> {
        let mut w = Vec::new();
        if let Some(p) = &self.prog {
            w.extend(p.indicators.iter().map(|i| i.id.clone()));
            w.extend(
                p.lets
                    .iter()
                    .map(|l| l.id.clone())
                    .filter(|l| !l.is_empty()),
            );
            w.extend(p.criteria.iter().map(|c| c.id.clone()));
            w.extend(p.units.iter().map(|u| u.name.clone()));
            w.extend(p.awards.iter().map(|a| a.id.clone()));
            for l in &p.levels {
                w.extend(l.levels.iter().map(|x| x.id.clone()));
            }
            if let Some(r) = &p.rating {
                w.extend(r.branches.iter().map(|b| b.id.clone()));
            }
        }
        w.extend(self.rows.iter().map(|r| r.id.clone()));
        w.extend(
            ["score", "rank", "rating", "bloc", "name", "kind", "parent"]
                .iter()
                .map(|s| s.to_string()),
        );
        w.sort();
        w.dedup();
        w
    }

    /// The plan text with the session's declarations (and an optional
    /// probe) inserted before the campaign's closing brace.
    /// The plan with the session's declarations and `last` (a probe or the
    /// newest declaration) inside the campaign; also where `last` starts.
    fn text_with(&self, last: Option<&str>) -> (String, usize) {
        let at = self
            .insert_at
            .unwrap_or(self.base_text.len())
            .min(self.base_text.len());
        let mut text = String::with_capacity(self.base_text.len() + 256);
        text.push_str(&self.base_text[..at]);
        for e in &self.extra {
            text.push('\n');
            text.push_str(e);
        }
        text.push('\n');
        let start = text.len();
        if let Some(l) = last {
            text.push_str(l);
            text.push('\n');
        }
        text.push_str(&self.base_text[at..]);
        (text, start)
    }

    /// The name diagnostics give the plan's text.
    fn source_name(&self) -> String {
        self.plan
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "<repl>".into())
    }

    fn check_text(&self, text: &str) -> Result<Program, String> {
        self.check_input(text, None)
    }

    /// Check the whole text; errors inside the user's input (starting at
    /// `input.0`, `input.1` bytes long) are shown against the input alone.
    fn check_input(&self, text: &str, input: Option<(usize, usize)>) -> Result<Program, String> {
        self.check_noting(text, input).map(|(p, _)| p)
    }

    /// [`Session::check_input`], and the warnings about the input, shown
    /// against it (a percent compared with a bare number, …).
    fn check_noting(
        &self,
        text: &str,
        input: Option<(usize, usize)>,
    ) -> Result<(Program, String), String> {
        let mut sources = SourceMap::default();
        let c = check::check_str(text, &self.source_name(), self.plan.clone(), &mut sources);
        let mut own = SourceMap::default();
        if let Some((off, len)) = input {
            own.add("<input>", None, text.get(off..off + len).unwrap_or(""));
        }
        let (errors, warnings): (Vec<_>, Vec<_>) = c.diags.into_iter().partition(Diag::is_error);
        if !errors.is_empty() {
            let (mut mine, mut theirs) = (Vec::new(), Vec::new());
            for mut d in errors {
                if onto_input(text, input, &mut d) {
                    mine.push(d);
                } else {
                    theirs.push(d);
                }
            }
            let mut out = diagnostics::human(&mine, &own, false);
            out.push_str(&diagnostics::human(&theirs, &sources, false));
            return Err(out);
        }
        // An indicator just declared is read by what is typed next.
        let mine: Vec<Diag> = (warnings.into_iter())
            .filter(|d| d.code != thidua::diag::codes::UNUSED_INDICATOR)
            .filter_map(|mut d| onto_input(text, input, &mut d).then_some(d))
            .collect();
        let notes = diagnostics::human(&mine, &own, false);
        c.program
            .map(|p| (p, notes))
            .ok_or_else(|| "the plan declares no campaign".to_string())
    }

    /// Check the plan with the session's declarations.
    fn load_check(&self) -> Result<Program, String> {
        let (text, _) = self.text_with(None);
        self.check_text(&text)
    }

    /// Load (or reload) a plan. A reload keeps the session's declarations;
    /// a failed load leaves the session as it was.
    fn load(&mut self, path: &Path, keep_extra: bool) -> Result<String, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let old = (
            self.plan.clone(),
            self.base_text.clone(),
            self.extra.clone(),
            self.insert_at,
        );
        self.plan = Some(path.to_path_buf());
        self.base_text = check::normalize(&text);
        self.insert_at = campaign_close(&self.base_text);
        if !keep_extra {
            self.extra.clear();
        }
        match self.load_check() {
            Ok(p) => {
                self.prog = Some(p);
                self.reload_data()
            }
            Err(e) => {
                (self.plan, self.base_text, self.extra, self.insert_at) = old;
                Err(e)
            }
        }
    }

    /// The year of the campaign's period (see [`eval::current_year`]).
    fn current_year(&self) -> Option<i32> {
        let prog = self.prog.as_ref()?;
        Some(eval::current_year(prog, &self.rows))
    }

    /// Without a plan: an empty campaign of the session's own, which
    /// declarations join and expressions are checked against, until a
    /// plan is loaded.
    fn scratch(&mut self) {
        self.base_text = "campaign repl \"REPL\" {\n}\n".into();
        self.insert_at = campaign_close(&self.base_text);
        self.prog = self.load_check().ok();
    }

    /// Read the session's data files again. The rows with an error are
    /// left out, so the session goes on with the others; what was found
    /// (errors, rows left out, warnings) comes back as text to show.
    fn reload_data(&mut self) -> Result<String, String> {
        let Some(prog) = &self.prog else {
            return Ok(String::new());
        };
        if self.data.is_empty() {
            return Ok(String::new());
        }
        let mut ds = data::read_files(prog, &self.data, self.locale, false).map_err(|e| e.0)?;
        let mut found = ds.errors.clone();
        found.append(&mut ds.warnings);
        let mut notes = diagnostics::human(&found, &SourceMap::default(), false);
        if !ds.errors.is_empty() {
            notes.push_str(&format!(
                "{} data error{}: the rows with an error are left out\n",
                ds.errors.len(),
                if ds.errors.len() == 1 { "" } else { "s" }
            ));
        }
        // Units in a cycle of `parent` links, or below a parent that is
        // not there, are left out too, so that the others evaluate.
        data::skip_bad_parents(prog, &mut ds);
        for s in &ds.skipped {
            notes.push_str(&format!("left out {}:{}: {}\n", s.file, s.row, s.reason));
        }
        self.rows = ds.rows;
        Ok(notes)
    }

    fn rows_with_overrides(&self, prog: &Program) -> Result<Vec<UnitRow>, String> {
        let mut rows = self.rows.clone();
        if let Some(u) = &self.unit {
            for (name, val) in &self.overrides {
                let slot = prog
                    .indicator_slot(name)
                    .ok_or_else(|| format!("unknown indicator `{name}`"))?;
                let v = data::parse_value(prog, slot, val, self.locale)?;
                for r in rows.iter_mut().filter(|r| &r.id == u) {
                    if let Some(x) = r.values.get_mut(slot) {
                        *x = v.clone();
                    }
                }
            }
        }
        Ok(rows)
    }

    /// `score`, `rank`, `rating` and `status(CRITERION)`: the unit's
    /// results, which a plan reads only in ratings, awards and tests (a
    /// `let` cannot), answered from the evaluation. `None` for any other
    /// expression.
    fn result(&self, src: &str, type_only: bool) -> Option<Result<String, String>> {
        let prog = self.prog.as_ref()?;
        let src = src.trim();
        let criterion = src
            .strip_prefix("status")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.strip_suffix(')'))
            .map(str::trim)
            // `status(t1) == met and …` is an expression of its own.
            .filter(|id| {
                id.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            });
        let (what, ty) = match (src, criterion) {
            ("score", _) => (UnitResult::Score, "number"),
            ("rank", _) => (UnitResult::Rank, "number"),
            ("rating", _) if prog.rating.is_some() => (UnitResult::Rating, "rating"),
            (_, Some(id)) => match prog.criterion(id) {
                Some(k) => (UnitResult::Status(k), "status"),
                None => return Some(Err(format!("no criterion `{id}`"))),
            },
            _ => return None,
        };
        let Some(unit) = self.unit.clone().filter(|_| !type_only) else {
            return Some(Ok(format!(": {ty}")));
        };
        let show = |rows: Vec<UnitRow>| -> Result<String, String> {
            let ev = eval::evaluate(prog, rows).map_err(|_| "the data has errors".to_string())?;
            let (_, st) = ev.unit(&unit).ok_or_else(|| format!("no unit `{unit}`"))?;
            let none = || "missing".to_string();
            Ok(match what {
                UnitResult::Score => st.score.map(thidua::value::fmt_dec).unwrap_or_else(none),
                UnitResult::Rank => st.rank.map(|r| r.to_string()).unwrap_or_else(none),
                UnitResult::Rating => st
                    .rating
                    .and_then(|r| prog.rating.as_ref().and_then(|x| x.branches.get(r)))
                    .map(|b| match &b.label {
                        Some(l) => format!("{} \"{l}\"", b.id),
                        None => b.id.clone(),
                    })
                    .unwrap_or_else(none),
                UnitResult::Status(k) => st
                    .criterion(k)
                    .map(|c| c.status().as_str().to_string())
                    .unwrap_or_else(none),
            })
        };
        Some(self.beside_original(prog, show))
    }

    /// `show` of the data with the what-ifs, and beside it, when there are
    /// any, `show` of the data as loaded.
    fn beside_original(
        &self,
        prog: &Program,
        show: impl Fn(Vec<UnitRow>) -> Result<String, String>,
    ) -> Result<String, String> {
        let now = show(self.rows_with_overrides(prog)?)?;
        if self.overrides.is_empty() {
            Ok(now)
        } else {
            let before = show(self.rows.clone())?;
            Ok(format!("{now}   (without the what-ifs: {before})"))
        }
    }

    fn expr(&mut self, src: &str, type_only: bool) -> Result<String, String> {
        if let Some(answer) = self.result(src, type_only) {
            return answer;
        }
        let head = "let __repl__ = ";
        let probe = format!("{head}{src}");
        let (text, start) = self.text_with(Some(&probe));
        let (prog, notes) = match self.check_noting(&text, Some((start + head.len(), src.len()))) {
            Ok(p) => p,
            // Not an expression a `let` may hold: perhaps one that reads
            // the unit's results (`score + 1`, `t1 is met and rank <= 3`).
            Err(e) => return self.after_evaluation(src, type_only).unwrap_or(Err(e)),
        };
        let li = prog
            .lets
            .iter()
            .position(|l| l.id == "__repl__")
            .ok_or("internal: probe lost")?;
        let def = &prog.lets[li];
        let ty = thidua::report::type_name(&prog, &def.ty, &def.display);
        // A name's doc comment, above its value or type.
        let name = src.trim();
        let doc = (prog.lets.iter().find(|l| l.id == name))
            .and_then(|l| l.doc.as_ref())
            .or_else(|| {
                prog.indicators
                    .iter()
                    .find(|i| i.id == name)
                    .and_then(|i| i.doc.as_ref())
            });
        let notes = match doc {
            Some(d) => format!("{notes}/// {}\n", d.replace('\n', "\n/// ")),
            None => notes,
        };
        let Some(unit) = self.unit.clone().filter(|_| !type_only) else {
            return Ok(format!("{notes}: {ty}"));
        };
        let show = |rows: Vec<UnitRow>| -> Result<String, String> {
            let ev = eval::evaluate(&prog, rows).map_err(|_| "the data has errors".to_string())?;
            let (_, st) = ev.unit(&unit).ok_or_else(|| format!("no unit `{unit}`"))?;
            Ok(value_text(
                &prog,
                st.lets.get(li).unwrap_or(&Value::Missing),
                &def.display,
                Some(&def.ty),
            ))
        };
        Ok(format!("{notes}{}", self.beside_original(&prog, show)?))
    }

    /// `src` read after the evaluation, as a rating, an award or a test
    /// reads it: with the unit's score, rank, rating, criteria and awards.
    /// `None` when the plan itself does not check with it (the caller then
    /// shows why it is not an expression a `let` may hold).
    fn after_evaluation(&self, src: &str, type_only: bool) -> Option<Result<String, String>> {
        let (text, _) = self.text_with(None);
        let mut sources = SourceMap::default();
        let (checked, probe) = check::check_str_probe(
            &text,
            &self.source_name(),
            self.plan.clone(),
            &mut sources,
            src,
        );
        // Its own diagnostics: the plan checked without it.
        let input = sources.files.len().checked_sub(1)?;
        let (errors, warnings): (Vec<_>, Vec<_>) = (checked.diags.into_iter())
            .filter(|d| d.span.is_some_and(|sp| sp.file as usize == input))
            .map(|mut d| {
                d.message = (d
                    .message
                    .replace("the end of the file", "the end of the input"))
                .replace("end of file", "the end of the input");
                d
            })
            .partition(Diag::is_error);
        let (Some(prog), Some(probe)) = (checked.program, probe) else {
            return (!errors.is_empty()).then(|| Err(diagnostics::human(&errors, &sources, false)));
        };
        let notes = diagnostics::human(&warnings, &sources, false);
        let ty = thidua::report::type_name(&prog, &probe.ty, &probe.display);
        let Some(unit) = self.unit.clone().filter(|_| !type_only) else {
            return Some(Ok(format!("{notes}: {ty}")));
        };
        let show = |rows: Vec<UnitRow>| -> Result<String, String> {
            let ev = eval::evaluate(&prog, rows).map_err(|_| "the data has errors".to_string())?;
            if ev.unit(&unit).is_none() {
                return Err(format!("no unit `{unit}`"));
            }
            let v = eval::condition_value(&prog, &ev, &unit, &probe.expr);
            Ok(value_text(&prog, &v, &probe.display, Some(&probe.ty)))
        };
        Some(
            self.beside_original(&prog, show)
                .map(|v| format!("{notes}{v}")),
        )
    }

    fn eval_unit(&self, id: &str) -> Result<String, String> {
        let prog = self.prog.as_ref().ok_or("no plan loaded: `:load FILE`")?;
        let ev = eval::evaluate(prog, self.rows_with_overrides(prog)?)
            .map_err(|_| "the data has errors".to_string())?;
        if ev.unit(id).is_none() {
            return Err(format!("no unit `{id}`"));
        }
        let mut out = super::explain::trace_text(prog, &ev, id, None);
        out.push_str(&self.what_if(id)?);
        Ok(out)
    }

    /// The current unit's results with the what-ifs, beside the original.
    fn what_if(&self, id: &str) -> Result<String, String> {
        let prog = self.prog.as_ref().ok_or("no plan loaded: `:load FILE`")?;
        let mut out = String::new();
        if !self.overrides.is_empty() {
            let ev = eval::evaluate(prog, self.rows_with_overrides(prog)?)
                .map_err(|_| "the data has errors".to_string())?;
            let base = eval::evaluate(prog, self.rows.clone())
                .map_err(|_| "the data has errors".to_string())?;
            if let (Some((_, a)), Some((_, b))) = (ev.unit(id), base.unit(id)) {
                let sets: Vec<String> = self
                    .overrides
                    .iter()
                    .map(|(n, v)| format!("{n} = {v}"))
                    .collect();
                let rating = |r: Option<usize>| {
                    r.and_then(|r| prog.rating.as_ref().and_then(|x| x.branches.get(r)))
                        .map(|b| b.id.clone())
                        .unwrap_or_else(|| "—".into())
                };
                out.push_str(&format!(
                    "what-if {}: rating {} (was {})\n",
                    sets.join(", "),
                    rating(a.rating),
                    rating(b.rating)
                ));
                out.push_str(&format!(
                    "what-if: score {} (was {}), rank {} (was {})\n",
                    a.score
                        .map(thidua::value::fmt_dec)
                        .unwrap_or_else(|| "—".into()),
                    b.score
                        .map(thidua::value::fmt_dec)
                        .unwrap_or_else(|| "—".into()),
                    a.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
                    b.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
                ));
                for (c, (x, y)) in prog.criteria.iter().zip(a.criteria().zip(b.criteria())) {
                    if x.status() != y.status() {
                        out.push_str(&format!(
                            "  {}: {} (was {})\n",
                            c.id,
                            x.status().as_str(),
                            y.status().as_str()
                        ));
                    }
                }
            }
        }
        Ok(out)
    }

    fn handle(&mut self, line: &str) -> Result<Option<String>, String> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(None);
        }
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        if !cmd.starts_with(':') {
            if let Some(at) = stray_brace(line) {
                let mut own = SourceMap::default();
                own.add("<input>", None, line);
                let d = Diag::error(
                    thidua::diag::codes::SYNTAX,
                    "this `}` closes no `{` of what you typed",
                )
                .at(thidua::diag::Span::new(0, at, at + 1))
                .label("here")
                .help("remove it: what you type is added inside the campaign, which stays open");
                return Err(diagnostics::human(&[d], &own, false));
            }
            let decl = [
                "let",
                "target",
                "deadline",
                "checklist",
                "rating",
                "award",
                "adjust",
                "indicator",
                "section",
            ]
            .contains(&cmd)
                // A declaration names something next: `rating == a` is a
                // comparison.
                && arg.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_');
            if decl {
                if self.prog.is_none() {
                    return Err("load a plan first: `:load FILE`".into());
                }
                let (text, start) = self.text_with(Some(line));
                return match self.check_noting(&text, Some((start, line.len()))) {
                    Ok((p, notes)) => {
                        self.extra.push(line.to_string());
                        self.prog = Some(p);
                        Ok(Some(format!("{notes}added")))
                    }
                    Err(e) => Err(e),
                };
            }
            if self.prog.is_none() {
                return Err("load a plan first: `:load FILE`".into());
            }
            return self.expr(line, false).map(Some);
        }
        match cmd {
            ":quit" | ":q" | ":exit" => Err("\u{0}quit".into()),
            ":help" | ":h" => Ok(Some(HELP.into())),
            ":load" => {
                let notes = self.load(Path::new(arg), false)?;
                Ok(Some(format!("{notes}loaded `{arg}`")))
            }
            ":reload" => {
                let p = self.plan.clone().ok_or("no plan loaded")?;
                let notes = self.load(&p, true)?;
                Ok(Some(format!("{notes}reloaded")))
            }
            ":data" => {
                if !Path::new(arg).is_file() {
                    return Err(format!("`{arg}` does not exist or is not a file"));
                }
                self.data.push(PathBuf::from(arg));
                match self.reload_data() {
                    Ok(notes) => Ok(Some(format!("{notes}{} units", self.rows.len()))),
                    Err(e) => {
                        self.data.pop();
                        Err(e)
                    }
                }
            }
            ":units" => Ok(Some(
                self.rows
                    .iter()
                    // The campaign's period: rows of earlier years are history.
                    .filter(|r| r.period.is_none() || r.period == self.current_year())
                    .map(|r| {
                        format!(
                            "{}  {}  {}",
                            r.id,
                            r.name.clone().unwrap_or_default(),
                            r.bloc.clone().unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            )),
            ":unit" => {
                if !self.rows.iter().any(|r| r.id == arg) {
                    return Err(format!("no unit `{arg}`"));
                }
                self.unit = Some(arg.to_string());
                self.overrides.clear();
                Ok(Some(format!("unit `{arg}`")))
            }
            ":eval" => {
                let id = if arg.is_empty() {
                    self.unit.clone().ok_or("choose a unit: `:unit ID`")?
                } else {
                    arg.to_string()
                };
                self.eval_unit(&id).map(Some)
            }
            ":explain" => {
                let prog = self.prog.as_ref().ok_or("no plan loaded")?;
                let id = self.unit.clone().ok_or("choose a unit: `:unit ID`")?;
                if prog.criterion(arg).is_none() {
                    return Err(format!("no criterion `{arg}`"));
                }
                let ev = eval::evaluate(prog, self.rows_with_overrides(prog)?)
                    .map_err(|_| "the data has errors".to_string())?;
                Ok(Some(super::explain::trace_text(prog, &ev, &id, Some(arg))))
            }
            ":type" => self.expr(arg, true).map(Some),
            ":set" => {
                let (name, val) = arg.split_once('=').ok_or("write `:set NAME = VALUE`")?;
                let (name, val) = (
                    name.trim().to_string(),
                    val.trim().trim_matches('"').to_string(),
                );
                let prog = self.prog.as_ref().ok_or("no plan loaded")?;
                self.unit.as_ref().ok_or("choose a unit: `:unit ID`")?;
                let slot = prog
                    .indicator_slot(&name)
                    .ok_or_else(|| format!("unknown indicator `{name}`"))?;
                // As in a test's `given` (LANGUAGE.md §8): a percent is
                // written with its `%`.
                let percent = prog
                    .indicators
                    .get(slot)
                    .is_some_and(|i| i.ty == thidua::value::Type::Percent);
                if percent && !val.ends_with('%') && !val.is_empty() {
                    return Err(format!(
                        "`{name}` is a percent: write it with `%` (`:set {name} = {val}%`)"
                    ));
                }
                data::parse_value(prog, slot, &val, self.locale)?;
                self.overrides.retain(|(n, _)| *n != name);
                self.overrides.push((name.clone(), val));
                let id = self.unit.clone().unwrap_or_default();
                self.what_if(&id).map(Some)
            }
            ":unset" => {
                self.overrides.retain(|(n, _)| n != arg);
                Ok(Some(format!("`{arg}` is back to the data")))
            }
            ":rank" => {
                let prog = self.prog.as_ref().ok_or("no plan loaded")?;
                let ev = eval::evaluate(prog, self.rows_with_overrides(prog)?)
                    .map_err(|_| "the data has errors".to_string())?;
                let mut v: Vec<_> = ev.units().collect();
                v.sort_by_key(|(r, s)| (r.bloc.clone(), s.rank.unwrap_or(u32::MAX), r.id.clone()));
                Ok(Some(
                    v.iter()
                        .map(|(r, s)| {
                            format!(
                                "{:<14} {:>3}  {:<12} {}",
                                r.bloc.clone().unwrap_or_default(),
                                s.rank.map(|x| x.to_string()).unwrap_or_default(),
                                r.id,
                                s.score.map(thidua::value::fmt_dec).unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                ))
            }
            other => Err(format!("unknown command `{other}`; `:help` lists them")),
        }
    }
}

/// The offset of the first `}` of `s` that closes no `{` of `s` (outside
/// strings).
fn stray_brace(s: &str) -> Option<usize> {
    let (mut depth, mut in_str) = (0u32, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '{' if !in_str => depth += 1,
            '}' if !in_str => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return Some(i),
            },
            _ => {}
        }
    }
    None
}

fn balance(s: &str) -> i64 {
    let mut d = 0i64;
    let mut in_str = false;
    for c in s.chars() {
        match c {
            '"' => in_str = !in_str,
            '{' | '(' if !in_str => d += 1,
            '}' | ')' if !in_str => d -= 1,
            _ => {}
        }
    }
    d
}

/// Tab completion, highlighting and multi-line input for the terminal.
#[derive(Default)]
struct ReplHelper {
    words: Rc<RefCell<Vec<String>>>,
    color: bool,
}

const COMMANDS: &[&str] = &[
    ":load", ":reload", ":data", ":units", ":unit", ":eval", ":explain", ":set", ":unset", ":type",
    ":rank", ":help", ":quit",
];

const KEYWORDS: &[&str] = &[
    "let",
    "target",
    "deadline",
    "checklist",
    "rating",
    "award",
    "adjust",
    "indicator",
    "section",
    "and",
    "or",
    "not",
    "in",
    "if",
    "then",
    "else",
    "true",
    "false",
    "by",
    "before",
    "when",
    "otherwise",
    "all",
    "any",
    "at_least",
    "of",
    "points",
    "bonus",
    "penalty",
    "per",
    "above",
    "below",
    "limit",
    "members",
    "where",
    "is",
    "has",
];

impl Completer for ReplHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let pos = pos.min(line.len());
        let head = &line[..pos];
        let start = head
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.' || *c == ':'))
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(0);
        let word = &head[start..];
        let words = self.words.borrow();
        let pool: Vec<&str> = if word.starts_with(':') && start == 0 {
            COMMANDS.to_vec()
        } else {
            words
                .iter()
                .map(String::as_str)
                .chain(KEYWORDS.iter().copied())
                .collect()
        };
        let mut out: Vec<Pair> = pool
            .into_iter()
            .filter(|w| w.starts_with(word) && !word.is_empty())
            .map(|w| Pair {
                display: w.to_string(),
                replacement: w.to_string(),
            })
            .collect();
        out.sort_by(|a, b| a.display.cmp(&b.display));
        out.dedup_by(|a, b| a.display == b.display);
        Ok((start, out))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight(line))
    }
    fn highlight_char(&self, _line: &str, _pos: usize, _forced: bool) -> bool {
        self.color
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if balance(ctx.input()) > 0 {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl Helper for ReplHelper {}

/// Keywords, strings, numbers and comments in colour.
fn highlight(line: &str) -> String {
    use owo_colors::OwoColorize;
    let mut out = String::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            let rest: String = chars[i..].iter().collect();
            out.push_str(&rest.dimmed().to_string());
            break;
        }
        if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                if chars[j] == '\\' {
                    j += 1;
                }
                j += 1;
            }
            let end = (j + 1).min(chars.len());
            let s: String = chars[i..end].iter().collect();
            out.push_str(&s.green().to_string());
            i = end;
            continue;
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_ascii_digit() || matches!(chars[j], '.' | '_' | '%' | '/' | '-'))
            {
                j += 1;
            }
            let s: String = chars[i..j].iter().collect();
            out.push_str(&s.yellow().to_string());
            i = j;
            continue;
        }
        if c.is_alphabetic() || c == '_' || c == ':' {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let s: String = chars[i..j].iter().collect();
            if KEYWORDS.contains(&s.as_str()) || s.starts_with(':') {
                out.push_str(&s.cyan().bold().to_string());
            } else {
                out.push_str(&s);
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("THIDUA_HISTORY") {
        return Some(PathBuf::from(p));
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data.join("thidua").join("history.txt"))
}

pub fn cmd(
    plan: Option<&Path>,
    data_paths: &[PathBuf],
    locale: Option<LocaleArg>,
    color: bool,
) -> i32 {
    let mut s = Session {
        plan: None,
        base_text: String::new(),
        extra: Vec::new(),
        data: data_paths.to_vec(),
        rows: Vec::new(),
        unit: None,
        overrides: Vec::new(),
        locale: locale_for(locale, plan),
        prog: None,
        insert_at: None,
    };
    for p in plan
        .into_iter()
        .chain(data_paths.iter().map(PathBuf::as_path))
    {
        if !p.is_file() {
            tell!("error: `{}` does not exist or is not a file", p.display());
            return 2;
        }
    }
    if let Some(p) = plan {
        match s.load(p, false) {
            Ok(notes) if !notes.is_empty() => tell!("{}", notes.trim_end()),
            Ok(_) => {}
            Err(e) => tell!("{}", e.trim_end()),
        }
    } else if !data_paths.is_empty() {
        tell!("error: `--data` needs a plan: `thidua repl PLAN --data FILE`");
        return 2;
    } else {
        s.scratch();
    }
    let words = Rc::new(RefCell::new(s.words()));
    let tty = std::io::stdin().is_terminal();
    let mut editor: Option<Editor<ReplHelper, DefaultHistory>> = if tty {
        Editor::new()
            .ok()
            .map(|mut ed: Editor<ReplHelper, DefaultHistory>| {
                ed.set_helper(Some(ReplHelper {
                    words: words.clone(),
                    color,
                }));
                ed
            })
    } else {
        None
    };
    let history = history_path();
    if let (Some(ed), Some(h)) = (editor.as_mut(), history.as_ref()) {
        let _ = ed.load_history(h);
    }
    if tty {
        say!("thidua REPL — `:help` for commands, Ctrl-D to quit");
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut pending = String::new();
    loop {
        let prompt = format!("{}> ", s.unit.clone().unwrap_or_else(|| "thidua".into()));
        let input = match editor.as_mut() {
            Some(ed) => match ed.readline(&prompt) {
                Ok(l) => {
                    let _ = ed.add_history_entry(l.as_str());
                    l
                }
                Err(rustyline::error::ReadlineError::Interrupted) => continue,
                Err(_) => break,
            },
            None => {
                // Piped input: lines join while a brace or parenthesis is open;
                // what is still open when the input ends is checked as it is,
                // so that its error is shown.
                let Some(Ok(l)) = lines.next() else {
                    if pending.trim().is_empty() {
                        break;
                    }
                    match s.handle(&std::mem::take(&mut pending)) {
                        Ok(Some(out)) => say!("{out}"),
                        Err(e) if e != "\u{0}quit" => tell!("{}", e.trim_end()),
                        _ => {}
                    }
                    break;
                };
                pending.push_str(&l);
                pending.push('\n');
                if balance(&pending) > 0 {
                    continue;
                }
                std::mem::take(&mut pending)
            }
        };
        match s.handle(&input) {
            Ok(Some(out)) => say!("{out}"),
            Ok(None) => {}
            Err(e) if e == "\u{0}quit" => break,
            Err(e) => tell!("{}", e.trim_end()),
        }
        *words.borrow_mut() = s.words();
        let _ = std::io::stdout().flush();
    }
    if let (Some(ed), Some(h)) = (editor.as_mut(), history.as_ref()) {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = ed.save_history(h);
    }
    0
}
