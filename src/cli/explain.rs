//! `thidua explain`: the whole trace for one unit, readable by a person who
//! wants to recompute every point by hand.

use super::{load_plan, locale_for, usage, write_out, LocaleArg};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use thidua::data;
use thidua::diag::SourceMap;
use thidua::eval::{self, Crit, Evaluation, Node};
use thidua::ir::{CritKind, IExpr, Program, TNode};
use thidua::report::{self, node_display, value_text};
use thidua::value::{fmt_dec, Display, Value};

#[allow(clippy::too_many_arguments)]
pub fn cmd(
    plan: &Path,
    data_paths: &[PathBuf],
    unit: &str,
    criterion: Option<&str>,
    locale: Option<LocaleArg>,
    format: &str,
    out: Option<&Path>,
    ecolor: bool,
) -> i32 {
    let mut sources = SourceMap::default();
    let (prog, _) = match load_plan(plan, &mut sources, ecolor) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let loc = locale_for(locale, Some(plan));
    let ds = match data::read_files(&prog, data_paths, loc, false) {
        Ok(d) => d,
        Err(data::Unreadable(m)) => return usage(&m),
    };
    if !ds.errors.is_empty() {
        eprint!(
            "{}",
            report::diagnostics::human(&ds.errors, &sources, ecolor)
        );
        return 1;
    }
    let ev = match eval::evaluate(&prog, ds.rows) {
        Ok(e) => e,
        Err(es) => {
            eprint!("{}", report::diagnostics::human(&es, &sources, ecolor));
            return 1;
        }
    };
    if ev.unit(unit).is_none() {
        let ids: Vec<&str> = ev.units().map(|(r, _)| r.id.as_str()).collect();
        let hint = thidua::diag::nearest(unit, ids.iter().copied())
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        tell!("error: no unit `{unit}` in the data{hint}");
        return 2;
    }
    if let Some(c) = criterion {
        if prog.criterion(c).is_none() {
            tell!("error: no criterion `{c}` in the campaign");
            return 2;
        }
    }
    let text = if format == "json" {
        let mut s = serde_json::to_string_pretty(&trace_json(&prog, &ev, unit, criterion))
            .unwrap_or_default();
        s.push('\n');
        s
    } else {
        trace_text(&prog, &ev, unit, criterion)
    };
    match write_out(out, text.as_bytes()) {
        Ok(()) => 0,
        Err(e) => usage(&e),
    }
}

/// The indicators and lets `e` reads, each once, in the order met: through
/// the lets down to the data, so that a result is traced to its inputs.
fn inputs(prog: &Program, e: &IExpr, out: &mut Vec<usize>, lets: &mut Vec<usize>) {
    match e {
        IExpr::Ind(s) => {
            if !out.contains(s) {
                out.push(*s);
            }
        }
        IExpr::Let(l) => {
            if !lets.contains(l) {
                lets.push(*l);
                if let Some(def) = prog.lets.get(*l) {
                    inputs(prog, &def.expr, out, lets);
                }
            }
        }
        // Values of other periods or of the members are not this unit's
        // current inputs: their reading is not listed as one.
        IExpr::Previous(_) | IExpr::At(..) | IExpr::Streak(_) | IExpr::Agg { .. } => {}
        _ => e.for_each_child(&mut |c| inputs(prog, c, out, lets)),
    }
}

fn crit_inputs(prog: &Program, c: &CritKind) -> (Vec<usize>, Vec<usize>) {
    let mut ins = Vec::new();
    let mut lets = Vec::new();
    for e in c.exprs() {
        inputs(prog, e, &mut ins, &mut lets);
    }
    if let CritKind::Checklist(cl) = c {
        ins.extend(cl.items.iter().map(|i| i.slot));
    }
    (ins, lets)
}

