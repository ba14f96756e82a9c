//! Typing expressions: names, units of measure, dates, three-valued logic.

use super::{Checker, RATING_SET};
use crate::diag::{codes, nearest, Span};
use crate::ir::*;
use crate::syntax::ast::{self, Arg, BinOp, CmpOp, ExprKind, Literal};
use crate::value::{Dim, Display, DurKind, Status, Type, Value};
use rust_decimal::Decimal;

/// Where an expression stands: what it may read.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Rating, award and rank conditions: `score`, `rank`, `status(…)` …
    pub post: bool,
    /// Awards that may be named in `awarded(…)`: those before this index.
    pub awards_before: Option<usize>,
    /// In a test's `expect`: `unit.X` names a unit's result.
    pub test: bool,
}

impl Scope {
    pub fn unit() -> Self {
        Scope {
            post: false,
            awards_before: Some(0),
            test: false,
        }
    }
    pub fn post(order: Option<usize>) -> Self {
        Scope {
            post: true,
            awards_before: Some(order.unwrap_or(0)),
            test: false,
        }
    }
    /// The REPL's expressions: read after the evaluation, for the current
    /// unit, with every award decided.
    pub fn session() -> Self {
        Scope {
            post: true,
            awards_before: None,
            test: false,
        }
    }
    pub fn test() -> Self {
        Scope {
            post: true,
            awards_before: None,
            test: true,
        }
    }
}

pub fn type_words(t: &Type, c: &Checker) -> String {
    match t {
        Type::Number => "a number".into(),
        Type::Percent => "a percent".into(),
        Type::Quantity(d) => format!("a quantity in `{}`", dim_words(d, c)),
        Type::Duration(DurKind::Days) => "a duration in days".into(),
        Type::Duration(DurKind::Months) => "a duration in months".into(),
        Type::Bool => "a condition (bool)".into(),
        Type::Date => "a date".into(),
        Type::Text => "text".into(),
        Type::Level(RATING_SET) => "a rating".into(),
        Type::Level(i) => format!(
            "a level of `{}`",
            c.levels.get(*i).map(|l| l.id.as_str()).unwrap_or("?")
        ),
        Type::Status => "a status".into(),
        Type::Error => "an invalid value".into(),
    }
}

fn base_name(c: &Checker, base: u32) -> String {
    c.units
        .iter()
        .find(|u| u.base == base && u.factor == Decimal::ONE)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| "?".into())
}

pub fn dim_words(d: &Dim, c: &Checker) -> String {
    match d.den {
        None => base_name(c, d.num),
        Some(den) => format!("{}/{}", base_name(c, d.num), base_name(c, den)),
    }
}

fn is_bare_number(e: &ast::Expr) -> Option<Decimal> {
    match &e.kind {
        ExprKind::Lit(Literal::Number(n, _)) => Some(*n),
        ExprKind::Neg(inner) => is_bare_number(inner).map(|n| -n),
        ExprKind::Paren(inner) => is_bare_number(inner),
        _ => None,
    }
}

type Typed = (IExpr, Type, Display);

fn err_typed() -> Typed {
    (IExpr::Const(Value::Missing), Type::Error, Display::plain())
}

