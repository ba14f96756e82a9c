//! The REPL: load a plan and data, pick a unit, try rules out.
//!
//! Every input is checked against the whole plan before it is accepted: a
//! declaration is added to the campaign only if the plan still checks, so a
//! rejected input leaves the session exactly as it was.

use super::{locale_for, LocaleArg};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use thidua::check;
use thidua::data::{self, Locale};
use thidua::diag::SourceMap;
use thidua::eval::{self, UnitRow};
use thidua::ir::Program;
use thidua::report::{diagnostics, value_text};
use thidua::value::Value;

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
}

const HELP: &str = "\
expressions      evaluated for the current unit (their type when none is selected)
let/target/…     a declaration, added to the campaign if the plan still checks
:load FILE       load a plan            :reload        reload it from disk
:data FILE       load data              :units         list the units
:unit ID         select a unit          :eval [ID]     evaluate a unit
:explain CRIT    trace one criterion    :type EXPR     the type of an expression
:set NAME = V    what-if on the unit    :unset NAME    undo a what-if
:rank            the ranking            :help  :quit";

impl Session {
    /// The plan text with the session's declarations (and an optional
    /// probe) inserted before the campaign's closing brace.
    fn text_with(&self, probe: Option<&str>) -> String {
        let mut extra = self.extra.join("\n");
        if let Some(p) = probe {
            extra.push('\n');
            extra.push_str(p);
        }
        match self.base_text.rfind('}') {
            Some(i) if !extra.is_empty() => format!(
                "{}\n{extra}\n{}",
                &self.base_text[..i],
                &self.base_text[i..]
            ),
            _ => self.base_text.clone(),
        }
    }