fn node_text(
    prog: &Program,
    out: &mut String,
    t: Option<&TNode>,
    label: Option<&str>,
    n: Node<'_>,
    indent: usize,
) {
    let pad = " ".repeat(indent);
    let (display, ty) = node_display(t);
    let label = label.map(|l| format!("{l}: ")).unwrap_or_default();
    let _ = write!(out, "{pad}{label}{}", n.status.as_str());
    if let Some(a) = n.actual() {
        let _ = write!(
            out,
            " — actual {}",
            value_text(prog, a, &display, ty.as_ref())
        );
    }
    if let Some(g) = n.goal() {
        let _ = write!(out, ", goal {}", value_text(prog, g, &display, ty.as_ref()));
    }
    if let Some(h) = n.high() {
        let _ = write!(out, " .. {}", value_text(prog, h, &display, ty.as_ref()));
    }
    if let Some(g) = n.gap() {
        let unit = if matches!(n.actual(), Some(Value::Date(_))) {
            " days".to_string()
        } else {
            display
                .text
                .clone()
                .map(|u| if u == "%" { u } else { format!(" {u}") })
                .unwrap_or_default()
        };
        let _ = write!(
            out,
            ", gap {}{unit}",
            fmt_dec(g.checked_div(display.factor).unwrap_or(g))
        );
    }
    if let Some(a) = n.achievement() {
        let _ = write!(
            out,
            ", achievement {}",
            fmt_dec(thidua::value::round_half_away(a, 4))
        );
    }
    out.push('\n');
    let kids: &[(Option<String>, TNode, thidua::diag::Span)] = match t {
        Some(TNode::Group { children, .. }) => children,
        _ => &[],
    };
    for (i, c) in n.children().iter().enumerate() {
        let (label, tn) = match kids.get(i) {
            Some((l, t, _)) => (l.as_deref(), Some(t)),
            None => (None, None),
        };
        node_text(prog, out, tn, label, c.node(), indent + 4);
    }
}

fn points_text(c: &thidua::ir::Criterion, r: Crit<'_>) -> String {
    let Some(p) = r.points() else {
        return "not scored".into();
    };
    let Some(t) = &thidua::eval::points_trace(c, r) else {
        return fmt_dec(p);
    };
    let mut s = format!("{} points", fmt_dec(p));
    if let Some(m) = r.max_points(c) {
        s.push_str(&format!(" of {}", fmt_dec(m)));
    }
    s.push_str(&format!(" = base {}", fmt_dec(t.base)));
    if !t.bonus.is_zero() {
        s.push_str(&format!(" + bonus {}", fmt_dec(t.bonus)));
    }
    if !t.penalty.is_zero() {
        s.push_str(&format!(" − penalty {}", fmt_dec(t.penalty)));
    }
    if t.unrounded != p {
        s.push_str(&format!(
            " = {} rounded half away from zero",
            fmt_dec(t.unrounded)
        ));
    }
    if t.note != thidua::eval::Note::None {
        s.push_str(&format!(" ({})", t.note));
    }
    s
}