impl<'a> Checker<'a> {
    /// Type one expression. `hint` is the type of the other side of a
    /// comparison, used to read level and rating names.
    pub(crate) fn expr(&mut self, e: &ast::Expr, scope: &Scope, hint: Option<&Type>) -> Typed {
        match &e.kind {
            ExprKind::Paren(inner) => self.expr(inner, scope, hint),
            ExprKind::Lit(l) => self.literal(l, e.span),
            ExprKind::Name(n) => self.name(n, scope, hint),
            ExprKind::Status(s) => (
                IExpr::Const(Value::Status(status_of(*s))),
                Type::Status,
                Display::plain(),
            ),
            ExprKind::Neg(inner) => {
                let (ie, t, d) = self.expr(inner, scope, None);
                match t {
                    Type::Number
                    | Type::Percent
                    | Type::Quantity(_)
                    | Type::Duration(_)
                    | Type::Error => (IExpr::Neg(Box::new(ie)), t, d),
                    other => {
                        self.err(
                            codes::TYPE_MISMATCH,
                            e.span,
                            format!("cannot negate {}", type_words(&other, self)),
                        );
                        err_typed()
                    }
                }
            }
            ExprKind::Not(inner) => {
                let ie = self.cond(inner, scope);
                (IExpr::Not(Box::new(ie)), Type::Bool, Display::plain())
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let ia = self.cond(a, scope);
                let ib = self.cond(b, scope);
                let ie = if matches!(e.kind, ExprKind::And(..)) {
                    IExpr::And(Box::new(ia), Box::new(ib))
                } else {
                    IExpr::Or(Box::new(ia), Box::new(ib))
                };
                (ie, Type::Bool, Display::plain())
            }
            ExprKind::Bin(op, a, b) => self.binary(*op, a, b, e.span, scope),
            ExprKind::Cmp(op, a, b) => match self.comparison(*op, a, b, e.span, scope) {
                Some((l, r, t, _)) => {
                    if t == Type::Status {
                        return self.status_cmp(*op, l, r, e.span);
                    }
                    (
                        IExpr::Cmp(*op, Box::new(l), Box::new(r)),
                        Type::Bool,
                        Display::plain(),
                    )
                }
                None => err_typed(),
            },
            ExprKind::Band(x, lo, hi) => match self.band(x, lo, hi, e.span, scope) {
                Some((x, lo, _hi, _, _)) => {
                    // As a plain condition, a band is met from its floor.
                    (
                        IExpr::Cmp(CmpOp::Ge, Box::new(x), Box::new(lo)),
                        Type::Bool,
                        Display::plain(),
                    )
                }
                None => err_typed(),
            },
            ExprKind::In(x, lo, hi) => match self.band(x, lo, hi, e.span, scope) {
                Some((x, lo, hi, _, _)) => (
                    IExpr::InRange(Box::new(x), Box::new(lo), Box::new(hi)),
                    Type::Bool,
                    Display::plain(),
                ),
                None => err_typed(),
            },
            ExprKind::Is(inner, negated, st) => {
                let (ie, t, _) = self.expr(inner, scope, None);
                if t != Type::Status && t != Type::Error {
                    self.err(
                        codes::TYPE_MISMATCH,
                        inner.span,
                        format!(
                            "`is` needs a criterion's status, found {}",
                            type_words(&t, self)
                        ),
                    )
                    .help = Some("write `unit.criterion is met`".into());
                }
                let cmp = IExpr::StatusCmp(true, Box::new(ie), status_of(*st));
                let out = if *negated {
                    IExpr::Not(Box::new(cmp))
                } else {
                    cmp
                };
                (out, Type::Bool, Display::plain())
            }
            ExprKind::Has(unit, award) => {
                let uname = match &unit.kind {
                    ExprKind::Name(n) if n.parts.len() == 1 && scope.test => n.dotted(),
                    _ => {
                        self.err(
                            codes::TYPE_MISMATCH,
                            unit.span,
                            "`has` reads a unit's awards in a test: `unit has award`",
                        );
                        return err_typed();
                    }
                };
                match self.award_index(&award.dotted(), award.span, None) {
                    Some(i) => (IExpr::Has(uname, i), Type::Bool, Display::plain()),
                    None => err_typed(),
                }
            }
            ExprKind::Coalesce(a, b) => {
                let (ia, ta, da) = self.expr(a, scope, hint);
                let (ib, tb, _) = self.expr(b, scope, Some(&ta));
                if !self.same_kind(&ta, &tb) {
                    let d = self.err(
                        codes::TYPE_MISMATCH,
                        e.span,
                        format!(
                            "`??` joins {} with {}",
                            type_words(&ta, self),
                            type_words(&tb, self)
                        ),
                    );
                    d.help = Some(
                        "the default after `??` must have the type of the value before it".into(),
                    );
                    return err_typed();
                }
                (IExpr::Coalesce(Box::new(ia), Box::new(ib)), ta, da)
            }
            ExprKind::If(c, a, b) => {
                let ic = self.cond(c, scope);
                let (ia, ta, da) = self.expr(a, scope, hint);
                let (ib, tb, _) = self.expr(b, scope, Some(&ta));
                if !self.same_kind(&ta, &tb) {
                    self.err(
                        codes::TYPE_MISMATCH,
                        e.span,
                        format!(
                            "the branches of `if` are {} and {}",
                            type_words(&ta, self),
                            type_words(&tb, self)
                        ),
                    );
                    return err_typed();
                }
                (IExpr::If(Box::new(ic), Box::new(ia), Box::new(ib)), ta, da)
            }
            ExprKind::AllMet { criteria } => {
                if !scope.post {
                    self.err(
                        codes::INVALID,
                        e.span,
                        "`all targets met` is read in ratings, awards and tests",
                    )
                    .help = Some("a criterion cannot depend on the other criteria".into());
                }
                (
                    IExpr::AllMet {
                        criteria: *criteria,
                    },
                    Type::Bool,
                    Display::plain(),
                )
            }
            ExprKind::At(inner, year, _) => {
                self.uses_history = true;
                let (ie, t, d) = self.expr(inner, scope, hint);
                (IExpr::At(Box::new(ie), *year), t, d)
            }
            ExprKind::Call(f, args) => self.call(f, args, e.span, scope),
        }
    }

    fn status_cmp(&mut self, op: CmpOp, l: IExpr, r: IExpr, span: Span) -> Typed {
        let (x, st) = match (&l, &r) {
            (_, IExpr::Const(Value::Status(s))) => (l.clone(), *s),
            (IExpr::Const(Value::Status(s)), _) => (r.clone(), *s),
            _ => {
                self.err(
                    codes::TYPE_MISMATCH,
                    span,
                    "compare a status with a status word: `status(t1) == met`",
                );
                return err_typed();
            }
        };
        match op {
            CmpOp::Eq => (
                IExpr::StatusCmp(true, Box::new(x), st),
                Type::Bool,
                Display::plain(),
            ),
            CmpOp::Ne => (
                IExpr::StatusCmp(false, Box::new(x), st),
                Type::Bool,
                Display::plain(),
            ),
            _ => {
                self.err(
                    codes::TYPE_MISMATCH,
                    span,
                    "statuses compare only with `==` and `!=`",
                );
                err_typed()
            }
        }
    }

    pub(crate) fn same_kind(&self, a: &Type, b: &Type) -> bool {
        match (a, b) {
            (Type::Error, _) | (_, Type::Error) => true,
            (Type::Number | Type::Percent, Type::Number | Type::Percent) => true,
            (Type::Level(x), Type::Level(y)) => x == y,
            (x, y) => x == y,
        }
    }

    fn literal(&mut self, l: &Literal, span: Span) -> Typed {
        match l {
            Literal::Number(n, text) => {
                self.thousands(text, span);
                (IExpr::Const(Value::Num(*n)), Type::Number, Display::plain())
            }
            Literal::Percent(n, _) => (
                IExpr::Const(Value::Num(*n)),
                Type::Percent,
                Display::percent(),
            ),
            Literal::Quantity(q) => {
                self.thousands(&q.text, span);
                match self.resolve_unit(&q.scale, &q.unit) {
                    Some((t, d)) => match crate::value::mul_exact(q.value, d.factor) {
                        Some(v) => (IExpr::Const(Value::Num(v)), t, d),
                        None => {
                            self.err(
                                codes::OVERFLOW,
                                span,
                                "this quantity is too large or too precise",
                            );
                            err_typed()
                        }
                    },
                    None => err_typed(),
                }
            }
            Literal::Date(d) => match self.date(d) {
                Some(x) => (IExpr::DateLit(x), Type::Date, Display::plain()),
                None => err_typed(),
            },
            Literal::String(s) => (
                IExpr::Const(Value::Text(s.as_str().into())),
                Type::Text,
                Display::plain(),
            ),
            Literal::Bool(b) => (IExpr::Const(Value::Bool(*b)), Type::Bool, Display::plain()),
        }
    }

