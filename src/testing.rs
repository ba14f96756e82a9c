//! Running the `test` blocks of criteria files.

use crate::data::{self, Locale};
use crate::diag::{codes, Diag, Span};
use crate::eval::{self, UnitRow};
use crate::ir::{GivenTarget, IExpr, Program, TestSpec, UnitAttr};
use crate::value::{fmt_dec, Value};

#[derive(Debug)]
pub struct Failure {
    pub span: Span,
    pub expected: String,
    pub actual: String,
}

#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    pub span: Span,
    pub expectations: usize,
    pub failures: Vec<Failure>,
    /// The test could not run (bad data).
    pub errors: Vec<Diag>,
    /// Warnings of the test's data and of its evaluation (an unknown
    /// column, a tie at an award's limit): shown, and failures under
    /// `--deny-warnings`.
    pub warnings: Vec<Diag>,
    /// What the test's expectations read: criteria, rating branches (of
    /// the units whose rating they read) and awards.
    pub coverage: Coverage,
}

/// What tests exercised, by index into the program's lists.
#[derive(Debug, Default, Clone)]
pub struct Coverage {
    pub criteria: std::collections::BTreeSet<usize>,
    pub branches: std::collections::BTreeSet<usize>,
    pub awards: std::collections::BTreeSet<usize>,
}

impl Coverage {
    pub fn merge(&mut self, other: &Coverage) {
        self.criteria.extend(other.criteria.iter().copied());
        self.branches.extend(other.branches.iter().copied());
        self.awards.extend(other.awards.iter().copied());
    }
}

/// Walk an expectation for what it reads.
fn cover(ev: &eval::Evaluation, e: &IExpr, c: &mut Coverage) {
    match e {
        IExpr::UnitAttr(u, attr) => match attr {
            UnitAttr::Status(i) => {
                c.criteria.insert(*i);
            }
            UnitAttr::Rating => {
                if let Some(b) = ev.unit(u).and_then(|(_, st)| st.rating) {
                    c.branches.insert(b);
                }
            }
            UnitAttr::Score => {
                // A score expectation reads every scored criterion of the unit.
                if let Some((_, st)) = ev.unit(u) {
                    for (i, r) in st.criteria().enumerate() {
                        if r.points().is_some() {
                            c.criteria.insert(i);
                        }
                    }
                }
            }
            UnitAttr::Rank => {}
            UnitAttr::Expr(x) => cover(ev, x, c),
        },
        IExpr::Has(_, a) => {
            c.awards.insert(*a);
        }
        IExpr::Not(x) | IExpr::Neg(x) | IExpr::Present(x) | IExpr::StatusCmp(_, x, _) => {
            cover(ev, x, c)
        }
        IExpr::And(a, b)
        | IExpr::Or(a, b)
        | IExpr::Cmp(_, a, b)
        | IExpr::Arith(_, a, b)
        | IExpr::Coalesce(a, b) => {
            cover(ev, a, c);
            cover(ev, b, c);
        }
        IExpr::If(a, b, d) | IExpr::InRange(a, b, d) => {
            cover(ev, a, c);
            cover(ev, b, c);
            cover(ev, d, c);
        }
        _ => {}
    }
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.errors.is_empty()
    }
}

/// Largest data file a test may read.
pub const LIMIT_TEST_DATA_BYTES: u64 = 64 * 1024 * 1024;

pub fn run(prog: &Program, locale: Locale) -> Vec<Outcome> {
    prog.tests
        .iter()
        .map(|t| run_one(prog, t, locale))
        .collect()
}