pub fn trace_text(prog: &Program, ev: &Evaluation, unit: &str, only: Option<&str>) -> String {
    let mut out = String::new();
    let Some((row, st)) = ev.unit(unit) else {
        return out;
    };
    let _ = writeln!(
        out,
        "{} {} · {}",
        row.id,
        row.name
            .as_deref()
            .map(|n| format!("({n})"))
            .unwrap_or_default(),
        row.bloc.as_deref().unwrap_or("no bloc")
    );
    if only.is_none() && !prog.lets.is_empty() {
        let _ = writeln!(out, "\nlets");
        for (l, v) in prog.lets.iter().zip(st.lets.iter()) {
            if l.id.is_empty() || l.id.starts_with("__") {
                continue;
            }
            let _ = writeln!(
                out,
                "  {} = {}",
                l.id,
                value_text(prog, v, &l.display, Some(&l.ty))
            );
            if let Some(d) = &l.doc {
                let _ = writeln!(out, "      /// {}", d.replace('\n', " "));
            }
            let mut parts = Vec::new();
            parts.extend(thidua::eval::condition_details(prog, ev, unit, &l.expr));
            for d in parts {
                let _ = writeln!(out, "      {d}");
            }
        }
    }
    for (ci, (c, r)) in prog.criteria.iter().zip(st.criteria()).enumerate() {
        if only.map(|o| o != c.id).unwrap_or(false) {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{} {} [{}]",
            c.id,
            c.label
                .as_deref()
                .map(|l| format!("\"{l}\""))
                .unwrap_or_default(),
            c.kind.name()
        );
        if let Some(d) = &c.doc {
            let _ = writeln!(out, "  /// {}", d.replace('\n', " "));
        }
        let (ins, lets) = crit_inputs(prog, &c.kind);
        for s in ins {
            if let Some(ind) = prog.indicators.get(s) {
                let v = row.values.get(s).cloned().unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  input {} = {}",
                    ind.id,
                    value_text(prog, &v, &ind.display, Some(&ind.ty))
                );
                if let Some(d) = &ind.doc {
                    let _ = writeln!(out, "      /// {}", d.replace('\n', " "));
                }
            }
        }
        for l in lets {
            if let (Some(def), Some(v)) = (prog.lets.get(l), st.lets.get(l)) {
                let _ = writeln!(
                    out,
                    "  let {} = {}",
                    def.id,
                    value_text(prog, v, &def.display, Some(&def.ty))
                );
            }
        }
        let tnode = match &c.kind {
            CritKind::Target(t) => Some(t),
            _ => None,
        };
        let _ = ci;
        out.push_str("  → ");
        let mut line = String::new();
        node_text(prog, &mut line, tnode, None, r.node, 4);
        out.push_str(line.trim_start());
        if r.status() == thidua::value::Status::Missing {
            for why in thidua::eval::missing_reasons(prog, ev, unit, c) {
                let _ = writeln!(out, "    missing because of {why}");
            }
        }
        if let Some(d) = r.days_late() {
            let _ = writeln!(out, "    days late: {d}");
        }
        if let Some(m) = r.items_met() {
            let _ = writeln!(out, "    items met: {m}");
            let ids: Vec<&str> = match &c.kind {
                CritKind::Checklist(cl) => cl.items.iter().map(|i| i.id.as_str()).collect(),
                _ => Vec::new(),
            };
            for (id, v) in ids.iter().zip(r.items().iter()) {
                let _ = writeln!(
                    out,
                    "      {id}: {}",
                    value_text(prog, v, &Display::plain(), None)
                );
            }
        }
        let _ = writeln!(out, "    {}", points_text(c, r));
    }
    if only.is_some() {
        return out;
    }
    if let Some(s) = st.score {
        let terms: Vec<String> = prog
            .criteria
            .iter()
            .zip(st.criteria())
            .filter_map(|(c, r)| {
                r.points()
                    .filter(|_| r.status() != thidua::value::Status::NotApplicable)
                    .map(|p| format!("{} {}", c.id, fmt_dec(p)))
            })
            .collect();
        let _ = writeln!(out, "\nscore {} = {}", fmt_dec(s), terms.join(" + "));
        if let Some(n) = prog.scoring.as_ref().and_then(|x| x.normalize) {
            let _ = writeln!(
                out,
                "  normalised to {} over the maxima of the criteria that apply",
                fmt_dec(n)
            );
        }
    }
    if let Some(rank) = st.rank {
        let within = prog
            .rank
            .as_ref()
            .map(|r| r.within)
            .unwrap_or(thidua::ir::Field::Bloc);
        let group = row.field(within).map(str::to_string);
        let mut peers: Vec<(&thidua::eval::UnitRow, &thidua::eval::UnitState)> = ev
            .units()
            .filter(|(r, _)| r.field(within).map(str::to_string) == group)
            .collect();
        peers.sort_by_key(|(r, s)| (s.rank.unwrap_or(u32::MAX), r.id.clone()));
        let pos = peers.iter().position(|(r, _)| r.id == row.id).unwrap_or(0);
        let _ = writeln!(
            out,
            "rank {rank} within {} {}",
            within.as_str(),
            group
                .as_deref()
                .map(|g| format!("`{g}`"))
                .unwrap_or_else(|| "(the units with none)".into())
        );
        if pos > 0 {
            let (r, s) = peers[pos - 1];
            let _ = writeln!(
                out,
                "  just above: {} (rank {}, score {})",
                r.id,
                s.rank.unwrap_or(0),
                s.score.map(fmt_dec).unwrap_or_else(|| "—".into())
            );
        }
        if let Some((r, s)) = peers.get(pos + 1) {
            let _ = writeln!(
                out,
                "  just below: {} (rank {}, score {})",
                r.id,
                s.rank.unwrap_or(0),
                s.score.map(fmt_dec).unwrap_or_else(|| "—".into())
            );
        }
    }
    if let Some(rating) = &prog.rating {
        let _ = writeln!(out, "rating {}", rating.id);
        for (bi, v) in st.rating_trace() {
            let b = &rating.branches[*bi];
            let verdict = match (v, b.cond.is_none()) {
                (_, true) => "otherwise: chosen".to_string(),
                (Value::Bool(true), _) => "condition holds: chosen".into(),
                (Value::Bool(false), _) => "condition is false".into(),
                _ => "condition is missing (some data is missing), so it counts as false".into(),
            };
            let _ = writeln!(
                out,
                "  {} \"{}\": {verdict}",
                b.id,
                b.label.clone().unwrap_or_default()
            );
            if let Some(t) = &b.cond_text {
                let _ = writeln!(out, "      when {t}");
            }
            for (text, e) in &b.parts {
                let v = thidua::eval::condition_value(prog, ev, unit, e);
                let _ = writeln!(out, "        {} {text}", verdict_word(&v));
            }
            if let Some(c) = &b.cond {
                for d in thidua::eval::condition_details(prog, ev, unit, c) {
                    let _ = writeln!(out, "      {d}");
                }
            }
        }
    }
    for d in st.award_trace() {
        if let Some(a) = prog.awards.get(d.award) {
            let _ = writeln!(
                out,
                "award {} \"{}\": {} — {}",
                a.id,
                a.label.clone().unwrap_or_default(),
                if d.granted { "granted" } else { "not granted" },
                d.note
            );
            if let Some(t) = &a.when_text {
                let _ = writeln!(out, "    when {t}");
            }
            for (text, e) in &a.parts {
                let v = thidua::eval::condition_value(prog, ev, unit, e);
                let _ = writeln!(out, "      {} {text}", verdict_word(&v));
            }
            if let Some(c) = &a.when {
                for x in thidua::eval::condition_details(prog, ev, unit, c) {
                    let _ = writeln!(out, "    {x}");
                }
            }
        }
    }
    out
}