    /// `16.068 tỷ đồng`: a Vietnamese thousands dot read as a decimal point.
    fn thousands(&mut self, text: &str, span: Span) {
        if let Some((int, frac)) = text.split_once('.') {
            if frac.len() == 3
                && !int.is_empty()
                && int.len() <= 3
                && !frac.contains('_')
                && !int.contains('_')
                && int != "0"
            {
                let fixed = format!("{int}_{frac}");
                self.warn(codes::AMBIGUOUS_THOUSANDS, span, format!("`{text}` reads as {int} point {frac}"))
                    .help = Some(format!("Vietnamese writes `.` between thousands: if you mean {int} thousand {frac}, write `{fixed}`; otherwise write `{text}0`"));
            }
        }
    }

    fn unknown(&mut self, name: &str, span: Span, scope: &Scope) {
        // Its declaration was refused, and said so.
        if self.refused_names.contains(name) {
            return;
        }
        let mut cands: Vec<String> = Vec::new();
        cands.extend(self.indicators.iter().map(|i| i.id.clone()));
        cands.extend(self.lets_names());
        cands.extend(
            ["id", "name", "bloc", "kind", "parent"]
                .iter()
                .map(|s| s.to_string()),
        );
        if scope.post {
            cands.extend(["score", "rank", "rating"].iter().map(|s| s.to_string()));
            cands.extend(self.rating_branches.iter().cloned());
            cands.extend(self.criteria_names.keys().cloned());
        }
        cands.extend(
            [
                "exceeded",
                "met",
                "not_met",
                "late",
                "missing",
                "not_applicable",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        for l in &self.levels {
            cands.extend(l.levels.iter().map(|x| x.id.clone()));
        }
        cands.sort();
        cands.dedup();
        let what = if scope.test {
            "criterion or name"
        } else {
            "name"
        };
        let criterion = self.criteria_names.contains_key(name);
        let d = self.err(
            codes::UNKNOWN_NAME,
            span,
            format!("unknown {what} `{name}`"),
        );
        let result = ["score", "rank", "rating"].contains(&name);
        d.help = Some(match nearest(name, cands.iter().map(|s| s.as_str())) {
            // A criterion's id alone: its status is read with `status(…)`.
            _ if criterion && scope.post => format!(
                "`{name}` is a criterion: read its status as `status({name})`, e.g. `status({name}) == met`"
            ),
            _ if criterion => format!(
                "`{name}` is a criterion: its status is read as `status({name})`, in ratings, awards and tests"
            ),
            // A unit's result, outside the conditions that read it.
            _ if result && !scope.post => format!(
                "`{name}` is the unit's result: it is read in ratings, awards and tests, after the criteria, not in a target or a `let`"
            ),
            Some(n) => format!("did you mean `{n}`?"),
            None if scope.test => "a test reads `unit.criterion`, `unit.score`, `unit.rank`, `unit.rating` or `unit.indicator`".into(),
            None => format!("declare it: `indicator {name} \"…\" : number`"),
        });
    }

    fn lets_names(&self) -> Vec<String> {
        self.let_slots_names()
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "each argument index follows the arity check of its function"
    )]
    fn name(&mut self, n: &ast::Name, scope: &Scope, hint: Option<&Type>) -> Typed {
        let dotted = n.dotted();
        if n.parts.len() >= 2 && scope.test {
            let unit = n.parts[0].name.clone();
            let rest: Vec<ast::Ident> = n.parts[1..].to_vec();
            let rest_name = ast::Name {
                parts: rest.clone(),
                span: n.span,
            };
            let attr_name = rest_name.dotted();
            if rest.len() == 1 {
                if let Some(&ci) = self.criteria_names.get(&attr_name) {
                    return (
                        IExpr::UnitAttr(unit, UnitAttr::Status(ci)),
                        Type::Status,
                        Display::plain(),
                    );
                }
                match attr_name.as_str() {
                    "score" => {
                        return (
                            IExpr::UnitAttr(unit, UnitAttr::Score),
                            Type::Number,
                            Display::plain(),
                        )
                    }
                    "rank" => {
                        return (
                            IExpr::UnitAttr(unit, UnitAttr::Rank),
                            Type::Number,
                            Display::plain(),
                        )
                    }
                    "rating" => {
                        return (
                            IExpr::UnitAttr(unit, UnitAttr::Rating),
                            Type::Level(RATING_SET),
                            Display::plain(),
                        )
                    }
                    _ => {}
                }
            }
            let inner = Scope {
                test: false,
                ..scope.clone()
            };
            let (ie, t, d) = self.name(&rest_name, &inner, hint);
            return (IExpr::UnitAttr(unit, UnitAttr::Expr(Box::new(ie))), t, d);
        }
        if n.parts.len() == 1 {
            let name = dotted.as_str();
            if let Some(slot) = self.indicator(name) {
                let ind = &self.indicators[slot];
                return (IExpr::Ind(slot), ind.ty.clone(), ind.display.clone());
            }
            if let Some((idx, t, d)) = self.let_type(name, n.span) {
                return (IExpr::Let(idx), t, d);
            }
            if let Some(f) = Field::readable(name) {
                return (IExpr::Field(f), Type::Text, Display::plain());
            }
            if scope.post {
                match name {
                    "score" => return (IExpr::Score, Type::Number, Display::plain()),
                    "rank" => return (IExpr::Rank, Type::Number, Display::plain()),
                    "rating" if !self.rating_branches.is_empty() => {
                        return (
                            IExpr::RatingIs(usize::MAX),
                            Type::Level(RATING_SET),
                            Display::plain(),
                        )
                    }
                    _ => {}
                }
            }
            let want_rating = matches!(hint, Some(Type::Level(RATING_SET)));
            if want_rating {
                if let Some(i) = self.rating_branches.iter().position(|b| b == name) {
                    return (
                        IExpr::Const(Value::Level(i as u32)),
                        Type::Level(RATING_SET),
                        Display::plain(),
                    );
                }
            }
            let set = match hint {
                Some(Type::Level(s)) => Some(*s),
                _ => None,
            };
            if let Some((s, i)) = self.level_value(name, set) {
                return (
                    IExpr::Const(Value::Level(i)),
                    Type::Level(s),
                    Display::plain(),
                );
            }
            if let Some(i) = self.rating_branches.iter().position(|b| b == name) {
                return (
                    IExpr::Const(Value::Level(i as u32)),
                    Type::Level(RATING_SET),
                    Display::plain(),
                );
            }
            self.unknown(name, n.span, scope);
            return err_typed();
        }
        // `checklist.item`
        if let Some(slot) = self.indicator(&dotted) {
            let ind = &self.indicators[slot];
            return (IExpr::Ind(slot), ind.ty.clone(), ind.display.clone());
        }
        if n.parts.len() == 2 {
            if let Some(slot) = self.library_item(&n.parts[0].name, &n.parts[1].name) {
                return (IExpr::Ind(slot), Type::Bool, Display::plain());
            }
        }
        self.unknown(&dotted, n.span, scope);
        err_typed()
    }

    fn binary(
        &mut self,
        op: BinOp,
        a: &ast::Expr,
        b: &ast::Expr,
        span: Span,
        scope: &Scope,
    ) -> Typed {
        let (ia, ta, da) = self.expr(a, scope, None);
        let (ib, tb, db) = self.expr(b, scope, None);
        if ta == Type::Error || tb == Type::Error {
            return err_typed();
        }
        let arith = |o: Arith, x: IExpr, y: IExpr| IExpr::Arith(o, Box::new(x), Box::new(y));
        let bad = |c: &mut Checker, help: Option<String>| {
            let sym = match op {
                BinOp::Add => "+",
                BinOp::Sub => "-",
                BinOp::Mul => "*",
                BinOp::Div => "/",
            };
            let msg = format!(
                "cannot compute {} {sym} {}",
                type_words(&ta, c),
                type_words(&tb, c)
            );
            let code = match (&ta, &tb) {
                (Type::Quantity(_), Type::Quantity(_))
                | (Type::Quantity(_), Type::Number)
                | (Type::Number, Type::Quantity(_)) => codes::UNIT_MISMATCH,
                (Type::Duration(_), Type::Duration(_)) => codes::UNIT_MISMATCH,
                _ => codes::TYPE_MISMATCH,
            };
            let d = c.err(code, span, msg);
            d.help = help;
            err_typed()
        };
        match op {
            BinOp::Add | BinOp::Sub => {
                let o = if op == BinOp::Add {
                    Arith::Add
                } else {
                    Arith::Sub
                };
                match (&ta, &tb) {
                    (Type::Number | Type::Percent, Type::Number | Type::Percent) => {
                        let t = if ta == Type::Percent || tb == Type::Percent {
                            Type::Percent
                        } else {
                            Type::Number
                        };
                        let d = if t == Type::Percent {
                            Display::percent()
                        } else {
                            Display::plain()
                        };
                        (arith(o, ia, ib), t, d)
                    }
                    (Type::Quantity(x), Type::Quantity(y)) if x == y => {
                        (arith(o, ia, ib), ta.clone(), da)
                    }
                    (Type::Duration(x), Type::Duration(y)) if x == y => {
                        (arith(o, ia, ib), ta.clone(), da)
                    }
                    (Type::Date, Type::Duration(k)) => (
                        IExpr::DateAdd {
                            date: Box::new(ia),
                            dur: Box::new(ib),
                            months: *k == DurKind::Months,
                            sub: op == BinOp::Sub,
                        },
                        Type::Date,
                        Display::plain(),
                    ),
                    (Type::Duration(k), Type::Date) if op == BinOp::Add => (
                        IExpr::DateAdd {
                            date: Box::new(ib),
                            dur: Box::new(ia),
                            months: *k == DurKind::Months,
                            sub: false,
                        },
                        Type::Date,
                        Display::plain(),
                    ),
                    (Type::Date, Type::Date) if op == BinOp::Sub => (
                        IExpr::DateDiff(Box::new(ia), Box::new(ib)),
                        Type::Duration(DurKind::Days),
                        Display {
                            factor: Decimal::ONE,
                            text: Some("days".into()),
                        },
                    ),
                    (Type::Quantity(_), Type::Number) => {
                        let unit = da.text.clone().unwrap_or_default();
                        let help = is_bare_number(b)
                            .map(|n| format!("write `{} {unit}`", crate::value::fmt_dec(n)));
                        bad(self, help)
                    }
                    (Type::Number, Type::Quantity(_)) => {
                        let unit = db.text.clone().unwrap_or_default();
                        let help = is_bare_number(a)
                            .map(|n| format!("write `{} {unit}`", crate::value::fmt_dec(n)));
                        bad(self, help)
                    }
                    _ => bad(self, None),
                }
            }
            BinOp::Mul => match (&ta, &tb) {
                (Type::Number | Type::Percent, Type::Number | Type::Percent) => {
                    // A percent times a number stays a percent (`14.5% * 2`).
                    let t = if ta == Type::Percent || tb == Type::Percent {
                        Type::Percent
                    } else {
                        Type::Number
                    };
                    let d = if t == Type::Percent {
                        Display::percent()
                    } else {
                        Display::plain()
                    };
                    (arith(Arith::Mul, ia, ib), t, d)
                }
                (Type::Number | Type::Percent, Type::Quantity(_) | Type::Duration(_)) => {
                    (arith(Arith::Mul, ia, ib), tb.clone(), db)
                }
                (Type::Quantity(_) | Type::Duration(_), Type::Number | Type::Percent) => {
                    (arith(Arith::Mul, ia, ib), ta.clone(), da)
                }
                _ => bad(
                    self,
                    Some("multiply a quantity only by a number or a percent".into()),
                ),
            },
            BinOp::Div => match (&ta, &tb) {
                (Type::Percent, Type::Number) => {
                    (arith(Arith::Div, ia, ib), Type::Percent, Display::percent())
                }
                (Type::Number | Type::Percent, Type::Number | Type::Percent) => {
                    (arith(Arith::Div, ia, ib), Type::Number, Display::plain())
                }
                (Type::Quantity(_) | Type::Duration(_), Type::Number | Type::Percent) => {
                    (arith(Arith::Div, ia, ib), ta.clone(), da)
                }
                (Type::Quantity(x), Type::Quantity(y)) if x == y => {
                    (arith(Arith::Div, ia, ib), Type::Number, Display::plain())
                }
                (Type::Duration(x), Type::Duration(y)) if x == y => {
                    (arith(Arith::Div, ia, ib), Type::Number, Display::plain())
                }
                (Type::Quantity(x), Type::Quantity(y)) if x.den.is_none() && y.den.is_none() => {
                    let dim = Dim {
                        num: x.num,
                        den: Some(y.num),
                    };
                    let text = format!(
                        "{}/{}",
                        dim_words(
                            &Dim {
                                num: x.num,
                                den: None
                            },
                            self
                        ),
                        dim_words(
                            &Dim {
                                num: y.num,
                                den: None
                            },
                            self
                        )
                    );
                    (
                        arith(Arith::Div, ia, ib),
                        Type::Quantity(dim),
                        Display {
                            factor: Decimal::ONE,
                            text: Some(text),
                        },
                    )
                }
                _ => bad(self, None),
            },
        }
    }

    /// Check `l OP r`: both sides typed alike. Returns the typed sides.
    pub(crate) fn comparison(
        &mut self,
        op: CmpOp,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
        scope: &Scope,
    ) -> Option<(IExpr, IExpr, Type, Display)> {
        let (il, tl, dl) = self.expr(l, scope, None);
        let (ir, tr, _) = self.expr(r, scope, Some(&tl));
        // A level name on the left with the indicator on the right.
        let (il, tl) = if matches!(tr, Type::Level(_)) && tl == Type::Error {
            let (x, t, _) = self.expr(l, scope, Some(&tr));
            (x, t)
        } else {
            (il, tl)
        };
        if tl == Type::Error || tr == Type::Error {
            return None;
        }
        self.compatible(&tl, &tr, l, r, span)?;
        if matches!(tl, Type::Bool | Type::Text) && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
            self.err(
                codes::TYPE_MISMATCH,
                span,
                format!("{} compares only with `==` and `!=`", type_words(&tl, self)),
            );
            return None;
        }
        Some((il, ir, tl, dl))
    }

