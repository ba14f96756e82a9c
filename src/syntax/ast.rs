//! The spanned syntax tree of a criteria file. Spans never take part in
//! equality: two files that differ only in layout have equal trees.

use crate::diag::Span;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A dotted name: `nam_ro.ro_viec`, `hiep_hoa.t1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub parts: Vec<Ident>,
    pub span: Span,
}

impl Name {
    pub fn dotted(&self) -> String {
        self.parts
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Doc(pub Option<String>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Item {
    Use(Use),
    Unit(UnitDecl),
    Levels(LevelsDecl),
    Checklist(ChecklistDecl),
    Indicator(IndicatorDecl),
    Award(AwardDecl),
    Test(TestDecl),
    Campaign(Campaign),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UseTarget {
    Module(String),
    File(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub target: UseTarget,
    pub span: Span,
}

/// After the `/` of a quotient unit: how many (the number and its text
/// as written) of which unit.
pub type PerUnit = (Option<(Decimal, String)>, Ident);

/// `triệu đồng/ha`, `giường/10_000 người`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRef {
    pub num: Ident,
    /// The unit it is per, and how many of it: the number, as written
    /// (`10_000`, shown so in outputs).
    pub per: Option<Box<PerUnit>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityLit {
    pub value: Decimal,
    pub text: String,
    pub scale: Vec<String>,
    pub unit: UnitRef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitDecl {
    pub name: Ident,
    pub label: Option<Str>,
    pub def: Option<(QuantityLit, Span)>,
    pub doc: Doc,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelEntry {
    pub name: Ident,
    pub label: Option<Str>,
    pub aliases: Vec<Str>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelsDecl {
    pub name: Ident,
    pub label: Option<Str>,
    pub entries: Vec<LevelEntry>,
    pub doc: Doc,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeExpr {
    pub scale: Vec<String>,
    pub unit: UnitRef,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorDecl {
    pub name: Ident,
    pub label: Option<Str>,
    pub ty: TypeExpr,
    pub doc: Doc,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub name: Ident,
    pub label: Option<Str>,
    pub items: Vec<CampaignItem>,
    pub doc: Doc,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum CampaignItem {
    Issuer(Str),
    Theme(Str),
    Period(DateLit, DateLit, Span),
    Basis(Vec<Str>, Span),
    Indicator(IndicatorDecl),
    Let(LetDecl),
    Section(Section),
    Target(Target),
    Deadline(Deadline),
    Checklist(ChecklistDecl),
    Adjust(Adjust),
    Scoring(Scoring),
    Rank(Rank),
    Rating(Rating),
    Award(AwardDecl),
    Test(TestDecl),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetDecl {
    pub name: Ident,
    pub expr: Expr,
    pub doc: Doc,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: Ident,
    pub label: Option<Str>,
    pub cond: Option<Expr>,
    pub items: Vec<CampaignItem>,
    pub doc: Doc,
    pub span: Span,
}

/// What every criterion starts with: `target t1 "label" for cond :`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CritHead {
    pub name: Ident,
    pub label: Option<Str>,
    pub cond: Option<Expr>,
    pub doc: Doc,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub head: CritHead,
    pub body: TargetBody,
    pub options: Vec<Opt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetBody {
    Group(Group),
    Expr(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    All,
    Any,
    AtLeast(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub kind: GroupKind,
    pub children: Vec<Child>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    pub label: Option<Str>,
    pub body: TargetBody,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub head: CritHead,
    pub date: Expr,
    pub before: bool,
    pub due: Expr,
    pub options: Vec<Opt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDecl {
    pub name: Ident,
    pub label: Option<Str>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistDecl {
    pub head: CritHead,
    /// `Some` when written with a block.
    pub block: bool,
    pub items: Vec<ItemDecl>,
    pub options: Vec<Opt>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdjustKind {
    When(Expr),
    Per(Expr, Option<Decimal>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjust {
    pub head: CritHead,
    pub amount: Decimal,
    pub amount_text: String,
    pub kind: AdjustKind,
    pub options: Vec<Opt>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointsMode {
    Plain,
    Proportional,
    Relative,
    PerItem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Percent(Decimal, String),
    Quantity(QuantityLit),
    Number(Decimal, String),
    Unit(UnitRef),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Above,
    Below,
    Late,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Require {
    All,
    AtLeast(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opt {
    Points {
        n: Decimal,
        text: String,
        mode: PointsMode,
        span: Span,
    },
    Bonus {
        amount: Decimal,
        text: String,
        step: Step,
        dir: Direction,
        max: Option<(Decimal, String)>,
        span: Span,
    },
    Penalty {
        amount: Decimal,
        text: String,
        step: Step,
        dir: Direction,
        max: Option<(Decimal, String)>,
        span: Span,
    },
    Require(Require, Span),
    Blank(bool, Span),
}

impl Opt {
    pub fn span(&self) -> Span {
        match self {
            Opt::Points { span, .. } | Opt::Bonus { span, .. } | Opt::Penalty { span, .. } => *span,
            Opt::Require(_, s) | Opt::Blank(_, s) => *s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scoring {
    pub total: Option<(Decimal, String)>,
    pub precision: Option<(Decimal, String)>,
    pub normalize: Option<(Decimal, String)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rank {
    pub key: Expr,
    pub within: Option<Name>,
    pub then: Vec<(Expr, Option<bool>)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub name: Ident,
    pub label: Option<Str>,
    pub cond: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub name: Ident,
    pub label: Option<Str>,
    pub branches: Vec<Branch>,
    pub doc: Doc,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum LimitAmount {
    Count(Decimal, String),
    Share(Decimal, String, Option<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub amount: LimitAmount,
    pub per: Name,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardDecl {
    pub name: Ident,
    pub label: Option<Str>,
    pub block: bool,
    pub when: Option<Expr>,
    pub limit: Option<Limit>,
    pub doc: Doc,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GivenValue {
    Lit(Literal),
    Name(Name),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: Name,
    pub neg: bool,
    pub value: GivenValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestPart {
    Data(Str),
    Given {
        unit: Ident,
        fields: Vec<Field>,
        span: Span,
    },
    Expect(Expr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDecl {
    pub name: Str,
    pub parts: Vec<TestPart>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateLit {
    pub text: String,
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Number(Decimal, String),
    Percent(Decimal, String),
    Quantity(QuantityLit),
    Date(DateLit),
    String(String),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusWord {
    Exceeded,
    Met,
    NotMet,
    Late,
    Missing,
    NotApplicable,
}

impl StatusWord {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "exceeded" => StatusWord::Exceeded,
            "met" => StatusWord::Met,
            "not_met" => StatusWord::NotMet,
            "late" => StatusWord::Late,
            "missing" => StatusWord::Missing,
            "not_applicable" => StatusWord::NotApplicable,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            StatusWord::Exceeded => "exceeded",
            StatusWord::Met => "met",
            StatusWord::NotMet => "not_met",
            StatusWord::Late => "late",
            StatusWord::Missing => "missing",
            StatusWord::NotApplicable => "not_applicable",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Ge => ">=",
            CmpOp::Gt => ">",
            CmpOp::Le => "<=",
            CmpOp::Lt => "<",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Expr(Expr),
    Members {
        descendants: bool,
        cond: Option<Box<Expr>>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprKind {
    Lit(Literal),
    Name(Name),
    Status(StatusWord),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Band(Box<Expr>, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Box<Expr>, Box<Expr>),
    Is(Box<Expr>, bool, StatusWord),
    Has(Box<Expr>, Name),
    Coalesce(Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    AllMet { criteria: bool },
    Call(Ident, Vec<Arg>),
    At(Box<Expr>, i32, String),
    Paren(Box<Expr>),
}
