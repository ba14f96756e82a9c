//! Evaluating checked expressions with three-valued logic.

use super::{Evaluation, UnitRow, UnitState};
use crate::ir::*;
use crate::syntax::ast::CmpOp;
use crate::value::{round_half_away, Status, Value};
use chrono::{Datelike, Months};
use rust_decimal::Decimal;
use std::cmp::Ordering;

static EMPTY_ROW: UnitRow = UnitRow {
    id: String::new(),
    name: None,
    bloc: None,
    kind: None,
    parent: None,
    period: None,
    awards: None,
    values: Vec::new(),
    origin: None,
};

/// What an expression is evaluated against: the campaign, everything
/// evaluated so far, and the period being evaluated.
pub struct Cx<'e> {
    pub prog: &'e Program,
    pub ev: &'e Evaluation,
    pub year: i32,
    pub shift: i32,
    /// The rows of the period, looked up once.
    rows: &'e [usize],
}

/// `x.cmp(y)`, without rescaling when both have the same scale (the
/// usual case: a cell and a goal written with the same decimals), where
/// the signed mantissas compare as the numbers do.
#[inline]
pub fn cmp_dec(x: &Decimal, y: &Decimal) -> Ordering {
    let (sx, sy) = (x.scale(), y.scale());
    let (mx, my) = (x.mantissa(), y.mantissa());
    if sx == sy {
        return mx.cmp(&my);
    }
    // Bring the one with fewer decimals to the other's scale, in i128
    // (a 96-bit mantissa times 10^28 can overflow: then rust_decimal).
    let (wide, d) = if sx < sy {
        (mx, sy - sx)
    } else {
        (my, sx - sy)
    };
    match POW10.get(d as usize).and_then(|p| wide.checked_mul(*p)) {
        Some(w) if sx < sy => w.cmp(&my),
        Some(w) => mx.cmp(&w),
        None => x.cmp(y),
    }
}

/// 10^0 … 10^28 (the scales a Decimal can have).
#[allow(
    clippy::indexing_slicing,
    reason = "0 < k < 29 in a constant block: computed, and checked, at compile time"
)]
const POW10: [i128; 29] = {
    let mut t = [1i128; 29];
    let mut k = 1;
    while k < 29 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

#[inline]
pub fn cmp_values(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => Some(cmp_dec(x, y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Level(x), Value::Level(y)) => Some(x.cmp(y)),
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Status(x), Value::Status(y)) => Some(x.rank().cmp(&y.rank())),
        _ => None,
    }
}

/// An operand: read in place where it is stored (an indicator's cell, a
/// constant, a let), or computed. Comparisons read their operands this way
/// so that the common `indicator >= constant` copies nothing.
pub enum Operand<'a> {
    Ref(&'a Value),
    Own(Value),
}

impl std::ops::Deref for Operand<'_> {
    type Target = Value;
    #[inline]
    fn deref(&self) -> &Value {
        match self {
            Operand::Ref(v) => v,
            Operand::Own(v) => v,
        }
    }
}

/// What an absent cell or let reads as, by reference.
pub(super) static MISSING: Value = Value::Missing;