    fn compatible(
        &mut self,
        tl: &Type,
        tr: &Type,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
    ) -> Option<()> {
        match (tl, tr) {
            (Type::Percent, Type::Number) | (Type::Number, Type::Percent) => {
                let (bare, pct_side) = if *tl == Type::Percent { (r, l) } else { (l, r) };
                let _ = pct_side;
                if let Some(n) = is_bare_number(bare) {
                    if n.abs() > Decimal::ONE {
                        self.warn(
                            codes::PERCENT_BARE_NUMBER,
                            bare.span,
                            format!(
                                "a percent compared with the bare number {}",
                                crate::value::fmt_dec(n)
                            ),
                        )
                        .help = Some(format!("did you mean {}%?", crate::value::fmt_dec(n)));
                    }
                }
                Some(())
            }
            (Type::Quantity(a), Type::Quantity(b)) if a != b => {
                self.err(
                    codes::UNIT_MISMATCH,
                    span,
                    format!(
                        "cannot compare {} with {}",
                        type_words(tl, self),
                        type_words(tr, self)
                    ),
                )
                .help = Some("these units measure different things and never convert".into());
                None
            }
            (Type::Quantity(_), Type::Number) | (Type::Number, Type::Quantity(_)) => {
                let (bare, q) = if matches!(tl, Type::Number) {
                    (l, tr)
                } else {
                    (r, tl)
                };
                let unit = if let Type::Quantity(d) = q {
                    dim_words(d, self)
                } else {
                    String::new()
                };
                let shown = self
                    .display_text_of(if matches!(tl, Type::Number) { r } else { l })
                    .unwrap_or(unit.clone());
                let d = self.err(
                    codes::UNIT_MISMATCH,
                    bare.span,
                    format!("a quantity in `{unit}` compared with a bare number"),
                );
                d.help = Some(match is_bare_number(bare) {
                    Some(n) => format!("write `{} {shown}`", crate::value::fmt_dec(n)),
                    None => format!("give the number its unit, e.g. `… {shown}`"),
                });
                None
            }
            (Type::Duration(a), Type::Duration(b)) if a != b => {
                self.err(
                    codes::UNIT_MISMATCH,
                    span,
                    "durations in days or weeks do not compare with durations in months or years",
                )
                .help = Some("write both in days, or both in months".into());
                None
            }
            _ if self.same_kind(tl, tr) => Some(()),
            _ => {
                self.err(
                    codes::TYPE_MISMATCH,
                    span,
                    format!(
                        "cannot compare {} with {}",
                        type_words(tl, self),
                        type_words(tr, self)
                    ),
                );
                None
            }
        }
    }