pub fn trace_json(
    prog: &Program,
    ev: &Evaluation,
    unit: &str,
    only: Option<&str>,
) -> serde_json::Value {
    let Some((row, st)) = ev.unit(unit) else {
        return serde_json::Value::Null;
    };
    let mut v = report::unit_json(prog, ev, row, st);
    if let Some(obj) = v.as_object_mut() {
        if let Some(serde_json::Value::Array(crits)) = obj.get_mut("criteria") {
            for (i, c) in crits.iter_mut().enumerate() {
                let (Some(def), Some(r), Some(o)) =
                    (prog.criteria.get(i), st.criterion(i), c.as_object_mut())
                else {
                    continue;
                };
                let (ins, lets) = crit_inputs(prog, &def.kind);
                let inputs: Vec<serde_json::Value> = ins
                    .iter()
                    .filter_map(|&s| prog.indicators.get(s).map(|ind| serde_json::json!({"id": ind.id, "value": report::value_json(prog, row.values.get(s).unwrap_or(&Value::Missing), &ind.display, Some(&ind.ty))})))
                    .collect();
                let lets: Vec<serde_json::Value> = lets
                    .iter()
                    .filter_map(|&l| prog.lets.get(l).map(|d| serde_json::json!({"id": d.id, "value": report::value_json(prog, st.lets.get(l).unwrap_or(&Value::Missing), &d.display, Some(&d.ty))})))
                    .collect();
                o.insert("inputs".into(), serde_json::Value::Array(inputs));
                o.insert("lets".into(), serde_json::Value::Array(lets));
                if r.status() == thidua::value::Status::Missing {
                    let why = thidua::eval::missing_reasons(prog, ev, unit, def);
                    o.insert("missing_because".into(), serde_json::json!(why));
                }
                if let Some(t) = &thidua::eval::points_trace(def, r) {
                    o.insert("points_trace".into(), serde_json::json!({"base": fmt_dec(t.base), "bonus": fmt_dec(t.bonus), "penalty": fmt_dec(t.penalty), "unrounded": fmt_dec(t.unrounded), "note": t.note.to_string()}));
                }
            }
            if let Some(only) = only {
                crits.retain(|c| c.get("id").and_then(|x| x.as_str()) == Some(only));
            }
        }
        let rating_trace: Vec<serde_json::Value> = st
            .rating_trace()
            .iter()
            .filter_map(|(bi, val)| prog.rating.as_ref().and_then(|r| r.branches.get(*bi)).map(|b| serde_json::json!({"branch": b.id, "when": b.cond_text, "condition": match val { Value::Bool(x) => serde_json::json!(x), _ => serde_json::Value::Null }, "parts": parts_json(prog, ev, unit, &b.parts)})))
            .collect();
        obj.insert(
            "rating_trace".into(),
            serde_json::Value::Array(rating_trace),
        );
        let awards: Vec<serde_json::Value> = st
            .award_trace()
            .iter()
            .filter_map(|d| prog.awards.get(d.award).map(|a| serde_json::json!({"award": a.id, "when": a.when_text, "condition": match &d.condition { Value::Bool(x) => serde_json::json!(x), _ => serde_json::Value::Null }, "parts": parts_json(prog, ev, unit, &a.parts), "granted": d.granted, "note": d.note})))
            .collect();
        obj.insert("award_trace".into(), serde_json::Value::Array(awards));
    }
    v
}

/// A mark for one part of a condition: holds, fails, or missing.
fn verdict_word(v: &Value) -> &'static str {
    match v {
        Value::Bool(true) => "✓ holds: ",
        Value::Bool(false) => "✗ fails: ",
        _ => "? missing:",
    }
}

fn parts_json(
    prog: &Program,
    ev: &Evaluation,
    unit: &str,
    parts: &[(String, IExpr)],
) -> serde_json::Value {
    serde_json::Value::Array(
        parts
            .iter()
            .map(|(text, e)| {
                let v = match thidua::eval::condition_value(prog, ev, unit, e) {
                    Value::Bool(b) => serde_json::json!(b),
                    _ => serde_json::Value::Null,
                };
                serde_json::json!({"text": text, "value": v})
            })
            .collect(),
    )
}