impl<'e> Cx<'e> {
    pub fn new(prog: &'e Program, ev: &'e Evaluation, year: i32, shift: i32) -> Cx<'e> {
        let rows = ev
            .periods
            .get(&year)
            .map(|p| p.rows.as_slice())
            .unwrap_or_default();
        Cx {
            prog,
            ev,
            year,
            shift,
            rows,
        }
    }

    #[inline]
    pub fn row(&self, i: usize) -> &'e UnitRow {
        self.rows
            .get(i)
            .and_then(|&r| self.ev.rows.get(r))
            .unwrap_or(&EMPTY_ROW)
    }

    fn with_year(&self, year: i32) -> Cx<'e> {
        Cx::new(self.prog, self.ev, year, self.ev.current - year)
    }

    /// The state of unit `i` of this period, once it has been evaluated.
    fn state(&self, i: usize) -> Option<&'e UnitState> {
        self.ev.periods.get(&self.year)?.states.get(i)
    }

    /// [`Cx::eval`], without copying what is read in place.
    #[inline]
    pub fn operand<'a>(&self, e: &'a IExpr, i: usize, st: &'a UnitState) -> Operand<'a>
    where
        'e: 'a,
    {
        match e {
            IExpr::Const(v) => Operand::Ref(v),
            IExpr::Ind(slot) => Operand::Ref(self.row(i).values.get(*slot).unwrap_or(&MISSING)),
            IExpr::Let(l) => Operand::Ref(st.lets.get(*l).unwrap_or(&MISSING)),
            _ => Operand::Own(self.eval(e, i, st)),
        }
    }

    pub fn eval(&self, e: &IExpr, i: usize, st: &UnitState) -> Value {
        match e {
            IExpr::Const(v) => v.clone(),
            IExpr::DateLit(d) => Value::Date(super::shift_date(*d, self.shift)),
            IExpr::Ind(slot) => self.row(i).values.get(*slot).cloned().unwrap_or_default(),
            IExpr::Let(l) => st.lets.get(*l).cloned().unwrap_or_default(),
            IExpr::Field(Field::Awards) => match &self.row(i).awards {
                Some(a) => Value::Text(a.join(";").into()),
                None => Value::Missing,
            },
            IExpr::Field(f) => match self.row(i).field(*f) {
                Some(s) => Value::Text(s.into()),
                None => Value::Missing,
            },
            IExpr::Neg(x) => match self.eval(x, i, st) {
                Value::Num(n) => Value::Num(-n),
                _ => Value::Missing,
            },
            IExpr::Not(x) => match self.eval(x, i, st) {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Missing,
            },
            IExpr::And(a, b) => {
                let x = self.eval(a, i, st);
                if x == Value::Bool(false) {
                    return x;
                }
                let y = self.eval(b, i, st);
                match (x, y) {
                    (_, Value::Bool(false)) => Value::Bool(false),
                    (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
                    _ => Value::Missing,
                }
            }
            IExpr::Or(a, b) => {
                let x = self.eval(a, i, st);
                if x == Value::Bool(true) {
                    return x;
                }
                let y = self.eval(b, i, st);
                match (x, y) {
                    (_, Value::Bool(true)) => Value::Bool(true),
                    (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
                    _ => Value::Missing,
                }
            }
            IExpr::Arith(op, a, b) => {
                let (Some(x), Some(y)) =
                    (self.operand(a, i, st).num(), self.operand(b, i, st).num())
                else {
                    return Value::Missing;
                };
                let r = match op {
                    Arith::Add => x.checked_add(y),
                    Arith::Sub => x.checked_sub(y),
                    Arith::Mul => x.checked_mul(y),
                    Arith::Div => x.checked_div(y),
                };
                r.map(Value::Num).unwrap_or(Value::Missing)
            }
            IExpr::DateAdd {
                date,
                dur,
                months,
                sub,
            } => {
                let (Value::Date(d), Some(n)) =
                    (self.eval(date, i, st), self.operand(dur, i, st).num())
                else {
                    return Value::Missing;
                };
                let n = if *sub { -n } else { n };
                let Ok(k) = i64::try_from(n.trunc()) else {
                    return Value::Missing;
                };
                let r = if *months {
                    let m = Months::new(k.unsigned_abs().min(u32::MAX as u64) as u32);
                    if k >= 0 {
                        d.checked_add_months(m)
                    } else {
                        d.checked_sub_months(m)
                    }
                } else {
                    chrono::Duration::try_days(k).and_then(|dd| d.checked_add_signed(dd))
                };
                r.map(Value::Date).unwrap_or(Value::Missing)
            }
            IExpr::DateDiff(a, b) => match (self.eval(a, i, st), self.eval(b, i, st)) {
                (Value::Date(x), Value::Date(y)) => Value::Num(Decimal::from((x - y).num_days())),
                _ => Value::Missing,
            },
            IExpr::Cmp(op, a, b) => {
                let x = self.operand(a, i, st);
                let y = self.operand(b, i, st);
                if x.is_missing() || y.is_missing() {
                    return Value::Missing;
                }
                let Some(o) = cmp_values(&x, &y) else {
                    return Value::Missing;
                };
                Value::Bool(match op {
                    CmpOp::Ge => o != Ordering::Less,
                    CmpOp::Gt => o == Ordering::Greater,
                    CmpOp::Le => o != Ordering::Greater,
                    CmpOp::Lt => o == Ordering::Less,
                    CmpOp::Eq => o == Ordering::Equal,
                    CmpOp::Ne => o != Ordering::Equal,
                })
            }
            IExpr::StatusCmp(eq, x, s) => match self.eval(x, i, st) {
                Value::Status(v) => Value::Bool(v.matches(*s) == *eq),
                _ => Value::Missing,
            },
            IExpr::InRange(x, lo, hi) => {
                let (a, l, h) = (
                    self.eval(x, i, st),
                    self.eval(lo, i, st),
                    self.eval(hi, i, st),
                );
                if a.is_missing() || l.is_missing() || h.is_missing() {
                    return Value::Missing;
                }
                Value::Bool(
                    cmp_values(&a, &l) != Some(Ordering::Less)
                        && cmp_values(&a, &h) != Some(Ordering::Greater),
                )
            }
            IExpr::Coalesce(a, b) => {
                let x = self.eval(a, i, st);
                if x.is_missing() {
                    self.eval(b, i, st)
                } else {
                    x
                }
            }
            IExpr::Present(x) => Value::Bool(!self.eval(x, i, st).is_missing()),
            IExpr::If(c, a, b) => match self.eval(c, i, st) {
                Value::Bool(true) => self.eval(a, i, st),
                Value::Bool(false) => self.eval(b, i, st),
                _ => Value::Missing,
            },
            IExpr::Call(f, args) => self.call(*f, args, i, st),
            IExpr::Score => st.score.map(Value::Num).unwrap_or_default(),
            IExpr::Rank => st
                .rank
                .map(|r| Value::Num(Decimal::from(r)))
                .unwrap_or_default(),
            IExpr::AllMet { criteria } => {
                let ok = self.prog.criteria.iter().zip(st.criteria()).all(|(c, r)| {
                    let counts = if *criteria {
                        !matches!(c.kind, CritKind::Adjust(_))
                    } else {
                        matches!(c.kind, CritKind::Target(_))
                    };
                    !counts || r.status() == Status::NotApplicable || r.status().is_met()
                });
                Value::Bool(ok)
            }
            IExpr::CountStatus(s) => {
                let n = self
                    .prog
                    .criteria
                    .iter()
                    .zip(st.criteria())
                    .filter(|(c, r)| {
                        !matches!(c.kind, CritKind::Adjust(_))
                            && r.status() != Status::NotApplicable
                            && r.status().matches(*s)
                    })
                    .count();
                Value::Num(Decimal::from(n))
            }
            IExpr::StatusOf(c) => st
                .criterion(*c)
                .map(|r| Value::Status(r.status()))
                .unwrap_or_default(),
            IExpr::Awarded(a) => Value::Bool(st.awards.get(*a).copied().unwrap_or(false)),
            IExpr::RatingIs(_) => st
                .rating
                .map(|r| Value::Level(r as u32))
                .unwrap_or_default(),
            IExpr::Previous(x) => {
                let id = &self.row(i).id;
                let prev = self
                    .ev
                    .periods
                    .range(..self.year)
                    .rev()
                    .find_map(|(y, p)| p.unit_index(&self.ev.rows).get(id).map(|j| (*y, j)));
                match prev {
                    Some((y, j)) => self.other(y, j, x),
                    None => Value::Missing,
                }
            }
            IExpr::At(x, y) => {
                if *y == self.year {
                    return self.eval(x, i, st);
                }
                let id = &self.row(i).id;
                match self
                    .ev
                    .periods
                    .get(y)
                    .and_then(|p| p.unit_index(&self.ev.rows).get(id))
                {
                    Some(j) => self.other(*y, j, x),
                    None => Value::Missing,
                }
            }
            IExpr::Streak(c) => {
                if self.eval(c, i, st) != Value::Bool(true) {
                    return Value::Num(Decimal::ZERO);
                }
                let id = &self.row(i).id;
                let mut n = 1u32;
                let mut y = self.year - 1;
                while let Some(j) = self
                    .ev
                    .periods
                    .get(&y)
                    .and_then(|p| p.unit_index(&self.ev.rows).get(id))
                {
                    if self.other(y, j, c) != Value::Bool(true) {
                        break;
                    }
                    n += 1;
                    y -= 1;
                }
                Value::Num(Decimal::from(n))
            }
            IExpr::Agg {
                kind,
                descendants,
                cond,
                expr,
            } => self.aggregate(*kind, *descendants, cond.as_deref(), expr.as_deref(), i),
            IExpr::UnitAttr(unit, attr) => {
                let cur = self.with_year(self.ev.current);
                let Some(j) = self
                    .ev
                    .periods
                    .get(&self.ev.current)
                    .and_then(|p| p.unit_index(&self.ev.rows).get(unit))
                else {
                    return Value::Missing;
                };
                let Some(s) = cur.state(j) else {
                    return Value::Missing;
                };
                match attr {
                    UnitAttr::Status(c) => s
                        .criterion(*c)
                        .map(|r| Value::Status(r.status()))
                        .unwrap_or_default(),
                    UnitAttr::Score => s.score.map(Value::Num).unwrap_or_default(),
                    UnitAttr::Rank => s
                        .rank
                        .map(|r| Value::Num(Decimal::from(r)))
                        .unwrap_or_default(),
                    UnitAttr::Rating => {
                        s.rating.map(|r| Value::Level(r as u32)).unwrap_or_default()
                    }
                    UnitAttr::Expr(x) => cur.eval(x, j, s),
                }
            }
            IExpr::Has(unit, a) => {
                let Some(j) = self
                    .ev
                    .periods
                    .get(&self.ev.current)
                    .and_then(|p| p.unit_index(&self.ev.rows).get(unit))
                else {
                    return Value::Missing;
                };
                let s = self.with_year(self.ev.current).state(j);
                Value::Bool(s.and_then(|s| s.awards.get(*a).copied()).unwrap_or(false))
            }
        }
    }

    /// `x` for unit `j` of another period (already evaluated).
    fn other(&self, year: i32, j: usize, x: &IExpr) -> Value {
        let cx = self.with_year(year);
        match cx.state(j) {
            Some(s) if s.criteria().next().is_some() || self.prog.criteria.is_empty() => {
                cx.eval(x, j, s)
            }
            _ => {
                // Not evaluated (a later period): read its raw data only.
                let s = UnitState::default();
                cx.eval(x, j, &s)
            }
        }
    }

    /// Words for the parts of a condition a reader cannot see in the data:
    /// the member counts behind an aggregate, the periods a streak counted,
    /// the period `previous` read.
    pub fn details(&self, e: &IExpr, i: usize, st: &UnitState, out: &mut Vec<String>) {
        match e {
            IExpr::Agg {
                kind,
                descendants,
                cond,
                expr,
            } => {
                let Some(p) = self.ev.periods.get(&self.year) else {
                    return;
                };
                let mut units: Vec<usize> = p.members.get(i).cloned().unwrap_or_default();
                if *descendants {
                    let mut k = 0;
                    while k < units.len() && units.len() <= p.rows.len() {
                        let Some(&u) = units.get(k) else { break };
                        units.extend(p.members.get(u).into_iter().flatten().copied());
                        k += 1;
                    }
                }
                let empty = UnitState::default();
                let (mut yes, mut unknown) = (0usize, Vec::new());
                for &m in &units {
                    let s = p.states.get(m).unwrap_or(&empty);
                    match cond.as_deref().map(|c| self.eval(c, m, s)) {
                        None | Some(Value::Bool(true)) => yes += 1,
                        Some(Value::Bool(false)) => {}
                        Some(_) => unknown.push(self.row(m).id.clone()),
                    }
                }
                let who = if *descendants {
                    "descendants"
                } else {
                    "members"
                };
                let name = match kind {
                    AggKind::Count => "count",
                    AggKind::Share => "share",
                    AggKind::Sum => "sum",
                    AggKind::Avg => "avg",
                    AggKind::Min => "min",
                    AggKind::Max => "max",
                };
                let value = match self.eval(e, i, st) {
                    Value::Num(n) if *kind == AggKind::Share => format!(
                        "{}%",
                        crate::value::fmt_dec(round_half_away(n * Decimal::ONE_HUNDRED, 2))
                    ),
                    Value::Num(n) => crate::value::fmt_dec(n),
                    _ => "missing".into(),
                };
                let mut s = if cond.is_some() {
                    format!(
                        "{name}({who} where …): {yes} of {} {who} satisfy the condition → {value}",
                        units.len()
                    )
                } else {
                    format!("{name}({who}): {} {who} → {value}", units.len())
                };
                if units.is_empty() {
                    s.push_str(" (no members)");
                }
                if !unknown.is_empty() {
                    s.push_str(&format!(
                        "; the condition is missing for {}",
                        unknown.join(", ")
                    ));
                }
                out.push(s);
                if let Some(x) = expr {
                    self.details(x, i, st, out);
                }
            }
            IExpr::Streak(c) => {
                let id = &self.row(i).id;
                let mut years = Vec::new();
                if self.eval(c, i, st) == Value::Bool(true) {
                    years.push(self.year);
                    let mut y = self.year - 1;
                    while let Some(j) = self
                        .ev
                        .periods
                        .get(&y)
                        .and_then(|p| p.unit_index(&self.ev.rows).get(id))
                    {
                        if self.other(y, j, c) != Value::Bool(true) {
                            break;
                        }
                        years.push(y);
                        y -= 1;
                    }
                }
                years.reverse();
                let stop = years.first().copied().unwrap_or(self.year) - 1;
                let why = match self
                    .ev
                    .periods
                    .get(&stop)
                    .and_then(|p| p.unit_index(&self.ev.rows).get(id))
                {
                    _ if years.is_empty() => {
                        format!("the condition does not hold in {}", self.year)
                    }
                    None => format!("{stop} has no row for the unit"),
                    Some(_) => format!("the condition does not hold in {stop}"),
                };
                out.push(format!(
                    "streak: {} consecutive period(s) {} ({why})",
                    years.len(),
                    if years.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "[{}]",
                            years
                                .iter()
                                .map(|y| y.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ));
                self.details(c, i, st, out);
            }
            IExpr::Previous(x) => {
                let id = &self.row(i).id;
                match self
                    .ev
                    .periods
                    .range(..self.year)
                    .rev()
                    .find(|(_, p)| p.unit_index(&self.ev.rows).contains_key(id))
                {
                    Some((y, _)) => out.push(format!("previous(…) reads period {y}")),
                    None => out.push(
                        "previous(…) is missing: no earlier period has a row for the unit".into(),
                    ),
                }
                let _ = x;
            }
            IExpr::Not(a)
            | IExpr::Neg(a)
            | IExpr::Present(a)
            | IExpr::At(a, _)
            | IExpr::StatusCmp(_, a, _) => self.details(a, i, st, out),
            IExpr::And(a, b)
            | IExpr::Or(a, b)
            | IExpr::Arith(_, a, b)
            | IExpr::Cmp(_, a, b)
            | IExpr::Coalesce(a, b)
            | IExpr::DateDiff(a, b) => {
                self.details(a, i, st, out);
                self.details(b, i, st, out);
            }
            IExpr::If(a, b, c) | IExpr::InRange(a, b, c) => {
                self.details(a, i, st, out);
                self.details(b, i, st, out);
                self.details(c, i, st, out);
            }
            IExpr::Call(_, args) => args.iter().for_each(|a| self.details(a, i, st, out)),
            _ => {}
        }
    }

    fn aggregate(
        &self,
        kind: AggKind,
        descendants: bool,
        cond: Option<&IExpr>,
        x: Option<&IExpr>,
        i: usize,
    ) -> Value {
        let Some(p) = self.ev.periods.get(&self.year) else {
            return Value::Missing;
        };
        let mut units: Vec<usize> = p.members.get(i).cloned().unwrap_or_default();
        if descendants {
            let mut k = 0;
            while k < units.len() && units.len() <= p.rows.len() {
                let Some(&u) = units.get(k) else { break };
                units.extend(p.members.get(u).into_iter().flatten().copied());
                k += 1;
            }
        }
        let empty = UnitState::default();
        let mut selected = Vec::new();
        let mut unknown = false;
        for &m in &units {
            let s = p.states.get(m).unwrap_or(&empty);
            match cond {
                None => selected.push(m),
                Some(c) => match self.eval(c, m, s) {
                    Value::Bool(true) => selected.push(m),
                    Value::Bool(false) => {}
                    _ => unknown = true,
                },
            }
        }
        match kind {
            AggKind::Count => {
                if unknown {
                    return Value::Missing;
                }
                Value::Num(Decimal::from(selected.len()))
            }
            AggKind::Share => {
                if units.is_empty() || unknown {
                    return Value::Missing;
                }
                Value::Num(Decimal::from(selected.len()) / Decimal::from(units.len()))
            }
            _ => {
                let Some(x) = x else { return Value::Missing };
                let mut vals = Vec::new();
                for &m in &selected {
                    let s = p.states.get(m).unwrap_or(&empty);
                    match self.eval(x, m, s) {
                        Value::Num(n) => vals.push(n),
                        _ => return Value::Missing,
                    }
                }
                if unknown {
                    return Value::Missing;
                }
                match kind {
                    AggKind::Sum => vals
                        .iter()
                        .try_fold(Decimal::ZERO, |a, b| a.checked_add(*b))
                        .map(Value::Num)
                        .unwrap_or_default(),
                    AggKind::Avg => {
                        if vals.is_empty() {
                            return Value::Missing;
                        }
                        vals.iter()
                            .try_fold(Decimal::ZERO, |a, b| a.checked_add(*b))
                            .and_then(|s| s.checked_div(Decimal::from(vals.len())))
                            .map(Value::Num)
                            .unwrap_or_default()
                    }
                    AggKind::Min => vals
                        .iter()
                        .min()
                        .map(|v| Value::Num(*v))
                        .unwrap_or_default(),
                    _ => vals
                        .iter()
                        .max()
                        .map(|v| Value::Num(*v))
                        .unwrap_or_default(),
                }
            }
        }
    }

    fn call(&self, f: Builtin, args: &[IExpr], i: usize, st: &UnitState) -> Value {
        let vals: Vec<Value> = args.iter().map(|a| self.eval(a, i, st)).collect();
        if vals.iter().any(|v| v.is_missing()) {
            return Value::Missing;
        }
        let n0 = vals.first().and_then(|v| v.num());
        match f {
            Builtin::Min | Builtin::Max => {
                let mut best = vals.first().cloned().unwrap_or_default();
                for v in vals.iter().skip(1) {
                    let o = cmp_values(v, &best);
                    let better = if f == Builtin::Min {
                        o == Some(Ordering::Less)
                    } else {
                        o == Some(Ordering::Greater)
                    };
                    if better {
                        best = v.clone();
                    }
                }
                best
            }
            Builtin::Abs => n0.map(|n| Value::Num(n.abs())).unwrap_or_default(),
            Builtin::Floor => n0.map(|n| Value::Num(n.floor())).unwrap_or_default(),
            Builtin::Ceil => n0.map(|n| Value::Num(n.ceil())).unwrap_or_default(),
            Builtin::Round => {
                let places = vals
                    .get(1)
                    .and_then(|v| v.num())
                    .and_then(|p| u32::try_from(p.trunc()).ok())
                    .unwrap_or(0)
                    .min(28);
                n0.map(|n| Value::Num(round_half_away(n, places)))
                    .unwrap_or_default()
            }
            Builtin::Year | Builtin::Month | Builtin::Day => match vals.first() {
                Some(Value::Date(d)) => Value::Num(Decimal::from(match f {
                    Builtin::Year => d.year(),
                    Builtin::Month => d.month() as i32,
                    _ => d.day() as i32,
                })),
                _ => Value::Missing,
            },
            Builtin::DaysBetween => match (vals.first(), vals.get(1)) {
                (Some(Value::Date(a)), Some(Value::Date(b))) => {
                    Value::Num(Decimal::from((*b - *a).num_days()))
                }
                _ => Value::Missing,
            },
        }
    }
}