    /// The written unit of an indicator or a quantity, for help lines.
    fn display_text_of(&mut self, e: &ast::Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Name(n) => {
                let slot = self.indicator_names_get(&n.dotted())?;
                self.indicators.get(slot)?.display.text.clone()
            }
            _ => None,
        }
    }

    /// `x >= lo .. hi` or `x in lo .. hi`: a bare `lo` takes `hi`'s unit.
    pub(crate) fn band(
        &mut self,
        x: &ast::Expr,
        lo: &ast::Expr,
        hi: &ast::Expr,
        span: Span,
        scope: &Scope,
    ) -> Option<(IExpr, IExpr, IExpr, Type, Display)> {
        let (ix, tx, dx) = self.expr(x, scope, None);
        let (ihi, thi, dhi) = self.expr(hi, scope, Some(&tx));
        let (ilo, tlo) = match (is_bare_number(lo), &thi) {
            (Some(n), Type::Quantity(_) | Type::Percent | Type::Duration(_)) => {
                let v = n.checked_mul(dhi.factor)?;
                (IExpr::Const(Value::Num(v)), thi.clone())
            }
            _ => {
                let (i, t, _) = self.expr(lo, scope, Some(&tx));
                (i, t)
            }
        };
        if tx == Type::Error || tlo == Type::Error || thi == Type::Error {
            return None;
        }
        self.compatible(&tx, &tlo, x, lo, span)?;
        self.compatible(&tx, &thi, x, hi, span)?;
        if matches!(tx, Type::Bool | Type::Text | Type::Status) {
            self.err(
                codes::TYPE_MISMATCH,
                span,
                format!(
                    "a range needs ordered values, found {}",
                    type_words(&tx, self)
                ),
            );
            return None;
        }
        // Both ends written as constants, the first above the second: a
        // band would call a unit between them exceeded but not met, an
        // interval would hold nothing.
        let backwards = match (&ilo, &ihi) {
            (IExpr::Const(Value::Num(a)), IExpr::Const(Value::Num(b))) => a > b,
            (IExpr::DateLit(a), IExpr::DateLit(b)) => a > b,
            _ => false,
        };
        if backwards {
            let d = self.warn(
                codes::BACKWARDS_RANGE,
                Span::new(lo.span.file, lo.span.start, hi.span.end),
                "this range runs backwards: its first end is above its second",
            );
            d.help = Some("write the lower end first, as in `138 .. 140`".into());
        }
        Some((ix, ilo, ihi, tx, dx))
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "each argument index follows the arity check of its function"
    )]
    fn call(&mut self, f: &ast::Ident, args: &[Arg], span: Span, scope: &Scope) -> Typed {
        let name = f.name.as_str();
        let members = args.iter().find_map(|a| match a {
            Arg::Members {
                descendants,
                cond,
                span,
            } => Some((*descendants, cond.clone(), *span)),
            _ => None,
        });
        let exprs: Vec<&ast::Expr> = args
            .iter()
            .filter_map(|a| if let Arg::Expr(e) = a { Some(e) } else { None })
            .collect();
        let arity = |c: &mut Checker, n: usize| -> bool {
            if exprs.len() != n || members.is_some() {
                c.err(
                    codes::TYPE_MISMATCH,
                    span,
                    format!(
                        "`{name}` takes {n} argument{}",
                        if n == 1 { "" } else { "s" }
                    ),
                );
                false
            } else {
                true
            }
        };
        // Aggregates over members.
        if let Some((descendants, cond, _mspan)) = members.clone() {
            self.uses_history = true;
            let kind = match name {
                "count" => AggKind::Count,
                "share" => AggKind::Share,
                "sum" => AggKind::Sum,
                "avg" => AggKind::Avg,
                "min" => AggKind::Min,
                "max" => AggKind::Max,
                _ => {
                    self.err(
                        codes::UNKNOWN_NAME,
                        f.span,
                        format!("`{name}` does not take `members`"),
                    )
                    .help = Some("the aggregates are count, share, sum, avg, min and max".into());
                    return err_typed();
                }
            };
            let inner_scope = scope.clone();
            let cond = cond.map(|c| Box::new(self.cond(&c, &inner_scope)));
            let needs_value = matches!(
                kind,
                AggKind::Sum | AggKind::Avg | AggKind::Min | AggKind::Max
            );
            if matches!(kind, AggKind::Share) && cond.is_none() {
                self.err(
                    codes::INVALID,
                    span,
                    "`share(members …)` needs `where` and a condition",
                );
                return err_typed();
            }
            if needs_value {
                if exprs.len() != 1 {
                    self.err(
                        codes::TYPE_MISMATCH,
                        span,
                        format!("`{name}(members, x)` takes the value to aggregate"),
                    );
                    return err_typed();
                }
                let (ie, t, d) = self.expr(exprs[0], scope, None);
                if !matches!(
                    t,
                    Type::Number
                        | Type::Percent
                        | Type::Quantity(_)
                        | Type::Duration(_)
                        | Type::Error
                ) {
                    self.err(
                        codes::TYPE_MISMATCH,
                        exprs[0].span,
                        format!("cannot aggregate {}", type_words(&t, self)),
                    );
                }
                return (
                    IExpr::Agg {
                        kind,
                        descendants,
                        cond,
                        expr: Some(Box::new(ie)),
                    },
                    t,
                    d,
                );
            }
            let (t, d) = if kind == AggKind::Share {
                (Type::Percent, Display::percent())
            } else {
                (Type::Number, Display::plain())
            };
            return (
                IExpr::Agg {
                    kind,
                    descendants,
                    cond,
                    expr: None,
                },
                t,
                d,
            );
        }
        match name {
            "count" if exprs.len() == 1 => {
                if let ExprKind::Status(s) = &exprs[0].kind {
                    if !scope.post {
                        self.err(
                            codes::INVALID,
                            span,
                            "`count(…)` of statuses is read in ratings, awards and tests",
                        );
                    }
                    return (
                        IExpr::CountStatus(status_of(*s)),
                        Type::Number,
                        Display::plain(),
                    );
                }
                self.err(
                    codes::TYPE_MISMATCH,
                    span,
                    "`count` takes `not_met`, `missing`, or `members where …`",
                );
                err_typed()
            }
            "status" => {
                if !arity(self, 1) {
                    return err_typed();
                }
                let id = match &exprs[0].kind {
                    ExprKind::Name(n) if n.parts.len() == 1 => n.dotted(),
                    _ => {
                        self.err(
                            codes::TYPE_MISMATCH,
                            exprs[0].span,
                            "`status` takes a criterion id",
                        );
                        return err_typed();
                    }
                };
                if !scope.post {
                    self.err(
                        codes::INVALID,
                        span,
                        "`status(…)` is read in ratings, awards and tests",
                    );
                }
                match self.criteria_names.get(&id) {
                    Some(&i) => (IExpr::StatusOf(i), Type::Status, Display::plain()),
                    None => {
                        let cands: Vec<String> = self.criteria_names.keys().cloned().collect();
                        let d = self.err(
                            codes::UNKNOWN_NAME,
                            exprs[0].span,
                            format!("unknown criterion `{id}`"),
                        );
                        if let Some(n) = nearest(&id, cands.iter().map(|s| s.as_str())) {
                            d.help = Some(format!("did you mean `{n}`?"));
                        }
                        err_typed()
                    }
                }
            }
            "awarded" => {
                if !arity(self, 1) {
                    return err_typed();
                }
                let id = match &exprs[0].kind {
                    ExprKind::Name(n) if n.parts.len() == 1 => n.dotted(),
                    _ => {
                        self.err(
                            codes::TYPE_MISMATCH,
                            exprs[0].span,
                            "`awarded` takes an award id",
                        );
                        return err_typed();
                    }
                };
                match self.award_index(&id, exprs[0].span, scope.awards_before) {
                    Some(i) => (IExpr::Awarded(i), Type::Bool, Display::plain()),
                    None => err_typed(),
                }
            }
            "present" => {
                if !arity(self, 1) {
                    return err_typed();
                }
                let (ie, _, _) = self.expr(exprs[0], scope, None);
                (IExpr::Present(Box::new(ie)), Type::Bool, Display::plain())
            }
            "previous" => {
                if !arity(self, 1) {
                    return err_typed();
                }
                self.uses_history = true;
                let (ie, t, d) = self.expr(exprs[0], scope, None);
                (IExpr::Previous(Box::new(ie)), t, d)
            }
            "streak" => {
                if !arity(self, 1) {
                    return err_typed();
                }
                self.uses_history = true;
                let ie = self.cond(exprs[0], scope);
                (IExpr::Streak(Box::new(ie)), Type::Number, Display::plain())
            }
            "abs" | "floor" | "ceil" => {
                if !arity(self, 1) {
                    return err_typed();
                }
                let (ie, t, d) = self.expr(exprs[0], scope, None);
                if !matches!(
                    t,
                    Type::Number
                        | Type::Percent
                        | Type::Quantity(_)
                        | Type::Duration(_)
                        | Type::Error
                ) {
                    self.err(
                        codes::TYPE_MISMATCH,
                        exprs[0].span,
                        format!("`{name}` needs a number, found {}", type_words(&t, self)),
                    );
                    return err_typed();
                }
                let b = match name {
                    "abs" => Builtin::Abs,
                    "floor" => Builtin::Floor,
                    _ => Builtin::Ceil,
                };
                (IExpr::Call(b, vec![ie]), t, d)
            }
            "round" => {
                if exprs.len() != 2 && exprs.len() != 1 {
                    self.err(
                        codes::TYPE_MISMATCH,
                        span,
                        "`round(x, places)` takes a value and a number of places",
                    );
                    return err_typed();
                }
                let (ie, t, d) = self.expr(exprs[0], scope, None);
                let places = match exprs.get(1) {
                    None => IExpr::Const(Value::Num(Decimal::ZERO)),
                    Some(p) => {
                        let (ip, tp, _) = self.expr(p, scope, None);
                        if tp != Type::Number && tp != Type::Error {
                            self.err(
                                codes::TYPE_MISMATCH,
                                p.span,
                                "the number of places is a number",
                            );
                        }
                        ip
                    }
                };
                (IExpr::Call(Builtin::Round, vec![ie, places]), t, d)
            }
            "min" | "max" => {
                if exprs.is_empty() {
                    self.err(
                        codes::TYPE_MISMATCH,
                        span,
                        format!("`{name}` takes at least one value"),
                    );
                    return err_typed();
                }
                let (first, t0, d0) = self.expr(exprs[0], scope, None);
                let mut out = vec![first];
                for e in &exprs[1..] {
                    let (ie, t, _) = self.expr(e, scope, Some(&t0));
                    if !self.same_kind(&t0, &t) {
                        self.err(
                            codes::TYPE_MISMATCH,
                            e.span,
                            format!(
                                "`{name}` of {} and {}",
                                type_words(&t0, self),
                                type_words(&t, self)
                            ),
                        );
                    }
                    out.push(ie);
                }
                let b = if name == "min" {
                    Builtin::Min
                } else {
                    Builtin::Max
                };
                (IExpr::Call(b, out), t0, d0)
            }
            "year" | "month" | "day" => {
                if !arity(self, 1) {
                    return err_typed();
                }
                let (ie, t, _) = self.expr(exprs[0], scope, None);
                if t != Type::Date && t != Type::Error {
                    self.err(
                        codes::TYPE_MISMATCH,
                        exprs[0].span,
                        format!("`{name}` needs a date, found {}", type_words(&t, self)),
                    );
                }
                let b = match name {
                    "year" => Builtin::Year,
                    "month" => Builtin::Month,
                    _ => Builtin::Day,
                };
                (IExpr::Call(b, vec![ie]), Type::Number, Display::plain())
            }
            "days_between" => {
                if !arity(self, 2) {
                    return err_typed();
                }
                let (a, ta, _) = self.expr(exprs[0], scope, None);
                let (b, tb, _) = self.expr(exprs[1], scope, None);
                for (t, e) in [(ta, exprs[0]), (tb, exprs[1])] {
                    if t != Type::Date && t != Type::Error {
                        self.err(
                            codes::TYPE_MISMATCH,
                            e.span,
                            format!("`days_between` needs dates, found {}", type_words(&t, self)),
                        );
                    }
                }
                (
                    IExpr::Call(Builtin::DaysBetween, vec![a, b]),
                    Type::Number,
                    Display::plain(),
                )
            }
            _ => {
                let known = [
                    "min",
                    "max",
                    "abs",
                    "round",
                    "floor",
                    "ceil",
                    "present",
                    "year",
                    "month",
                    "day",
                    "days_between",
                    "previous",
                    "streak",
                    "count",
                    "share",
                    "sum",
                    "avg",
                    "status",
                    "awarded",
                ];
                let d = self.err(
                    codes::UNKNOWN_NAME,
                    f.span,
                    format!("unknown function `{name}`"),
                );
                d.help = Some(match nearest(name, known.iter().copied()) {
                    Some(n) => format!("did you mean `{n}`?"),
                    None => format!("the functions are {}", known.join(", ")),
                });
                err_typed()
            }
        }
    }

    fn award_index(&mut self, id: &str, span: Span, before: Option<usize>) -> Option<usize> {
        match self.award_names.get_index_of(id) {
            Some(i) => {
                if let Some(b) = before {
                    if i >= b {
                        let d = self.err(
                            codes::CYCLE,
                            span,
                            format!("award `{id}` is not decided yet here"),
                        );
                        d.help = Some("awards are decided in declaration order: `awarded(…)` may name only an earlier award".into());
                        return None;
                    }
                }
                Some(i)
            }
            None => {
                let cands: Vec<String> = self.award_names.keys().cloned().collect();
                let d = self.err(codes::UNKNOWN_NAME, span, format!("unknown award `{id}`"));
                if let Some(n) = nearest(id, cands.iter().map(|s| s.as_str())) {
                    d.help = Some(format!("did you mean `{n}`?"));
                }
                None
            }
        }
    }
}

