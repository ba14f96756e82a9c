//! The checked campaign: what the evaluator runs. Names are resolved to
//! indices, types and units are settled, every node keeps its span.

use crate::diag::Span;
use crate::syntax::ast::{CmpOp, GroupKind, PointsMode};
use crate::value::{Display, Status, Type, UnitDef, Value};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct CampaignInfo {
    pub id: String,
    pub title: Option<String>,
    pub issuer: Option<String>,
    pub theme: Option<String>,
    pub period: Option<(NaiveDate, NaiveDate)>,
    pub basis: Vec<String>,
    pub doc: Option<String>,
    pub span: Span,
}

impl CampaignInfo {
    /// The campaign's year: the year its period ends in.
    pub fn year(&self) -> Option<i32> {
        use chrono::Datelike;
        self.period.map(|(_, to)| to.year())
    }
}

#[derive(Debug, Clone)]
pub struct Level {
    pub id: String,
    pub label: Option<String>,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct LevelSet {
    pub id: String,
    pub label: Option<String>,
    pub levels: Vec<Level>,
}

#[derive(Debug, Clone)]
pub struct Indicator {
    pub id: String,
    pub label: Option<String>,
    pub ty: Type,
    pub display: Display,
    /// For a checklist item: the checklist's `blank false` option.
    pub blank_false: bool,
    pub span: Span,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Let {
    pub id: String,
    pub expr: IExpr,
    pub ty: Type,
    pub display: Display,
    pub span: Span,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SectionInfo {
    pub id: String,
    pub label: Option<String>,
    pub parent: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub amount: Decimal,
    /// The step in base units (days for deadlines).
    pub step: Decimal,
    pub max: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct PointsSpec {
    pub n: Decimal,
    pub mode: PointsMode,
    pub bonus: Option<Step>,
    pub penalty: Option<Step>,
}

#[derive(Debug, Clone)]
pub enum TNode {
    /// `actual OP goal`, or the band `actual >= goal .. high`.
    Compare {
        actual: IExpr,
        op: CmpOp,
        goal: IExpr,
        high: Option<IExpr>,
        ty: Type,
        display: Display,
    },
    /// `actual in lo .. hi`.
    Interval {
        actual: IExpr,
        lo: IExpr,
        hi: IExpr,
        ty: Type,
        display: Display,
    },
    /// Any other condition.
    Cond(IExpr),
    Group {
        kind: GroupKind,
        children: Vec<(Option<String>, TNode, Span)>,
    },
}

#[derive(Debug, Clone)]
pub struct DeadlineSpec {
    pub date: IExpr,
    pub due: IExpr,
    pub before: bool,
}

#[derive(Debug, Clone)]
pub struct ChecklistItem {
    pub id: String,
    pub label: Option<String>,
    pub slot: usize,
}

#[derive(Debug, Clone)]
pub struct ChecklistSpec {
    pub items: Vec<ChecklistItem>,
    pub require: usize,
}

#[derive(Debug, Clone)]
pub enum AdjustSpec {
    When {
        amount: Decimal,
        cond: IExpr,
    },
    Per {
        amount: Decimal,
        count: IExpr,
        max: Option<Decimal>,
    },
}

#[derive(Debug, Clone)]
pub enum CritKind {
    Target(TNode),
    Deadline(DeadlineSpec),
    Checklist(ChecklistSpec),
    Adjust(AdjustSpec),
}

impl CritKind {
    pub fn name(&self) -> &'static str {
        match self {
            CritKind::Target(_) => "target",
            CritKind::Deadline(_) => "deadline",
            CritKind::Checklist(_) => "checklist",
            CritKind::Adjust(_) => "adjust",
        }
    }

    /// The expressions the criterion computes its status from: a target's
    /// operands and conditions, a deadline's date and due date, an
    /// adjustment's condition or count (a checklist reads its items' cells).
    pub fn exprs(&self) -> Vec<&IExpr> {
        fn node<'t>(t: &'t TNode, out: &mut Vec<&'t IExpr>) {
            match t {
                TNode::Compare {
                    actual, goal, high, ..
                } => out.extend([actual, goal].into_iter().chain(high)),
                TNode::Interval { actual, lo, hi, .. } => out.extend([actual, lo, hi]),
                TNode::Cond(e) => out.push(e),
                TNode::Group { children, .. } => children.iter().for_each(|(_, c, _)| node(c, out)),
            }
        }
        let mut out = Vec::new();
        match self {
            CritKind::Target(t) => node(t, &mut out),
            CritKind::Deadline(d) => out.extend([&d.date, &d.due]),
            CritKind::Checklist(_) => {}
            CritKind::Adjust(AdjustSpec::When { cond, .. }) => out.push(cond),
            CritKind::Adjust(AdjustSpec::Per { count, .. }) => out.push(count),
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct Criterion {
    pub id: String,
    pub label: Option<String>,
    pub kind: CritKind,
    pub section: Option<usize>,
    /// The `for` conditions of the criterion and its sections.
    pub applies: Vec<IExpr>,
    pub points: Option<PointsSpec>,
    pub span: Span,
    pub doc: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ScoringInfo {
    pub scored: bool,
    pub precision: u32,
    pub total: Option<Decimal>,
    pub normalize: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct RankSpec {
    pub key: IExpr,
    pub within: Field,
    pub then: Vec<(IExpr, bool)>,
}

#[derive(Debug, Clone)]
pub struct RatingBranch {
    pub id: String,
    pub label: Option<String>,
    pub cond: Option<IExpr>,
    /// The condition as written.
    pub cond_text: Option<String>,
    /// The condition's `and`-parts, as written and checked.
    pub parts: Vec<(String, IExpr)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RatingSpec {
    pub id: String,
    pub label: Option<String>,
    pub branches: Vec<RatingBranch>,
}

#[derive(Debug, Clone)]
pub enum LimitSpec {
    Count(Decimal),
    Share(Decimal, Option<IExpr>),
}

#[derive(Debug, Clone)]
pub struct AwardSpec {
    pub id: String,
    pub label: Option<String>,
    pub when: Option<IExpr>,
    /// The condition as written.
    pub when_text: Option<String>,
    /// The condition's `and`-parts, as written and checked.
    pub parts: Vec<(String, IExpr)>,
    pub limit: Option<(LimitSpec, Field)>,
    pub span: Span,
    pub doc: Option<String>,
}

/// The reserved fields of a data row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    Name,
    Bloc,
    Kind,
    Parent,
    /// The `awards` column, read in expressions as its text (the award ids
    /// joined by `;`); never a group for ranks or limits.
    Awards,
}

impl Field {
    /// A reserved field an expression may read as text (LANGUAGE.md §7):
    /// every one but `period`.
    pub fn readable(s: &str) -> Option<Field> {
        match s {
            "awards" => Some(Field::Awards),
            _ => Field::parse(s),
        }
    }
    pub fn parse(s: &str) -> Option<Field> {
        Some(match s {
            "id" => Field::Id,
            "name" => Field::Name,
            "bloc" => Field::Bloc,
            "kind" => Field::Kind,
            "parent" => Field::Parent,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::Bloc => "bloc",
            Field::Kind => "kind",
            Field::Parent => "parent",
            Field::Awards => "awards",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Min,
    Max,
    Abs,
    Round,
    Floor,
    Ceil,
    Year,
    Month,
    Day,
    DaysBetween,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    Count,
    Share,
    Sum,
    Avg,
    Min,
    Max,
}

/// What a test's `unit.X` reads after the evaluation.
#[derive(Debug, Clone)]
pub enum UnitAttr {
    Status(usize),
    Score,
    Rank,
    Rating,
    Expr(Box<IExpr>),
}

#[derive(Debug, Clone)]
pub enum IExpr {
    Const(Value),
    /// A date written in the file: shifted by whole years when a past
    /// period is evaluated.
    DateLit(NaiveDate),
    Ind(usize),
    Let(usize),
    Field(Field),
    Neg(Box<IExpr>),
    Not(Box<IExpr>),
    And(Box<IExpr>, Box<IExpr>),
    Or(Box<IExpr>, Box<IExpr>),
    Arith(Arith, Box<IExpr>, Box<IExpr>),
    /// date ± duration; `months` picks calendar arithmetic.
    DateAdd {
        date: Box<IExpr>,
        dur: Box<IExpr>,
        months: bool,
        sub: bool,
    },
    DateDiff(Box<IExpr>, Box<IExpr>),
    Cmp(CmpOp, Box<IExpr>, Box<IExpr>),
    /// A comparison of statuses: `met` accepts `exceeded`.
    StatusCmp(bool, Box<IExpr>, Status),
    InRange(Box<IExpr>, Box<IExpr>, Box<IExpr>),
    Coalesce(Box<IExpr>, Box<IExpr>),
    Present(Box<IExpr>),
    If(Box<IExpr>, Box<IExpr>, Box<IExpr>),
    Call(Builtin, Vec<IExpr>),
    Score,
    Rank,
    AllMet {
        criteria: bool,
    },
    CountStatus(Status),
    StatusOf(usize),
    Awarded(usize),
    /// The rating branch chosen for the unit, as a level-like index.
    RatingIs(usize),
    Previous(Box<IExpr>),
    At(Box<IExpr>, i32),
    Streak(Box<IExpr>),
    Agg {
        kind: AggKind,
        descendants: bool,
        cond: Option<Box<IExpr>>,
        expr: Option<Box<IExpr>>,
    },
    /// In tests: `unit.X`.
    UnitAttr(String, UnitAttr),
    /// In tests: `unit has award`.
    Has(String, usize),
}

impl IExpr {
    /// Whether `pred` holds for this expression or any expression inside it.
    pub fn any(&self, pred: &dyn Fn(&IExpr) -> bool) -> bool {
        if pred(self) {
            return true;
        }
        let mut found = false;
        self.for_each_child(&mut |c| found = found || c.any(pred));
        found
    }

    /// `f` on each expression directly inside this one.
    pub fn for_each_child<'a>(&'a self, f: &mut dyn FnMut(&'a IExpr)) {
        match self {
            IExpr::Const(_)
            | IExpr::DateLit(_)
            | IExpr::Ind(_)
            | IExpr::Let(_)
            | IExpr::Field(_)
            | IExpr::Score
            | IExpr::Rank
            | IExpr::AllMet { .. }
            | IExpr::CountStatus(_)
            | IExpr::StatusOf(_)
            | IExpr::Awarded(_)
            | IExpr::RatingIs(_)
            | IExpr::Has(..) => {}
            IExpr::Neg(x)
            | IExpr::Not(x)
            | IExpr::Present(x)
            | IExpr::Previous(x)
            | IExpr::At(x, _)
            | IExpr::Streak(x)
            | IExpr::StatusCmp(_, x, _) => f(x),
            IExpr::And(a, b)
            | IExpr::Or(a, b)
            | IExpr::Arith(_, a, b)
            | IExpr::DateDiff(a, b)
            | IExpr::Cmp(_, a, b)
            | IExpr::Coalesce(a, b)
            | IExpr::DateAdd {
                date: a, dur: b, ..
            } => {
                f(a);
                f(b);
            }
            IExpr::InRange(a, b, c) | IExpr::If(a, b, c) => {
                f(a);
                f(b);
                f(c);
            }
            IExpr::Call(_, args) => args.iter().for_each(f),
            IExpr::Agg { cond, expr, .. } => cond
                .as_deref()
                .into_iter()
                .chain(expr.as_deref())
                .for_each(f),
            IExpr::UnitAttr(_, a) => {
                if let UnitAttr::Expr(x) = a {
                    f(x)
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct GivenRow {
    pub unit: String,
    pub fields: Vec<(GivenTarget, Value)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GivenTarget {
    Slot(usize),
    Field(Field),
    Period,
    Awards,
}

#[derive(Debug, Clone)]
pub struct Expectation {
    pub expr: IExpr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TestSpec {
    pub name: String,
    pub data: Vec<(PathBuf, Span)>,
    pub given: Vec<GivenRow>,
    pub expects: Vec<Expectation>,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Program {
    pub info: CampaignInfo,
    pub plan_path: Option<PathBuf>,
    pub levels: Vec<LevelSet>,
    pub units: Vec<UnitDef>,
    pub indicators: Vec<Indicator>,
    pub lets: Vec<Let>,
    /// Lets in dependency order.
    pub let_order: Vec<usize>,
    pub sections: Vec<SectionInfo>,
    pub criteria: Vec<Criterion>,
    pub scoring: Option<ScoringInfo>,
    pub rank: Option<RankSpec>,
    pub rating: Option<RatingSpec>,
    pub awards: Vec<AwardSpec>,
    pub tests: Vec<TestSpec>,
    /// Whether any expression reads another period or the members.
    pub uses_history: bool,
}

impl Program {
    pub fn indicator_slot(&self, id: &str) -> Option<usize> {
        self.indicators.iter().position(|i| i.id == id)
    }
    pub fn criterion(&self, id: &str) -> Option<usize> {
        self.criteria.iter().position(|c| c.id == id)
    }
}