fn run_one(prog: &Program, t: &TestSpec, locale: Locale) -> Outcome {
    let mut out = Outcome {
        name: t.name.clone(),
        span: t.span,
        expectations: t.expects.len(),
        failures: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        coverage: Coverage::default(),
    };
    let mut rows: Vec<UnitRow> = Vec::new();
    for (path, span) in &t.data {
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => {
                out.errors.push(
                    Diag::error(
                        codes::DATA,
                        format!("`{}` is not a regular file", path.display()),
                    )
                    .at(*span),
                );
                continue;
            }
            Ok(m) if m.len() > LIMIT_TEST_DATA_BYTES => {
                out.errors.push(
                    Diag::error(
                        codes::LIMIT,
                        format!(
                            "`{}` is larger than {} MiB",
                            path.display(),
                            LIMIT_TEST_DATA_BYTES >> 20
                        ),
                    )
                    .at(*span),
                );
                continue;
            }
            _ => {}
        }
        match data::read_files(prog, std::slice::from_ref(path), locale, false) {
            Ok(ds) => {
                for mut e in ds.errors {
                    e.span = Some(*span);
                    out.errors.push(e);
                }
                // A test's data file may leave columns to its `given`
                // rows: a column it lacks is no warning here.
                out.warnings
                    .extend((ds.warnings.into_iter()).filter(|w| w.code != codes::MISSING_COLUMN));
                rows.extend(ds.rows);
            }
            Err(data::Unreadable(msg)) => out.errors.push(Diag::error(codes::DATA, msg).at(*span)),
        }
    }
    for g in &t.given {
        let mut row = UnitRow {
            id: g.unit.clone(),
            values: vec![Value::Missing; prog.indicators.len()],
            ..Default::default()
        };
        for (target, v) in &g.fields {
            match target {
                GivenTarget::Slot(s) => {
                    if let Some(slot) = row.values.get_mut(*s) {
                        *slot = v.clone();
                    }
                }
                GivenTarget::Field(f) => {
                    let text = match v {
                        Value::Text(t) => Some(t.to_string()),
                        _ => None,
                    };
                    match f {
                        crate::ir::Field::Id => {}
                        crate::ir::Field::Name => row.name = text,
                        crate::ir::Field::Bloc => row.bloc = text,
                        crate::ir::Field::Kind => row.kind = text,
                        crate::ir::Field::Parent => row.parent = text,
                        // `awards` in a given row is `GivenTarget::Awards`.
                        crate::ir::Field::Awards => {}
                    }
                }
                GivenTarget::Period => {
                    row.period = v
                        .num()
                        .and_then(|n| i32::try_from(n.trunc()).ok())
                        .filter(|y| (1900..=9999).contains(y))
                }
                GivenTarget::Awards => {
                    if let Value::Text(t) = v {
                        row.awards = Some(
                            t.split(';')
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty())
                                .collect(),
                        );
                    }
                }
            }
        }
        // A given row replaces a data row of the same unit.
        rows.retain(|r| !(r.id == row.id && r.period == row.period));
        rows.push(row);
    }
    if !out.errors.is_empty() {
        return out;
    }
    let ev = match eval::evaluate(prog, rows) {
        Ok(ev) => ev,
        Err(es) => {
            out.errors = es;
            return out;
        }
    };
    out.warnings.extend(ev.warnings.iter().cloned());
    for x in &t.expects {
        cover(&ev, &x.expr, &mut out.coverage);
        let v = eval::eval_after(prog, &ev, &x.expr);
        if v != Value::Bool(true) {
            let (expected, actual) = describe(prog, &ev, &x.expr, v);
            out.failures.push(Failure {
                span: x.span,
                expected,
                actual,
            });
        }
    }
    out
}

fn show(prog: &Program, v: &Value) -> String {
    match v {
        Value::Missing => "missing".into(),
        Value::Num(d) => fmt_dec(*d),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::Text(t) => format!("\"{t}\""),
        Value::Level(i) => prog_level(prog, *i),
        Value::Status(s) => s.as_str().into(),
    }
}

fn prog_level(_prog: &Program, i: u32) -> String {
    format!("level {i}")
}

/// How the value an expectation reads is written (its display and type),
/// when it reads an indicator or a let: `15.2%`, `60 tỷ đồng`, a level's
/// name, as the plan writes them.
fn shape(prog: &Program, e: &IExpr) -> Option<(crate::value::Display, crate::value::Type)> {
    match e {
        IExpr::UnitAttr(_, UnitAttr::Expr(inner)) => shape(prog, inner),
        IExpr::Ind(slot) => prog
            .indicators
            .get(*slot)
            .map(|i| (i.display.clone(), i.ty.clone())),
        IExpr::Let(l) => prog.lets.get(*l).map(|d| (d.display.clone(), d.ty.clone())),
        _ => None,
    }
}