pub fn status_of(s: ast::StatusWord) -> Status {
    match s {
        ast::StatusWord::Exceeded => Status::Exceeded,
        ast::StatusWord::Met => Status::Met,
        ast::StatusWord::NotMet => Status::NotMet,
        ast::StatusWord::Late => Status::Late,
        ast::StatusWord::Missing => Status::Missing,
        ast::StatusWord::NotApplicable => Status::NotApplicable,
    }
}

/// A `given` value, typed by its indicator.
pub fn given_value(c: &mut Checker, ind: &Indicator, f: &ast::Field) -> Option<Value> {
    let neg = |d: Decimal| if f.neg { -d } else { d };
    let bad = |c: &mut Checker, what: &str| {
        let msg = format!("`{}` is {}, not {what}", ind.id, type_words(&ind.ty, c));
        c.err(codes::TYPE_MISMATCH, f.span, msg);
        None
    };
    match (&ind.ty, &f.value) {
        (Type::Number, ast::GivenValue::Lit(Literal::Number(n, _))) => Some(Value::Num(neg(*n))),
        (Type::Percent, ast::GivenValue::Lit(Literal::Percent(n, _))) => Some(Value::Num(neg(*n))),
        (Type::Percent, ast::GivenValue::Lit(Literal::Number(n, _))) => {
            let d = c.err(
                codes::TYPE_MISMATCH,
                f.span,
                format!("`{}` is a percent: write it with `%`", ind.id),
            );
            d.help = Some(format!(
                "write `{} = {}%`",
                ind.id,
                crate::value::fmt_dec(*n)
            ));
            None
        }
        (Type::Quantity(_) | Type::Duration(_), ast::GivenValue::Lit(Literal::Number(n, _))) => {
            crate::value::mul_exact(*n, ind.display.factor).map(|v| Value::Num(neg(v)))
        }
        (Type::Quantity(_) | Type::Duration(_), ast::GivenValue::Lit(Literal::Quantity(q))) => {
            let (t, d) = c.resolve_unit(&q.scale, &q.unit)?;
            if t != ind.ty {
                let msg = format!(
                    "`{}` is {}, not {}",
                    ind.id,
                    type_words(&ind.ty, c),
                    type_words(&t, c)
                );
                c.err(codes::UNIT_MISMATCH, f.span, msg);
                return None;
            }
            crate::value::mul_exact(q.value, d.factor).map(|v| Value::Num(neg(v)))
        }
        (Type::Bool, ast::GivenValue::Lit(Literal::Bool(b))) => Some(Value::Bool(*b)),
        (Type::Date, ast::GivenValue::Lit(Literal::Date(d))) => c.date(d).map(Value::Date),
        (Type::Text, ast::GivenValue::Lit(Literal::String(s))) => {
            Some(Value::Text(s.as_str().into()))
        }
        (Type::Level(set), ast::GivenValue::Name(n)) => {
            match c.level_value(&n.dotted(), Some(*set)) {
                Some((_, i)) => Some(Value::Level(i)),
                None => {
                    let names: Vec<String> = c
                        .levels
                        .get(*set)
                        .map(|l| l.levels.iter().map(|x| x.id.clone()).collect())
                        .unwrap_or_default();
                    let d = c.err(
                        codes::UNKNOWN_NAME,
                        n.span,
                        format!("`{}` is not a level of `{}`", n.dotted(), ind.id),
                    );
                    d.help = Some(format!("the levels are {}", names.join(", ")));
                    None
                }
            }
        }
        (Type::Level(set), ast::GivenValue::Lit(Literal::String(s))) => {
            let levels = c.levels.get(*set).cloned();
            let found = levels.and_then(|l| crate::data::match_level(&l, s));
            match found {
                Some(i) => Some(Value::Level(i)),
                None => bad(c, "this text"),
            }
        }
        (_, ast::GivenValue::Lit(Literal::Number(..))) => bad(c, "a number"),
        (_, ast::GivenValue::Lit(Literal::Percent(..))) => bad(c, "a percent"),
        (_, ast::GivenValue::Lit(Literal::Quantity(..))) => bad(c, "a quantity"),
        (_, ast::GivenValue::Lit(Literal::Bool(..))) => bad(c, "a bool"),
        (_, ast::GivenValue::Lit(Literal::Date(..))) => bad(c, "a date"),
        (_, ast::GivenValue::Lit(Literal::String(..))) => bad(c, "text"),
        (_, ast::GivenValue::Name(_)) => bad(c, "a level"),
    }
}