    fn check_text(&self, text: &str) -> Result<Program, String> {
        let mut sources = SourceMap::default();
        let c = check::check_str(
            text,
            &self
                .plan
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "<repl>".into()),
            self.plan.clone(),
            &mut sources,
        );
        let errors: Vec<_> = c.diags.iter().filter(|d| d.is_error()).cloned().collect();
        if !errors.is_empty() {
            return Err(diagnostics::human(&errors, &sources, false));
        }
        c.program
            .ok_or_else(|| "the plan declares no campaign".to_string())
    }

    fn load(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let old = (
            self.plan.clone(),
            std::mem::take(&mut self.base_text),
            std::mem::take(&mut self.extra),
        );
        self.plan = Some(path.to_path_buf());
        self.base_text = check::normalize(&text);
        match self.check_text(&self.text_with(None)) {
            Ok(p) => {
                self.prog = Some(p);
                self.reload_data()
            }
            Err(e) => {
                (self.plan, self.base_text, self.extra) = old;
                Err(e)
            }
        }
    }

    fn reload_data(&mut self) -> Result<(), String> {
        let Some(prog) = &self.prog else {
            return Ok(());
        };
        if self.data.is_empty() {
            return Ok(());
        }
        let ds = data::read_files(prog, &self.data, self.locale, true).map_err(|e| e.0)?;
        self.rows = ds.rows;
        Ok(())
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

    fn expr(&mut self, src: &str, type_only: bool) -> Result<String, String> {
        let probe = format!("let __repl__ = {src}");
        let prog = self.check_text(&self.text_with(Some(&probe)))?;
        let li = prog
            .lets
            .iter()
            .position(|l| l.id == "__repl__")
            .ok_or("internal: probe lost")?;
        let def = &prog.lets[li];
        let ty = format!("{:?}", def.ty).to_lowercase();
        let Some(unit) = self.unit.clone().filter(|_| !type_only) else {
            return Ok(format!(": {ty}"));
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
        let now = show(self.rows_with_overrides(&prog)?)?;
        if self.overrides.is_empty() {
            Ok(now)
        } else {
            let before = show(self.rows.clone())?;
            Ok(format!("{now}   (without the what-ifs: {before})"))
        }
    }

    fn eval_unit(&self, id: &str) -> Result<String, String> {
        let prog = self.prog.as_ref().ok_or("no plan loaded: `:load FILE`")?;
        let ev = eval::evaluate(prog, self.rows_with_overrides(prog)?)
            .map_err(|_| "the data has errors".to_string())?;
        if ev.unit(id).is_none() {
            return Err(format!("no unit `{id}`"));
        }
        let mut out = super::explain::trace_text(prog, &ev, id, None);
        if !self.overrides.is_empty() {
            let base = eval::evaluate(prog, self.rows.clone())
                .map_err(|_| "the data has errors".to_string())?;
            if let (Some((_, a)), Some((_, b))) = (ev.unit(id), base.unit(id)) {
                out.push_str(&format!(
                    "\nwhat-if: score {} (was {}), rank {} (was {})\n",
                    a.score
                        .map(thidua::value::fmt_dec)
                        .unwrap_or_else(|| "—".into()),
                    b.score
                        .map(thidua::value::fmt_dec)
                        .unwrap_or_else(|| "—".into()),
                    a.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
                    b.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
                ));
                for (c, (x, y)) in prog
                    .criteria
                    .iter()
                    .zip(a.criteria.iter().zip(b.criteria.iter()))
                {
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
            .contains(&cmd);
            if decl {
                if self.prog.is_none() {
                    return Err("load a plan first: `:load FILE`".into());
                }
                self.extra.push(line.to_string());
                match self.check_text(&self.text_with(None)) {
                    Ok(p) => {
                        self.prog = Some(p);
                        return Ok(Some("added".into()));
                    }
                    Err(e) => {
                        self.extra.pop();
                        return Err(e);
                    }
                }
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
                self.load(Path::new(arg))?;
                Ok(Some(format!("loaded `{arg}`")))
            }
            ":reload" => {
                let p = self.plan.clone().ok_or("no plan loaded")?;
                self.load(&p)?;
                Ok(Some("reloaded".into()))
            }
            ":data" => {
                self.data.push(PathBuf::from(arg));
                if let Err(e) = self.reload_data() {
                    self.data.pop();
                    return Err(e);
                }
                Ok(Some(format!("{} units", self.rows.len())))
            }
            ":units" => Ok(Some(
                self.rows
                    .iter()
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
                data::parse_value(prog, slot, &val, self.locale)?;
                self.overrides.retain(|(n, _)| *n != name);
                self.overrides.push((name.clone(), val));
                let id = self.unit.clone().unwrap_or_default();
                self.eval_unit(&id).map(Some)
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

pub fn cmd(plan: Option<&Path>, data_paths: &[PathBuf], locale: Option<LocaleArg>) -> i32 {
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
    };
    if let Some(p) = plan {
        if !p.exists() {
            eprintln!("error: `{}` does not exist", p.display());
            return 2;
        }
        if let Err(e) = s.load(p) {
            eprintln!("{e}");
        }
    }
    let tty = std::io::stdin().is_terminal();
    let mut editor = if tty {
        rustyline::DefaultEditor::new().ok()
    } else {
        None
    };
    let history =
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/thidua/history.txt"));
    if let (Some(ed), Some(h)) = (editor.as_mut(), history.as_ref()) {
        let _ = ed.load_history(h);
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            format!("{}> ", s.unit.clone().unwrap_or_else(|| "thidua".into()))
        } else {
            "... ".into()
        };
        let line = match editor.as_mut() {
            Some(ed) => match ed.readline(&prompt) {
                Ok(l) => {
                    let _ = ed.add_history_entry(l.as_str());
                    l
                }
                Err(rustyline::error::ReadlineError::Interrupted) => {
                    pending.clear();
                    continue;
                }
                Err(_) => break,
            },
            None => match lines.next() {
                Some(Ok(l)) => l,
                _ => break,
            },
        };
        pending.push_str(&line);
        pending.push('\n');
        if balance(&pending) > 0 {
            continue;
        }
        let input = std::mem::take(&mut pending);
        match s.handle(&input) {
            Ok(Some(out)) => println!("{out}"),
            Ok(None) => {}
            Err(e) if e == "\u{0}quit" => break,
            Err(e) => eprintln!("{}", e.trim_end()),
        }
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