/// [`show`], in the display of `shape` when there is one.
fn show_as(
    prog: &Program,
    v: &Value,
    shape: Option<&(crate::value::Display, crate::value::Type)>,
) -> String {
    match (v, shape) {
        // Bools and text as in the test file (`true`, `"a b "`).
        (Value::Missing | Value::Bool(_) | Value::Text(_), _) | (_, None) => show(prog, v),
        (_, Some((display, ty))) => crate::report::value_text(prog, v, display, Some(ty)),
    }
}

fn unit_missing(ev: &eval::Evaluation, e: &IExpr) -> Option<String> {
    match e {
        IExpr::UnitAttr(u, _) | IExpr::Has(u, _) if ev.unit(u).is_none() => Some(u.clone()),
        _ => None,
    }
}

/// What was expected and what was found, in words.
fn describe(prog: &Program, ev: &eval::Evaluation, e: &IExpr, v: Value) -> (String, String) {
    let after = |x: &IExpr| eval::eval_after(prog, ev, x);
    // A rating by its id and label (LANGUAGE.md §6: outputs give both).
    let rating_name = |x: &Value, attr_rating: bool, shape| -> String {
        match (x, attr_rating) {
            (Value::Level(i), true) => prog
                .rating
                .as_ref()
                .and_then(|r| r.branches.get(*i as usize))
                .map(|b| match &b.label {
                    Some(l) if !l.is_empty() => format!("{} ({l})", b.id),
                    _ => b.id.clone(),
                })
                .unwrap_or_else(|| show(prog, x)),
            _ => show_as(prog, x, shape),
        }
    };
    match e {
        IExpr::StatusCmp(eq, x, s) => {
            if let Some(u) = unit_missing(ev, x) {
                return (
                    format!("unit `{u}` in the test's data"),
                    "no such unit".into(),
                );
            }
            let got = after(x);
            (
                format!("{}{}", if *eq { "" } else { "not " }, s.as_str()),
                show(prog, &got),
            )
        }
        IExpr::Not(inner) => match inner.as_ref() {
            IExpr::StatusCmp(eq, x, s) => {
                let got = after(x);
                (
                    format!("{}{}", if *eq { "not " } else { "" }, s.as_str()),
                    show(prog, &got),
                )
            }
            IExpr::Has(u, a) => {
                let id = prog
                    .awards
                    .get(*a)
                    .map(|x| x.id.clone())
                    .unwrap_or_default();
                (format!("`{u}` without `{id}`"), format!("`{u}` has `{id}`"))
            }
            _ => ("true".into(), show(prog, &v)),
        },
        IExpr::Cmp(op, l, r) => {
            if let Some(u) = unit_missing(ev, l) {
                return (
                    format!("unit `{u}` in the test's data"),
                    "no such unit".into(),
                );
            }
            let is_rating = matches!(l.as_ref(), IExpr::UnitAttr(_, UnitAttr::Rating));
            let rv = after(r);
            let lv = after(l);
            let shape = shape(prog, l).or_else(|| shape(prog, r));
            (
                format!(
                    "{} {}",
                    op.as_str(),
                    rating_name(&rv, is_rating, shape.as_ref())
                ),
                rating_name(&lv, is_rating, shape.as_ref()),
            )
        }
        IExpr::Has(u, a) => {
            let id = prog
                .awards
                .get(*a)
                .map(|x| x.id.clone())
                .unwrap_or_default();
            match ev.unit(u) {
                None => (
                    format!("unit `{u}` in the test's data"),
                    "no such unit".into(),
                ),
                Some((_, st)) => {
                    let got: Vec<&str> = prog
                        .awards
                        .iter()
                        .zip(st.awards.iter())
                        .filter(|(_, g)| **g)
                        .map(|(a, _)| a.id.as_str())
                        .collect();
                    (
                        format!("`{u}` has `{id}`"),
                        if got.is_empty() {
                            "no awards".into()
                        } else {
                            format!("awards: {}", got.join(", "))
                        },
                    )
                }
            }
        }
        _ => ("true".into(), show(prog, &v)),
    }
}
