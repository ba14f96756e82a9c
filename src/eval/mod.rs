//! Checked campaign × unit data → statuses, points, ranks, ratings, awards.
//! No type checks here: the checker has settled them.

mod compiled;
pub(crate) use compiled::Compiled;
mod expr;
pub use expr::cmp_dec;
pub mod passes;
pub mod stream;

use crate::diag::{codes, Diag};
use crate::ir::*;
use crate::syntax::ast::{CmpOp, GroupKind, PointsMode};
use crate::value::{round_half_away, Status, Value};
use chrono::Datelike;
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One data row: one unit in one period.
#[derive(Debug, Clone, Default)]
pub struct UnitRow {
    pub id: String,
    pub name: Option<String>,
    pub bloc: Option<String>,
    pub kind: Option<String>,
    pub parent: Option<String>,
    pub period: Option<i32>,
    pub awards: Option<Vec<String>>,
    /// One value per indicator slot.
    pub values: Vec<Value>,
    /// Where the row came from: file and 1-based row number.
    pub origin: Option<(std::sync::Arc<str>, usize)>,
}

impl UnitRow {
    /// The file and 1-based row the row was read from (empty and 0 for a
    /// row not read from a file).
    pub fn place(&self) -> (String, usize) {
        self.origin
            .as_ref()
            .map(|(file, row)| (file.to_string(), *row))
            .unwrap_or_default()
    }
    pub fn field(&self, f: Field) -> Option<&str> {
        match f {
            Field::Id => Some(&self.id),
            Field::Name => self.name.as_deref(),
            Field::Bloc => self.bloc.as_deref(),
            Field::Kind => self.kind.as_deref(),
            Field::Parent => self.parent.as_deref(),
            // A list, not one text: see `Cx::eval`.
            Field::Awards => None,
        }
    }
}

/// One child of a group, or the whole condition of a target: its status,
/// and, where the evaluation keeps them ([`Detail::Full`], or where points
/// are computed from them), the values behind it. Read through
/// [`NodeResult::node`].
#[derive(Debug, Clone)]
pub struct NodeResult {
    pub status: Status,
    /// A criterion's points, in bytes that would otherwise be padding
    /// (none for a child).
    points: Points,
    detail: Option<Box<NodeDetail>>,
}

/// The values behind a node's status.
#[derive(Debug, Clone, Default)]
struct NodeDetail {
    actual: Option<Value>,
    goal: Option<Value>,
    high: Option<Value>,
    /// How the actual was measured against the goal, once both were
    /// there: gap and achievement are made from it on demand.
    measure: Option<Measure>,
    children: Vec<NodeResult>,
    /// A criterion's own results beyond its node's (none for a child).
    extra: Option<Box<CritExtra>>,
}

/// What a comparison's actual and goal mean, for its gap and achievement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    pub op: CmpOp,
    /// A number, percent or quantity (an achievement ratio makes sense).
    pub numeric: bool,
}

impl NodeResult {
    fn bare(status: Status) -> Self {
        NodeResult {
            status,
            points: Points::NONE,
            detail: None,
        }
    }
    fn detail_mut(&mut self) -> &mut NodeDetail {
        self.detail.get_or_insert_with(Box::default)
    }
    /// The node's status and the values behind it.
    pub fn node(&self) -> Node<'_> {
        Node {
            status: self.status,
            detail: self.detail.as_deref(),
        }
    }
}

/// A node's result as it is read: its status and the values behind it.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    pub status: Status,
    detail: Option<&'a NodeDetail>,
}

impl<'a> Node<'a> {
    /// The actual value, when it was there (and kept).
    pub fn actual(self) -> Option<&'a Value> {
        self.detail?.actual.as_ref()
    }
    /// The goal (the low end of a band or an interval).
    pub fn goal(self) -> Option<&'a Value> {
        self.detail?.goal.as_ref()
    }
    /// The high end of a band or an interval.
    pub fn high(self) -> Option<&'a Value> {
        self.detail?.high.as_ref()
    }
    pub fn measure(self) -> Option<Measure> {
        self.detail?.measure
    }
    /// The results of a group's children, in order.
    pub fn children(self) -> &'a [NodeResult] {
        self.detail
            .map(|d| d.children.as_slice())
            .unwrap_or_default()
    }
    /// Actual − goal: in base units for numbers, in days for dates.
    pub fn gap(self) -> Option<Decimal> {
        self.measure()?;
        match (self.actual()?, self.goal()?) {
            (Value::Num(x), Value::Num(y)) => x.checked_sub(*y),
            (Value::Date(x), Value::Date(y)) => Some(Decimal::from((*x - *y).num_days())),
            _ => None,
        }
    }
    /// Actual ÷ goal (goal ÷ actual when lower is better).
    pub fn achievement(self) -> Option<Decimal> {
        let m = self.measure()?;
        if !m.numeric {
            return None;
        }
        // A ratio over a divisor that is not positive says nothing of how
        // close the unit came: with a goal of −5, an actual of −10 would
        // "achieve" 2.
        let ratio = |a: &Decimal, b: &Decimal| {
            if b.is_sign_negative() || b.is_zero() {
                None
            } else {
                a.checked_div(*b)
            }
        };
        match (self.actual()?, self.goal()?) {
            (Value::Num(x), Value::Num(y)) => match m.op {
                CmpOp::Ge | CmpOp::Gt => ratio(x, y),
                CmpOp::Le | CmpOp::Lt => ratio(y, x),
                _ => None,
            },
            _ => None,
        }
    }
}

/// How a criterion's points were computed, for `explain`.
#[derive(Debug, Clone, Default)]
pub struct PointsTrace {
    pub base: Decimal,
    pub bonus: Decimal,
    pub penalty: Decimal,
    pub unrounded: Decimal,
    pub note: Note,
}

/// How the base points came about, in numbers (words are made on demand).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Note {
    #[default]
    None,
    /// N × achievement (clamped).
    Proportional { n: Decimal, achievement: Decimal },
    /// N ÷ items × items met.
    PerItem {
        n: Decimal,
        total: usize,
        met: usize,
    },
    /// N − amount × steps (capped).
    Penalty {
        n: Decimal,
        amount: Decimal,
        steps: Decimal,
    },
    /// Relative to the group's leader.
    Relative,
    /// Missing data scores 0.
    Missing,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::value::fmt_dec as d;
        match self {
            Note::None => Ok(()),
            Note::Proportional { n, achievement } => {
                write!(f, "{} × achievement {}", d(*n), d(*achievement))
            }
            Note::PerItem { n, total, met } => {
                write!(f, "{} ÷ {total} items × {met} items met", d(*n))
            }
            Note::Penalty { n, amount, steps } => {
                write!(f, "{} − {} × {} step(s)", d(*n), d(*amount), d(*steps))
            }
            Note::Relative => write!(f, "relative to the group's leader"),
            Note::Missing => write!(f, "missing data scores 0"),
        }
    }
}

/// One criterion's result for one unit, while it is made: its node, with
/// the points in the node's spare bytes when they fit. What only
/// comparisons kept for `explain`, deadlines, checklists, relative points
/// and points too wide for those bytes have lives behind the node's box.
/// A unit keeps it as a [`Slim`] and its box apart ([`UnitState::push`]).
#[derive(Debug, Clone)]
struct CritResult {
    node: NodeResult,
}

/// A criterion's status and points as a unit keeps them: 8 bytes, so that
/// a large evaluation, which keeps one per unit and criterion, writes
/// little. The values behind them are in the unit's [`StateTrace`].
#[derive(Debug, Clone, Copy)]
struct Slim {
    status: Status,
    points: Points,
}

/// One criterion's result for one unit, as it is read
/// ([`UnitState::criteria`]).
#[derive(Debug, Clone, Copy)]
pub struct Crit<'a> {
    pub node: Node<'a>,
    points: Points,
}

#[derive(Debug, Clone, Default)]
struct CritExtra {
    days_late: Option<i64>,
    items: Vec<Value>,
    items_met: Option<usize>,
    relative_base: Option<Decimal>,
    /// Points whose mantissa needs more than 48 bits.
    wide_points: Option<Decimal>,
}

/// `Option<Decimal>` in 7 bytes, for the points of a criterion, which are
/// small numbers with few decimals: byte 0 holds the scale (bits 0–4) and
/// the sign (bit 5), bytes 1–6 the magnitude of the mantissa
/// (little-endian, below 2^48). Byte 0 is [`Points::NONE_TAG`] for none and
/// [`Points::WIDE_TAG`] for points kept in the criterion's box instead.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Points([u8; 7]);

/// What a [`Points`] holds.
#[derive(Debug, PartialEq)]
enum PointsSlot {
    None,
    Value(Decimal),
    Wide,
}

impl Points {
    const NONE_TAG: u8 = 0xFF;
    const WIDE_TAG: u8 = 0xFE;
    const NONE: Points = Points([Self::NONE_TAG, 0, 0, 0, 0, 0, 0]);
    const WIDE: Points = Points([Self::WIDE_TAG, 0, 0, 0, 0, 0, 0]);
    const SIGN: u8 = 0x20;
    const SCALE: u8 = 0x1F;

    /// The points, or `None` when they do not fit.
    fn small(d: Decimal) -> Option<Points> {
        let m = d.mantissa().unsigned_abs();
        let scale = u8::try_from(d.scale()).ok()?;
        if m >= 1 << 48 || scale > Self::SCALE {
            return None;
        }
        let sign = if d.is_sign_negative() { Self::SIGN } else { 0 };
        let [b0, b1, b2, b3, b4, b5, ..] = m.to_le_bytes();
        Some(Points([scale | sign, b0, b1, b2, b3, b4, b5]))
    }

    fn get(self) -> PointsSlot {
        let [tag, b0, b1, b2, b3, b4, b5] = self.0;
        match tag {
            Self::NONE_TAG => PointsSlot::None,
            Self::WIDE_TAG => PointsSlot::Wide,
            _ => {
                let m = u64::from_le_bytes([b0, b1, b2, b3, b4, b5, 0, 0]);
                PointsSlot::Value(Decimal::from_parts(
                    m as u32,
                    (m >> 32) as u32,
                    0,
                    tag & Self::SIGN != 0,
                    u32::from(tag & Self::SCALE),
                ))
            }
        }
    }
}

impl std::fmt::Debug for Points {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl CritResult {
    fn new(status: Status) -> Self {
        CritResult {
            node: NodeResult::bare(status),
        }
    }
    fn extra_mut(&mut self) -> &mut CritExtra {
        self.node
            .detail_mut()
            .extra
            .get_or_insert_with(Box::default)
    }
    fn set_points(&mut self, p: Option<Decimal>) {
        if self.node.points == Points::WIDE {
            self.extra_mut().wide_points = None;
        }
        self.node.points = match p {
            None => Points::NONE,
            Some(d) => match Points::small(d) {
                Some(small) => small,
                None => {
                    self.extra_mut().wide_points = Some(d);
                    Points::WIDE
                }
            },
        };
    }
    /// The result as it is read.
    fn view(&self) -> Crit<'_> {
        Crit {
            node: self.node.node(),
            points: self.node.points,
        }
    }
}

impl<'a> Crit<'a> {
    fn extra(self) -> Option<&'a CritExtra> {
        self.node.detail?.extra.as_deref()
    }
    /// The points given (`None` when the criterion is unscored or does
    /// not apply).
    pub fn points(self) -> Option<Decimal> {
        match self.points.get() {
            PointsSlot::None => None,
            PointsSlot::Value(d) => Some(d),
            PointsSlot::Wide => self.extra()?.wide_points,
        }
    }
    pub fn status(self) -> Status {
        self.node.status
    }
    /// A deadline's days late (0 when on time).
    pub fn days_late(self) -> Option<i64> {
        self.extra()?.days_late
    }
    /// Each checklist item's value, in the checklist's order.
    pub fn items(self) -> &'a [Value] {
        self.extra().map(|e| e.items.as_slice()).unwrap_or_default()
    }
    /// How many checklist items are met.
    pub fn items_met(self) -> Option<usize> {
        self.extra()?.items_met
    }
    /// For `points N relative`: the base the group's leader gave.
    pub fn relative_base(self) -> Option<Decimal> {
        self.extra()?.relative_base
    }
    /// The most points the criterion could give this unit (`None` when it
    /// is unscored, an adjustment, or does not apply).
    pub fn max_points(self, c: &Criterion) -> Option<Decimal> {
        if self.status() == Status::NotApplicable || matches!(c.kind, CritKind::Adjust(_)) {
            return None;
        }
        max_points(c)
    }
}

#[derive(Debug, Clone)]
pub struct AwardDecision {
    pub award: usize,
    pub condition: Value,
    pub granted: bool,
    pub note: String,
}

/// Everything decided for one unit in one period. Kept small (112
/// bytes, and 8 per criterion): a large evaluation writes one per unit.
#[derive(Debug, Clone, Default)]
pub struct UnitState {
    pub lets: Box<[Value]>,
    /// Each criterion's status and points, in the plan's order (read
    /// through [`UnitState::criteria`]).
    crits: Vec<Slim>,
    pub score: Option<Decimal>,
    pub rank: Option<u32>,
    pub rating: Option<usize>,
    pub awards: Box<[bool]>,
    /// What the criteria's statuses, ranking, the rating and the awards
    /// were decided by: none for a plan that keeps none of it.
    trace: Option<Box<StateTrace>>,
}

/// The values behind a unit's criteria, and the keys and decisions behind
/// its rank, rating and awards.
#[derive(Debug, Clone, Default)]
struct StateTrace {
    /// Each criterion's values, by the criterion's position (shorter
    /// when the last criteria have none).
    details: Vec<Option<Box<NodeDetail>>>,
    rank_key: Vec<Value>,
    rating: Vec<(usize, Value)>,
    awards: Vec<AwardDecision>,
}

impl UnitState {
    /// Each criterion's result, in the plan's order (the criteria
    /// evaluated so far, while the unit is evaluated).
    pub fn criteria(&self) -> impl ExactSizeIterator<Item = Crit<'_>> + Clone + '_ {
        self.crits
            .iter()
            .enumerate()
            .map(|(k, &slim)| self.read(k, slim))
    }
    /// The result of the criterion at position `k` of the plan.
    pub fn criterion(&self, k: usize) -> Option<Crit<'_>> {
        self.crits.get(k).map(|&slim| self.read(k, slim))
    }
    fn read(&self, k: usize, slim: Slim) -> Crit<'_> {
        let detail = self
            .trace
            .as_ref()
            .and_then(|t| t.details.get(k))
            .and_then(|d| d.as_deref());
        Crit {
            node: Node {
                status: slim.status,
                detail,
            },
            points: slim.points,
        }
    }
    /// Keeps the next criterion's result: its status and points here, its
    /// values (if any) in the trace.
    fn push(&mut self, r: CritResult) {
        let k = self.crits.len();
        self.crits.push(Slim {
            status: r.node.status,
            points: r.node.points,
        });
        if let Some(d) = r.node.detail {
            self.set_detail(k, Some(d));
        }
    }
    fn set_detail(&mut self, k: usize, d: Option<Box<NodeDetail>>) {
        let details = &mut self.trace_mut().details;
        if details.len() <= k {
            details.resize_with(k + 1, || None);
        }
        if let Some(slot) = details.get_mut(k) {
            *slot = d;
        }
    }
    /// Changes the result of the criterion at position `k` (nothing when
    /// there is none).
    fn edit(&mut self, k: usize, f: impl FnOnce(&mut CritResult)) {
        let Some(&slim) = self.crits.get(k) else {
            return;
        };
        let detail = self
            .trace
            .as_mut()
            .and_then(|t| t.details.get_mut(k))
            .and_then(Option::take);
        let mut r = CritResult {
            node: NodeResult {
                status: slim.status,
                points: slim.points,
                detail,
            },
        };
        f(&mut r);
        if let Some(s) = self.crits.get_mut(k) {
            *s = Slim {
                status: r.node.status,
                points: r.node.points,
            };
        }
        if r.node.detail.is_some() {
            self.set_detail(k, r.node.detail);
        }
    }
    /// The values the unit was ranked by: the rank key, then each `then`.
    pub fn rank_key(&self) -> &[Value] {
        self.trace.as_ref().map_or(&[], |t| &t.rank_key)
    }
    /// Each rating branch tried, with its condition's value.
    pub fn rating_trace(&self) -> &[(usize, Value)] {
        self.trace.as_ref().map_or(&[], |t| &t.rating)
    }
    /// Each award's decision (kept with [`Detail::Full`]).
    pub fn award_trace(&self) -> &[AwardDecision] {
        self.trace.as_ref().map_or(&[], |t| &t.awards)
    }
    fn trace_mut(&mut self) -> &mut StateTrace {
        self.trace.get_or_insert_with(Box::default)
    }
}

/// The units of one period.
#[derive(Debug, Clone, Default)]
pub struct Period {
    pub year: i32,
    pub rows: Vec<usize>,
    /// Unit id → position in `rows`, made on first use ([`Period::unit_index`]).
    index: std::sync::OnceLock<crate::ids::UnitIndex>,
    pub states: Vec<UnitState>,
    pub members: Vec<Vec<usize>>,
    /// Whether the awards of this period come from the data.
    pub award_facts: bool,
}

impl Period {
    /// Unit id → position in `rows`; `rows` are the evaluation's rows.
    /// Made on first use: an evaluation whose units are independent never
    /// looks one up by id, and a large one would spend a tenth of its time
    /// on the index.
    pub fn unit_index(&self, rows: &[UnitRow]) -> &crate::ids::UnitIndex {
        index_of(&self.index, &self.rows, rows)
    }
}

/// A period's index, made from its rows (`at`) on first use.
fn index_of<'a>(
    cell: &'a std::sync::OnceLock<crate::ids::UnitIndex>,
    at: &[usize],
    rows: &[UnitRow],
) -> &'a crate::ids::UnitIndex {
    cell.get_or_init(|| {
        let ids = || at.iter().filter_map(|&r| rows.get(r)).map(|r| &r.id);
        // The average id length (one long id must not size the arena for
        // every unit).
        let key_len = ids().map(String::len).sum::<usize>() / at.len().max(1) + 1;
        let mut index = crate::ids::UnitIndex::with_capacity(at.len(), key_len);
        for (pos, id) in ids().enumerate() {
            // Cannot fail: the period's ids were measured against the
            // limit when the evaluation began.
            let _ = index.insert(id, pos);
        }
        index
    })
}

/// The result of evaluating a campaign over a data set.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub rows: Vec<UnitRow>,
    pub periods: BTreeMap<i32, Period>,
    pub current: i32,
    pub warnings: Vec<Diag>,
    pub detail: Detail,
}

/// How much of each criterion's result an evaluation keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// Actual, goal, gap and achievement of every comparison, and every
    /// child of a group: for JSON, the table, `explain` and tests.
    #[default]
    Full,
    /// Statuses and points only (values are still kept where points are
    /// computed from them), no checklist items, and no rating or award
    /// traces: for the wide CSV, which shows nothing else.
    Statuses,
}

impl Evaluation {
    /// The units of the campaign's period, in data order.
    #[allow(
        clippy::indexing_slicing,
        reason = "indices range over one period's rows, states and members, which are built together with the same length"
    )]
    pub fn units(&self) -> impl Iterator<Item = (&UnitRow, &UnitState)> {
        let p = self.periods.get(&self.current);
        p.into_iter().flat_map(move |p| {
            p.rows
                .iter()
                .zip(p.states.iter())
                .map(move |(&r, s)| (&self.rows[r], s))
        })
    }
    #[allow(
        clippy::indexing_slicing,
        reason = "indices range over one period's rows, states and members, which are built together with the same length"
    )]
    pub fn unit(&self, id: &str) -> Option<(&UnitRow, &UnitState)> {
        let p = self.periods.get(&self.current)?;
        let i = p.unit_index(&self.rows).get(id)?;
        Some((&self.rows[p.rows[i]], &p.states[i]))
    }
}

/// The most points a criterion can give (`None` when unscored).
pub fn max_points(c: &Criterion) -> Option<Decimal> {
    let p = c.points.as_ref()?;
    Some(
        p.n.saturating_add(
            p.bonus
                .as_ref()
                .and_then(|b| b.max)
                .unwrap_or(Decimal::ZERO),
        ),
    )
}

/// Evaluate the campaign. `rows` may hold several periods; rows without a
/// period belong to the campaign's year. Parent cycles are data errors.
pub fn evaluate(prog: &Program, rows: Vec<UnitRow>) -> Result<Evaluation, Vec<Diag>> {
    evaluate_with(prog, rows, Detail::Full)
}

/// [`evaluate`], keeping the [`Detail`] asked for.
#[allow(
    clippy::indexing_slicing,
    reason = "indices range over one period's rows, states and members, which are built together with the same length"
)]
pub fn evaluate_with(
    prog: &Program,
    rows: Vec<UnitRow>,
    detail: Detail,
) -> Result<Evaluation, Vec<Diag>> {
    evaluate_known(prog, rows, None, &Compiled::new(prog, detail))
}

/// What a pass over data read in chunks knows of the whole data, for a
/// plan whose units are ranked or whose awards are limited (see
/// `passes`): a chunk is evaluated with it instead of ranking and limiting
/// within the chunk.
pub(crate) struct Known<'a> {
    /// Each unit's rank in the whole data (0: none), by position in the
    /// chunk; without them no unit has a rank.
    pub ranks: Option<&'a [u32]>,
    /// The limited awards, decided over the whole data; without them the
    /// evaluation stops before the awards.
    pub awards: Option<Decided<'a>>,
}

/// The limited awards of a chunk's units, decided over the whole data.
pub(crate) struct Decided<'a> {
    /// Bit `a` of a unit's mask: the unit was granted award `a` (for the
    /// awards with a limit).
    pub grants: &'a [u64],
    /// Per award, the limit in each group (for the note of the units left
    /// out).
    pub caps: &'a [BTreeMap<String, usize>],
}

/// [`evaluate_with`], with what is known of the whole data, and the
/// plan's targets compiled for the detail to keep (once for all the
/// chunks of a run).
#[allow(
    clippy::indexing_slicing,
    reason = "indices range over one period's rows, states and members, which are built together with the same length"
)]
pub(crate) fn evaluate_known(
    prog: &Program,
    rows: Vec<UnitRow>,
    known: Option<&Known<'_>>,
    compiled: &Compiled,
) -> Result<Evaluation, Vec<Diag>> {
    let detail = compiled.detail();
    let current = current_year(prog, &rows);
    // The periods in the order met, with the bytes of their ids (which
    // the index must hold) and whether a row names a parent: one pass over
    // the rows, which mostly hold one period.
    let mut parts: Vec<(Period, usize, bool)> = Vec::new();
    let mut last = 0;
    for (i, r) in rows.iter().enumerate() {
        let y = r.period.unwrap_or(current);
        if parts.get(last).is_none_or(|(p, _, _)| p.year != y) {
            last = match parts.iter().position(|(p, _, _)| p.year == y) {
                Some(k) => k,
                None => {
                    // The first period has room for every row.
                    let room = if parts.is_empty() { rows.len() } else { 0 };
                    let p = Period {
                        year: y,
                        rows: Vec::with_capacity(room),
                        ..Default::default()
                    };
                    parts.push((p, 0, false));
                    parts.len() - 1
                }
            };
        }
        let Some((p, bytes, parents)) = parts.get_mut(last) else {
            continue;
        };
        *bytes = bytes.saturating_add(r.id.len());
        if *bytes > crate::ids::LIMIT_KEY_BYTES || u32::try_from(p.rows.len()).is_err() {
            return Err(vec![Diag::error(
                codes::LIMIT,
                format!(
                    "the unit ids of period {y} take more than {} bytes",
                    crate::ids::LIMIT_KEY_BYTES
                ),
            )
            .help("split the data into several evaluations")]);
        }
        p.rows.push(i);
        p.award_facts |= r.awards.is_some();
        *parents |= r.parent.is_some();
    }
    let with_parents: Vec<i32> = parts
        .iter()
        .filter(|(_, _, parents)| *parents)
        .map(|(p, _, _)| p.year)
        .collect();
    let mut periods: BTreeMap<i32, Period> =
        parts.into_iter().map(|(p, _, _)| (p.year, p)).collect();
    periods.entry(current).or_insert_with(|| Period {
        year: current,
        ..Default::default()
    });
    let mut errors = Vec::new();
    for p in periods.values_mut() {
        p.members = vec![Vec::new(); p.rows.len()];
        // Without `parent` links there are no members, unknown parents or
        // cycles to look for.
        if !with_parents.contains(&p.year) {
            continue;
        }
        let index = index_of(&p.index, &p.rows, &rows);
        for (i, &r) in p.rows.iter().enumerate() {
            if let Some(parent) = &rows[r].parent {
                if let Some(pi) = index.get(parent) {
                    p.members[pi].push(i);
                }
            }
        }
        // Unknown parents, and cycles of parent links (linear: each unit
        // is walked once).
        let mut state = vec![0u8; p.rows.len()];
        for start in 0..p.rows.len() {
            let r = p.rows[start];
            if let Some(parent) = &rows[r].parent {
                if !index.contains_key(parent) {
                    let (file, row) = rows[r].place();
                    errors.push(
                        Diag::error(
                            codes::DATA,
                            format!(
                                "the parent `{parent}` of unit `{}` is not a unit of period {}",
                                rows[r].id, p.year
                            ),
                        )
                        .located(crate::diag::DataLocation {
                            file,
                            row,
                            column: Some("parent".into()),
                        })
                        .help(
                            "add a row for the parent in the same period, or leave `parent` empty",
                        ),
                    );
                }
            }
            let cycle = parent_walk(start, &mut state, |c| {
                rows[p.rows[c]].parent.as_ref().and_then(|x| index.get(x))
            });
            if let Some(&c) = cycle.first() {
                let r = p.rows[c];
                let (file, row) = rows[r].place();
                errors.push(
                    Diag::error(
                        codes::DATA,
                        format!("unit `{}` is its own ancestor through `parent`", rows[r].id),
                    )
                    .located(crate::diag::DataLocation {
                        file,
                        row,
                        column: Some("parent".into()),
                    })
                    .help("fix the `parent` column so the units form a tree"),
                );
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut ev = Evaluation {
        rows,
        periods,
        current,
        warnings: Vec::new(),
        detail,
    };
    let years: Vec<i32> = ev
        .periods
        .keys()
        .copied()
        .filter(|y| *y <= current)
        .collect();
    for y in years {
        if y != current && !prog.uses_history {
            continue;
        }
        evaluate_period(prog, &mut ev, y, known, compiled);
    }
    Ok(ev)
}

/// The year of the campaign's period: the plan's, else the data's last
/// (0 without either). Rows without a period belong to it.
pub fn current_year(prog: &Program, rows: &[UnitRow]) -> i32 {
    prog.info
        .year()
        .or_else(|| rows.iter().filter_map(|r| r.period).max())
        .unwrap_or(0)
}

/// One walk up the `parent` links from unit `start`, for finding cycles
/// in linear time over all starts: `state` is 0 for a unit not seen yet,
/// 1 on the walk under way, 2 done. The units of the cycle the walk
/// closes, from the one it met again (none when it closes none).
pub(crate) fn parent_walk(
    start: usize,
    state: &mut [u8],
    parent: impl Fn(usize) -> Option<usize>,
) -> Vec<usize> {
    let mut path = Vec::new();
    let mut cycle = Vec::new();
    let mut cur = Some(start);
    while let Some(c) = cur {
        match state.get(c).copied() {
            Some(0) => {
                if let Some(s) = state.get_mut(c) {
                    *s = 1;
                }
                path.push(c);
                cur = parent(c);
            }
            Some(1) => {
                let from = path.iter().position(|&u| u == c).unwrap_or(0);
                cycle = path.get(from..).unwrap_or_default().to_vec();
                break;
            }
            _ => break,
        }
    }
    for c in path {
        if let Some(s) = state.get_mut(c) {
            *s = 2;
        }
    }
    cycle
}

/// Units of a period with members before their collective.
fn member_order(p: &Period) -> Vec<usize> {
    if p.members.iter().all(Vec::is_empty) {
        return (0..p.rows.len()).collect();
    }
    let mut out = Vec::with_capacity(p.rows.len());
    let mut seen = vec![false; p.rows.len()];
    #[allow(
        clippy::indexing_slicing,
        reason = "indices range over one period's rows, states and members, which are built together with the same length"
    )]
    fn visit(i: usize, p: &Period, seen: &mut [bool], out: &mut Vec<usize>) {
        let mut stack = vec![(i, 0usize)];
        while let Some((u, k)) = stack.pop() {
            if k == 0 {
                if seen[u] {
                    continue;
                }
                seen[u] = true;
            }
            if let Some(&m) = p.members[u].get(k) {
                stack.push((u, k + 1));
                if !seen[m] {
                    stack.push((m, 0));
                }
            } else {
                out.push(u);
            }
        }
    }
    for i in 0..p.rows.len() {
        visit(i, p, &mut seen, &mut out);
    }
    out
}

#[allow(
    clippy::indexing_slicing,
    reason = "indices range over one period's rows, states and members, which are built together with the same length"
)]
fn evaluate_period(
    prog: &Program,
    ev: &mut Evaluation,
    year: i32,
    known: Option<&Known<'_>>,
    compiled: &Compiled,
) {
    let shift = ev.current - year;
    let full = ev.detail == Detail::Full;
    let Some(period) = ev.periods.get(&year) else {
        return;
    };
    let n = period.rows.len();
    let order = member_order(period);
    // Criteria, members first. Without members or history the units are
    // independent, so large periods are split across the cores.
    let unit_state = |cx: &expr::Cx, i: usize| {
        let mut st = UnitState {
            // (Neither allocates for a plan without lets or awards.)
            lets: std::iter::repeat_with(|| Value::Missing)
                .take(prog.lets.len())
                .collect(),
            awards: vec![false; prog.awards.len()].into(),
            crits: Vec::with_capacity(prog.criteria.len()),
            ..Default::default()
        };
        for &l in &prog.let_order {
            let v = cx.eval(&prog.lets[l].expr, i, &st);
            st.lets[l] = v;
        }
        let cells = cx.row(i).values.as_slice();
        for (k, c) in prog.criteria.iter().enumerate() {
            match compiled.target(k) {
                Some(t) => {
                    let status = compiled_status(cx, c, t, cells, i, &st);
                    if status != Status::NotApplicable && c.points.is_some() {
                        let mut r = CritResult::new(status);
                        add_points(cx, c, &mut r);
                        st.push(r);
                    } else {
                        st.crits.push(Slim {
                            status,
                            points: Points::NONE,
                        });
                    }
                }
                None => {
                    let r = criterion(cx, c, i, &st);
                    st.push(r);
                }
            }
        }
        st
    };
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .min(8);
    let mut evaluated = false;
    if !prog.uses_history && (threads == 1 || n < 4096) {
        // One chunk, in this thread.
        let states: Vec<UnitState> = {
            let cx = expr::Cx::new(prog, ev, year, shift);
            (0..n).map(|i| unit_state(&cx, i)).collect()
        };
        if let Some(p) = ev.periods.get_mut(&year) {
            p.states = states;
            evaluated = true;
        }
    } else if !prog.uses_history {
        // This thread evaluates the first part straight into the period's
        // vector while one worker per other core evaluates the rest; their
        // parts are appended in data order.
        let chunk = n.div_ceil(threads);
        let done = {
            let ev_ref: &Evaluation = ev;
            std::thread::scope(|scope| {
                let handles: Vec<_> = (chunk..n)
                    .step_by(chunk)
                    .map(|start| {
                        let unit_state = &unit_state;
                        scope.spawn(move || {
                            let cx = expr::Cx::new(prog, ev_ref, year, shift);
                            (start..(start + chunk).min(n))
                                .map(|i| unit_state(&cx, i))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                let mut states = Vec::with_capacity(n);
                let cx = expr::Cx::new(prog, ev_ref, year, shift);
                states.extend((0..chunk.min(n)).map(|i| unit_state(&cx, i)));
                // Join every worker before deciding (a scope panics on a
                // failed worker left unjoined).
                let joined: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
                let parts: Vec<Vec<UnitState>> =
                    joined.into_iter().collect::<Result<_, _>>().ok()?;
                states.extend(parts.into_iter().flatten());
                Some(states)
            })
        };
        // A worker that failed: evaluate in this thread instead.
        if let Some(states) = done {
            if let Some(p) = ev.periods.get_mut(&year) {
                p.states = states;
                evaluated = true;
            }
        }
    }
    if !evaluated {
        if let Some(p) = ev.periods.get_mut(&year) {
            p.states = vec![UnitState::default(); n];
        }
        for &i in &order {
            let st = {
                let cx = expr::Cx::new(prog, ev, year, shift);
                unit_state(&cx, i)
            };
            if let Some(p) = ev.periods.get_mut(&year) {
                p.states[i] = st;
            }
        }
    }
    relative_points(prog, ev, year);
    if prog.scoring.is_some() {
        if let Some(p) = ev.periods.get_mut(&year) {
            for st in &mut p.states {
                st.score = score(prog, st);
            }
        }
    }
    // Ranks.
    if let Some(rank) = &prog.rank {
        let keys: Vec<Vec<Value>> = (0..n)
            .map(|i| {
                let cx = expr::Cx::new(prog, ev, year, shift);
                let st = &ev.periods[&year].states[i];
                let mut k = vec![cx.eval(&rank.key, i, st)];
                for (e, _) in &rank.then {
                    k.push(cx.eval(e, i, st));
                }
                k
            })
            .collect();
        if let Some(p) = ev.periods.get_mut(&year) {
            match known {
                // A chunk of a pass: the ranks are of the whole data, or
                // not known yet.
                Some(k) => {
                    if let Some(ranks) = k.ranks {
                        for (st, &r) in p.states.iter_mut().zip(ranks) {
                            st.rank = (r > 0).then_some(r);
                        }
                    }
                }
                None => {
                    let desc = key_order(prog);
                    for members in group_by_rows(&ev.rows, p, rank.within).values() {
                        competition_ranks(
                            members,
                            |i| &keys[i],
                            &desc,
                            |i, r| p.states[i].rank = Some(r),
                        );
                    }
                }
            }
            for (i, k) in keys.into_iter().enumerate() {
                p.states[i].trace_mut().rank_key = k;
            }
        }
    }
    // Rating.
    if let Some(rating) = &prog.rating {
        for &i in &order {
            let (chosen, trace) = {
                let cx = expr::Cx::new(prog, ev, year, shift);
                let st = &ev.periods[&year].states[i];
                let mut trace = Vec::new();
                let mut chosen = None;
                for (bi, b) in rating.branches.iter().enumerate() {
                    match &b.cond {
                        None => {
                            chosen = Some(bi);
                            trace.push((bi, Value::Bool(true)));
                            break;
                        }
                        Some(c) => {
                            let v = cx.eval(c, i, st);
                            let hit = v == Value::Bool(true);
                            trace.push((bi, v));
                            if hit {
                                chosen = Some(bi);
                                break;
                            }
                        }
                    }
                }
                (chosen, trace)
            };
            if let Some(p) = ev.periods.get_mut(&year) {
                p.states[i].rating = chosen;
                if full {
                    p.states[i].trace_mut().rating = trace;
                }
            }
        }
    }
    // A chunk of a pass that has not decided the limited awards yet.
    if known.is_some_and(|k| k.awards.is_none()) {
        return;
    }
    // Awards, in declaration order.
    if prog.awards.is_empty() {
        return;
    }
    // A past period's `awards` cell gives that unit's awards as facts.
    let facts: Vec<Option<&Vec<String>>> = (0..n)
        .map(|i| {
            if year == ev.current {
                return None;
            }
            let r = ev.periods[&year].rows[i];
            ev.rows[r].awards.as_ref()
        })
        .collect();
    let facts: Vec<Option<Vec<String>>> = facts.into_iter().map(|f| f.cloned()).collect();
    for (ai, award) in prog.awards.iter().enumerate() {
        let conds: Vec<Value> = order
            .iter()
            .map(|&i| {
                let cx = expr::Cx::new(prog, ev, year, shift);
                let st = &ev.periods[&year].states[i];
                match &award.when {
                    None => Value::Bool(true),
                    Some(c) => cx.eval(c, i, st),
                }
            })
            .collect();
        let mut cond_of = vec![Value::Missing; n];
        for (k, &i) in order.iter().enumerate() {
            cond_of[i] = conds[k].clone();
        }
        let eligible: Vec<bool> = cond_of.iter().map(|v| *v == Value::Bool(true)).collect();
        let mut granted = eligible.clone();
        let mut notes = vec![String::new(); n];
        match (&award.limit, known.and_then(|k| k.awards.as_ref())) {
            (None, _) => {}
            // A chunk of the last pass: decided over the whole data.
            (Some((_, per)), Some(d)) => {
                let p = &ev.periods[&year];
                for i in 0..n {
                    granted[i] = d.grants.get(i).is_some_and(|g| g >> ai & 1 == 1);
                    if eligible[i] && !granted[i] {
                        let g = ev.rows[p.rows[i]].field(*per).unwrap_or("");
                        let cap = d.caps.get(ai).and_then(|c| c.get(g)).copied().unwrap_or(0);
                        notes[i] = limit_note(cap, g);
                    }
                }
            }
            (Some((limit, per)), None) => {
                let p = &ev.periods[&year];
                let desc = key_order(prog);
                let ids: Vec<&str> = p.rows.iter().map(|&r| ev.rows[r].id.as_str()).collect();
                let states = &p.states;
                for (gname, members) in &group_by_rows(&ev.rows, p, *per) {
                    let cap = match limit {
                        LimitSpec::Count(c) => c.trunc().try_into().unwrap_or(0usize),
                        LimitSpec::Share(share, of) => {
                            let base = match of {
                                None => members.len(),
                                Some(c) => members
                                    .iter()
                                    .filter(|&&i| {
                                        let cx = expr::Cx::new(prog, ev, year, shift);
                                        cx.eval(c, i, &states[i]) == Value::Bool(true)
                                    })
                                    .count(),
                            };
                            share_cap(*share, base)
                        }
                    };
                    let cut = limit_cut(
                        members.iter().copied().filter(|&i| eligible[i]).collect(),
                        cap,
                        |i| states[i].rank_key(),
                        |i| ids[i],
                        &desc,
                    );
                    if let Some(tied) = cut.tied.filter(|_| year == ev.current) {
                        ev.warnings.push(tie_warning(award, &tied, cap, gname));
                    }
                    for c in cut.out {
                        granted[c] = false;
                        notes[c] = limit_note(cap, gname);
                    }
                }
            }
        }
        for i in 0..n {
            if let Some(f) = &facts[i] {
                granted[i] = f.contains(&award.id);
                notes[i] = "given as a fact in the data's `awards` column".into();
            }
        }
        if let Some(p) = ev.periods.get_mut(&year) {
            for i in 0..n {
                p.states[i].awards[ai] = granted[i];
                if !full {
                    // Statuses only: the decisions' notes are for `explain`.
                    continue;
                }
                let note = if !notes[i].is_empty() {
                    notes[i].clone()
                } else if cond_of[i].is_missing() {
                    "the condition is missing (some data is missing), so it counts as false".into()
                } else if granted[i] {
                    "the condition holds".into()
                } else {
                    "the condition does not hold".into()
                };
                p.states[i].trace_mut().awards.push(AwardDecision {
                    award: ai,
                    condition: cond_of[i].clone(),
                    granted: granted[i],
                    note,
                });
            }
        }
    }
}

#[allow(
    clippy::indexing_slicing,
    reason = "indices range over one period's rows, states and members, which are built together with the same length"
)]
fn group_by(ev: &Evaluation, year: i32, f: Field) -> BTreeMap<String, Vec<usize>> {
    ev.periods
        .get(&year)
        .map(|p| group_by_rows(&ev.rows, p, f))
        .unwrap_or_default()
}

/// The units of a period by the value of `f` (empty when absent), in
/// order of that value.
#[allow(
    clippy::indexing_slicing,
    reason = "a period's rows are indices into the evaluation's rows"
)]
fn group_by_rows(rows: &[UnitRow], p: &Period, f: Field) -> BTreeMap<String, Vec<usize>> {
    let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, &r) in p.rows.iter().enumerate() {
        let key = rows[r].field(f).unwrap_or("");
        match out.get_mut(key) {
            Some(v) => v.push(i),
            None => {
                out.insert(key.to_string(), vec![i]);
            }
        }
    }
    out
}

/// Which parts of the rank key are ascending (the first never is).
fn key_order(prog: &Program) -> Vec<bool> {
    prog.rank
        .as_ref()
        .map(|r| {
            std::iter::once(false)
                .chain(r.then.iter().map(|(_, asc)| *asc))
                .collect()
        })
        .unwrap_or_default()
}

/// Competition ranking (1, 2, 2, 4) of one group: sort once, then a
/// unit's rank is one more than the number of units strictly better.
/// `rank` is told each member's rank.
#[allow(
    clippy::indexing_slicing,
    reason = "positions range over the sorted copy of `members`"
)]
fn competition_ranks<'k>(
    members: &[usize],
    key: impl Fn(usize) -> &'k [Value],
    desc: &[bool],
    mut rank: impl FnMut(usize, u32),
) {
    let mut sorted = members.to_vec();
    sorted.sort_by(|&a, &b| compare_keys(key(a), key(b), desc));
    let mut r = 1u32;
    for (pos, &i) in sorted.iter().enumerate() {
        if pos > 0 && compare_keys(key(sorted[pos - 1]), key(i), desc) != Ordering::Equal {
            r = pos as u32 + 1;
        }
        rank(i, r);
    }
}

/// How many units `limit N% of …` lets through out of `base`.
fn share_cap(share: Decimal, base: usize) -> usize {
    share
        .saturating_mul(Decimal::from(base))
        .floor()
        .try_into()
        .unwrap_or(usize::MAX)
}

/// Which of a group's eligible units a limited award leaves out.
struct Cut<'i> {
    /// Beyond the limit, best first.
    out: Vec<usize>,
    /// The ids tied at the limit, when the last one in and the first one
    /// out have the same rank key.
    tied: Option<Vec<&'i str>>,
}

/// Sort the eligible units `cands` of one group best first (by rank key,
/// then by id) and cut them at `cap`.
#[allow(
    clippy::indexing_slicing,
    reason = "`cap` is checked against the number of candidates first"
)]
fn limit_cut<'k, 'i>(
    mut cands: Vec<usize>,
    cap: usize,
    key: impl Fn(usize) -> &'k [Value],
    id: impl Fn(usize) -> &'i str,
    desc: &[bool],
) -> Cut<'i> {
    if cands.len() <= cap {
        return Cut {
            out: Vec::new(),
            tied: None,
        };
    }
    cands.sort_by(|&a, &b| compare_keys(key(a), key(b), desc).then_with(|| id(a).cmp(id(b))));
    let mut tied = None;
    if cap > 0 {
        let last = key(cands[cap - 1]);
        if compare_keys(last, key(cands[cap]), desc) == Ordering::Equal {
            tied = Some(
                cands
                    .iter()
                    .filter(|&&c| compare_keys(key(c), last, desc) == Ordering::Equal)
                    .map(|&c| id(c))
                    .collect(),
            );
        }
    }
    Cut {
        out: cands.split_off(cap),
        tied,
    }
}

/// Why an eligible unit did not get a limited award.
fn limit_note(cap: usize, group: &str) -> String {
    format!(
        "eligible, but the limit of {cap} in {} was reached by better-ranked units",
        if group.is_empty() {
            "its group".into()
        } else {
            format!("`{group}`")
        }
    )
}

/// The warning for units tied at a limited award's limit.
fn tie_warning(award: &AwardSpec, tied: &[&str], cap: usize, group: &str) -> Diag {
    let group = if group.is_empty() {
        "the units with no group".to_string()
    } else {
        format!("`{group}`")
    };
    Diag::warning(
        codes::TIE_AT_LIMIT,
        format!(
            "award `{}`: {} are tied at the limit of {cap} in {group}; the smallest id wins",
            award.id,
            name_list(tied)
        ),
    )
    .at(award.span)
    .help("add a `then by` key to `rank`, or decide the tie in the plan")
}

/// Best first: higher is better unless the key is ascending; missing last.
pub fn compare_keys(a: &[Value], b: &[Value], asc: &[bool]) -> Ordering {
    for (k, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        let ascending = asc.get(k).copied().unwrap_or(false);
        let o = match (x.is_missing(), y.is_missing()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => {
                let o = expr::cmp_values(x, y).unwrap_or(Ordering::Equal);
                if ascending {
                    o
                } else {
                    o.reverse()
                }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Whether a criterion's points are computed from its actual and goal
/// (not only from its status).
fn needs_values(c: &Criterion) -> bool {
    c.points
        .as_ref()
        .map(|p| p.mode != PointsMode::Plain || p.bonus.is_some() || p.penalty.is_some())
        .unwrap_or(false)
}

fn applies(cx: &expr::Cx, c: &Criterion, i: usize, st: &UnitState) -> bool {
    c.applies
        .iter()
        .all(|e| cx.eval(e, i, st) == Value::Bool(true))
}

/// The status [`criterion`] gives a target compiled for statuses only.
#[inline]
fn compiled_status(
    cx: &expr::Cx,
    c: &Criterion,
    t: &compiled::Node,
    cells: &[Value],
    i: usize,
    st: &UnitState,
) -> Status {
    if !c.applies.is_empty() && !applies(cx, c, i, st) {
        return Status::NotApplicable;
    }
    compiled::node_status(cx, t, cells, i, st)
}

/// Round the points of a criterion other than an adjustment.
fn add_points(cx: &expr::Cx, c: &Criterion, out: &mut CritResult) {
    if let Some(spec) = &c.points {
        let precision = cx.prog.scoring.as_ref().map(|s| s.precision).unwrap_or(2);
        let (p, _) = points(spec, &c.kind, out.view());
        out.set_points(Some(round_half_away(p, precision)));
    }
}

fn criterion(cx: &expr::Cx, c: &Criterion, i: usize, st: &UnitState) -> CritResult {
    let mut out = CritResult::new(Status::NotApplicable);
    if !applies(cx, c, i, st) {
        return out;
    }
    match &c.kind {
        CritKind::Target(t) => {
            out.node = if cx.ev.detail == Detail::Statuses && !needs_values(c) {
                NodeResult::bare(tstatus(cx, t, i, st))
            } else {
                tnode(cx, t, i, st)
            }
        }
        CritKind::Deadline(d) => {
            let date = cx.eval(&d.date, i, st);
            let due = cx.eval(&d.due, i, st);
            let mut node = NodeResult::bare(Status::Missing);
            let mut detail = NodeDetail::default();
            let mut days_late = None;
            if let (Value::Date(a), Value::Date(b)) = (&date, &due) {
                let gap = (*a - *b).num_days();
                let late = if d.before { gap + 1 } else { gap };
                node.status = if late > 0 { Status::Late } else { Status::Met };
                detail.measure = Some(Measure {
                    op: CmpOp::Le,
                    numeric: false,
                });
                days_late = Some(late.max(0));
            }
            if cx.ev.detail == Detail::Full {
                detail.goal = Some(due);
                detail.actual = if date.is_missing() { None } else { Some(date) };
                node.detail = Some(Box::new(detail));
            }
            out.node = node;
            if days_late.is_some() {
                out.extra_mut().days_late = days_late;
            }
        }
        CritKind::Checklist(cl) => {
            let row = cx.row(i);
            // Statuses only: the count, unless points are made from more.
            let keep = cx.ev.detail == Detail::Full || needs_values(c);
            let mut items = Vec::with_capacity(if keep { cl.items.len() } else { 0 });
            let mut yes = 0;
            let mut unknown = 0;
            for item in &cl.items {
                let v = row.values.get(item.slot).cloned().unwrap_or_default();
                let v = if v.is_missing()
                    && cx
                        .prog
                        .indicators
                        .get(item.slot)
                        .map(|x| x.blank_false)
                        .unwrap_or(false)
                {
                    Value::Bool(false)
                } else {
                    v
                };
                match v {
                    Value::Bool(true) => yes += 1,
                    Value::Bool(false) => {}
                    _ => unknown += 1,
                }
                if keep {
                    items.push(v);
                }
            }
            let status = if yes >= cl.require {
                Status::Met
            } else if yes + unknown < cl.require {
                Status::NotMet
            } else {
                Status::Missing
            };
            out.node = NodeResult::bare(status);
            let extra = out.extra_mut();
            extra.items_met = Some(yes);
            if keep {
                extra.items = items;
                let d = out.node.detail_mut();
                d.actual = Some(Value::Num(Decimal::from(yes)));
                d.goal = Some(Value::Num(Decimal::from(cl.require)));
            }
        }
        CritKind::Adjust(a) => {
            let (status, pts) = match a {
                AdjustSpec::When { amount, cond } => match cx.eval(cond, i, st) {
                    Value::Bool(true) => (Status::Met, *amount),
                    Value::Bool(false) => (Status::NotMet, Decimal::ZERO),
                    _ => (Status::Missing, Decimal::ZERO),
                },
                AdjustSpec::Per { amount, count, max } => match cx.eval(count, i, st) {
                    Value::Num(n) => {
                        // A count of occurrences below zero is no
                        // occurrence: 0 points, not the amount turned
                        // around (docs/language-notes.md).
                        let mut p = amount
                            .checked_mul(n.max(Decimal::ZERO))
                            .unwrap_or(Decimal::ZERO);
                        if let Some(m) = max {
                            if p.abs() > *m {
                                p = if p < Decimal::ZERO { -*m } else { *m };
                            }
                        }
                        out.node.detail_mut().actual = Some(Value::Num(n));
                        (
                            if n > Decimal::ZERO {
                                Status::Met
                            } else {
                                Status::NotMet
                            },
                            p,
                        )
                    }
                    _ => (Status::Missing, Decimal::ZERO),
                },
            };
            out.node.status = status;
            let precision = cx.prog.scoring.as_ref().map(|s| s.precision).unwrap_or(2);
            out.set_points(Some(round_half_away(pts, precision)));
            return out;
        }
    }
    add_points(cx, c, &mut out);
    out
}

/// The status of `actual OP goal` (with the band's `high`), all present.
fn compare_status(op: CmpOp, a: &Value, g: &Value, h: Option<&Value>) -> Status {
    let o = expr::cmp_values(a, g).unwrap_or(Ordering::Equal);
    match (op, h) {
        (CmpOp::Ge, Some(h)) => {
            if expr::cmp_values(a, h) == Some(Ordering::Greater) {
                Status::Exceeded
            } else if o != Ordering::Less {
                Status::Met
            } else {
                Status::NotMet
            }
        }
        _ => order_status(op, o),
    }
}

/// The status of `actual OP goal` from how actual compares with goal
/// (no band).
#[inline]
fn order_status(op: CmpOp, o: Ordering) -> Status {
    let yes_no = |b: bool| if b { Status::Met } else { Status::NotMet };
    match op {
        CmpOp::Ge => match o {
            Ordering::Greater => Status::Exceeded,
            Ordering::Equal => Status::Met,
            Ordering::Less => Status::NotMet,
        },
        CmpOp::Le => match o {
            Ordering::Less => Status::Exceeded,
            Ordering::Equal => Status::Met,
            Ordering::Greater => Status::NotMet,
        },
        CmpOp::Gt => yes_no(o == Ordering::Greater),
        CmpOp::Lt => yes_no(o == Ordering::Less),
        CmpOp::Eq => yes_no(o == Ordering::Equal),
        CmpOp::Ne => yes_no(o != Ordering::Equal),
    }
}

/// The status of `actual in lo .. hi`, all present.
fn interval_status(a: &Value, l: &Value, h: &Value) -> Status {
    let inside = expr::cmp_values(a, l) != Some(Ordering::Less)
        && expr::cmp_values(a, h) != Some(Ordering::Greater);
    if inside {
        Status::Met
    } else {
        Status::NotMet
    }
}

/// A group's status from its children's.
fn group_status(kind: &GroupKind, kids: impl Iterator<Item = Status>) -> Status {
    // Statuses of one rank differ only in `late` / `not_applicable`, which
    // become `not_met` / `missing` below: any of them will do.
    let status = match kind {
        GroupKind::All => kids.min_by_key(|s| s.rank()).unwrap_or(Status::Met),
        GroupKind::Any => kids.max_by_key(|s| s.rank()).unwrap_or(Status::NotMet),
        GroupKind::AtLeast(n) => {
            let mut ranks: Vec<Status> = kids.collect();
            ranks.sort_by_key(|s| std::cmp::Reverse(s.rank()));
            let n = (*n as usize).max(1);
            ranks.get(n - 1).copied().unwrap_or(Status::NotMet)
        }
    };
    match status {
        Status::Late => Status::NotMet,
        Status::NotApplicable => Status::Missing,
        s => s,
    }
}

#[inline]
fn cond_status(v: &Value) -> Status {
    match v {
        Value::Bool(true) => Status::Met,
        Value::Bool(false) => Status::NotMet,
        _ => Status::Missing,
    }
}

/// The status of a target's condition alone, with no values kept: what
/// [`Detail::Statuses`] evaluates.
fn tstatus(cx: &expr::Cx, t: &TNode, i: usize, st: &UnitState) -> Status {
    match t {
        TNode::Cond(e) => cond_status(&cx.eval(e, i, st)),
        TNode::Compare {
            actual,
            op,
            goal,
            high,
            ..
        } => {
            let a = cx.operand(actual, i, st);
            if a.is_missing() {
                return Status::Missing;
            }
            let g = cx.operand(goal, i, st);
            if g.is_missing() {
                return Status::Missing;
            }
            let h = high.as_ref().map(|h| cx.operand(h, i, st));
            if h.as_ref().map(|h| h.is_missing()).unwrap_or(false) {
                return Status::Missing;
            }
            compare_status(*op, &a, &g, h.as_deref())
        }
        TNode::Interval { actual, lo, hi, .. } => {
            let (a, l, h) = (
                cx.operand(actual, i, st),
                cx.operand(lo, i, st),
                cx.operand(hi, i, st),
            );
            if a.is_missing() || l.is_missing() || h.is_missing() {
                return Status::Missing;
            }
            interval_status(&a, &l, &h)
        }
        TNode::Group { kind, children } => {
            group_status(kind, children.iter().map(|(_, n, _)| tstatus(cx, n, i, st)))
        }
    }
}

fn tnode(cx: &expr::Cx, t: &TNode, i: usize, st: &UnitState) -> NodeResult {
    match t {
        // The condition's own value is its actual.
        TNode::Cond(e) => {
            let v = cx.eval(e, i, st);
            let mut node = NodeResult::bare(cond_status(&v));
            if !v.is_missing() {
                node.detail_mut().actual = Some(v);
            }
            node
        }
        TNode::Compare {
            actual,
            op,
            goal,
            high,
            ty,
            ..
        } => {
            let a = cx.eval(actual, i, st);
            let g = cx.eval(goal, i, st);
            let h = high.as_ref().map(|h| cx.eval(h, i, st));
            let mut node = NodeResult::bare(Status::Missing);
            let missing = a.is_missing()
                || g.is_missing()
                || h.as_ref().map(|v| v.is_missing()).unwrap_or(false);
            if !missing {
                node.status = compare_status(*op, &a, &g, h.as_ref());
            }
            let d = node.detail_mut();
            d.goal = if g.is_missing() { None } else { Some(g) };
            d.high = h.filter(|v| !v.is_missing());
            if missing {
                d.actual = if a.is_missing() { None } else { Some(a) };
                return node;
            }
            d.measure = Some(Measure {
                op: *op,
                numeric: matches!(
                    ty,
                    crate::value::Type::Number
                        | crate::value::Type::Percent
                        | crate::value::Type::Quantity(_)
                ),
            });
            d.actual = Some(a);
            node
        }
        TNode::Interval { actual, lo, hi, .. } => {
            let a = cx.eval(actual, i, st);
            let l = cx.eval(lo, i, st);
            let h = cx.eval(hi, i, st);
            let mut node = NodeResult::bare(Status::Missing);
            if !(a.is_missing() || l.is_missing() || h.is_missing()) {
                node.status = interval_status(&a, &l, &h);
            }
            let d = node.detail_mut();
            d.goal = if l.is_missing() { None } else { Some(l) };
            d.high = if h.is_missing() { None } else { Some(h) };
            d.actual = if a.is_missing() { None } else { Some(a) };
            node
        }
        TNode::Group { kind, children } => {
            let kids: Vec<NodeResult> = children
                .iter()
                .map(|(_, n, _)| tnode(cx, n, i, st))
                .collect();
            let mut node = NodeResult::bare(group_status(kind, kids.iter().map(|k| k.status)));
            node.detail_mut().children = kids;
            node
        }
    }
}

/// Points of one criterion: base + bonus − penalty, before rounding.
fn points(spec: &PointsSpec, kind: &CritKind, r: Crit<'_>) -> (Decimal, PointsTrace) {
    let n = spec.n;
    let status = r.status();
    let mut t = PointsTrace::default();
    let met = status.is_met();
    t.base = match spec.mode {
        PointsMode::Plain | PointsMode::Relative if met => n,
        PointsMode::Proportional if met => n,
        PointsMode::Proportional => {
            let a = r
                .node
                .achievement()
                .unwrap_or(Decimal::ZERO)
                .clamp(Decimal::ZERO, Decimal::ONE);
            t.note = Note::Proportional { n, achievement: a };
            n.saturating_mul(a)
        }
        PointsMode::PerItem => {
            let total = match kind {
                CritKind::Checklist(c) => c.items.len(),
                _ => 1,
            };
            let yes = r.items_met().unwrap_or(0);
            t.note = Note::PerItem { n, total, met: yes };
            n.saturating_mul(Decimal::from(yes))
                .checked_div(Decimal::from(total.max(1)))
                .unwrap_or(Decimal::ZERO)
        }
        _ => Decimal::ZERO,
    };
    if status == Status::Missing {
        t.note = Note::Missing;
    }
    if let (Some(b), Status::Exceeded) = (&spec.bonus, status) {
        let reference = r.node.high().or(r.node.goal());
        if let (Some(Value::Num(a)), Some(Value::Num(g))) = (r.node.actual(), reference) {
            let steps = steps_between(*a, *g, b.step).floor();
            let mut bonus = b.amount.saturating_mul(steps);
            if let Some(m) = b.max {
                bonus = bonus.min(m);
            }
            t.bonus = bonus;
        }
    }
    if let Some(p) = &spec.penalty {
        let steps = match (status, kind) {
            (Status::Late, CritKind::Deadline(_)) => Decimal::from(r.days_late().unwrap_or(0))
                .checked_div(p.step)
                .map(|x| x.ceil()),
            (Status::NotMet, CritKind::Target(_)) => match (r.node.actual(), r.node.goal()) {
                (Some(Value::Num(a)), Some(Value::Num(g))) => {
                    Some(steps_between(*g, *a, p.step).ceil())
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(steps) = steps {
            // Without `max` the deduction stops at N: "points go below
            // zero only when a drafter sets M above N" (LANGUAGE.md §5).
            let d = p.amount.saturating_mul(steps).min(p.max.unwrap_or(n));
            t.base = n;
            t.penalty = d;
            t.note = Note::Penalty {
                n,
                amount: p.amount,
                steps,
            };
        }
    }
    t.unrounded = t.base.saturating_add(t.bonus).saturating_sub(t.penalty);
    (t.unrounded, t)
}

/// |a − b| ÷ step, saturating instead of overflowing on absurd inputs.
fn steps_between(a: Decimal, b: Decimal, step: Decimal) -> Decimal {
    a.saturating_sub(b)
        .abs()
        .checked_div(step)
        .unwrap_or(Decimal::MAX)
}

/// `points N relative`: measured against the best unit of the group.
#[allow(
    clippy::indexing_slicing,
    reason = "indices range over one period's rows, states and members, which are built together with the same length"
)]
fn relative_points(prog: &Program, ev: &mut Evaluation, year: i32) {
    let within = prog.rank.as_ref().map(|r| r.within).unwrap_or(Field::Bloc);
    let precision = prog.scoring.as_ref().map(|s| s.precision).unwrap_or(2);
    let relative = |c: &Criterion| {
        c.points
            .as_ref()
            .map(|p| p.mode == PointsMode::Relative)
            .unwrap_or(false)
    };
    if !prog.criteria.iter().any(relative) {
        return;
    }
    let groups = group_by(ev, year, within);
    let two = Decimal::TWO;
    for (ci, c) in prog.criteria.iter().enumerate() {
        let Some(spec) = &c.points else { continue };
        if spec.mode != PointsMode::Relative {
            continue;
        }
        let Some(p) = ev.periods.get_mut(&year) else {
            return;
        };
        for members in groups.values() {
            let best = members
                .iter()
                .filter_map(|&i| p.states[i].criterion(ci))
                .filter(|r| r.status() == Status::Exceeded)
                .filter_map(|r| r.node.achievement())
                .max();
            for &i in members {
                p.states[i].edit(ci, |r| {
                    let half = spec.n / two;
                    let a = r.node.node().achievement();
                    let base = match (r.node.status, a, best) {
                        (Status::Exceeded, Some(a), Some(b)) if a >= b => spec.n,
                        (Status::Exceeded, Some(a), Some(b)) if b > Decimal::ONE => half
                            .saturating_add(
                                half.saturating_mul(a.saturating_sub(Decimal::ONE))
                                    .checked_div(b.saturating_sub(Decimal::ONE))
                                    .unwrap_or(Decimal::ZERO),
                            ),
                        (Status::Met, _, _) => half,
                        (Status::NotMet, Some(a), _) => {
                            half.saturating_mul(a.clamp(Decimal::ZERO, Decimal::ONE))
                        }
                        (Status::Exceeded, _, _) => spec.n,
                        _ => Decimal::ZERO,
                    };
                    let (_, t) = points(spec, &c.kind, r.view());
                    let unrounded = base.saturating_add(t.bonus).saturating_sub(t.penalty);
                    r.extra_mut().relative_base = Some(base);
                    r.set_points(Some(round_half_away(unrounded, precision)));
                });
            }
        }
    }
}

fn score(prog: &Program, st: &UnitState) -> Option<Decimal> {
    let scoring = prog.scoring.as_ref()?;
    let mut sum = Decimal::ZERO;
    let mut max = Decimal::ZERO;
    for (c, r) in prog.criteria.iter().zip(st.criteria()) {
        if r.status() == Status::NotApplicable {
            continue;
        }
        if let Some(p) = r.points() {
            sum = sum.saturating_add(p);
        }
        if !matches!(c.kind, CritKind::Adjust(_)) {
            if let Some(m) = r.max_points(c) {
                max = max.saturating_add(m);
            }
        }
    }
    if let Some(norm) = scoring.normalize {
        if max.is_zero() {
            return Some(Decimal::ZERO);
        }
        sum = round_half_away(
            sum.saturating_mul(norm)
                .checked_div(max)
                .unwrap_or(Decimal::ZERO),
            scoring.precision,
        );
    }
    Some(round_half_away(sum, scoring.precision))
}

/// A date literal shifted back by whole years (29/02 becomes 28/02).
pub fn shift_date(d: chrono::NaiveDate, years: i32) -> chrono::NaiveDate {
    if years == 0 {
        return d;
    }
    let y = d.year() - years;
    d.with_year(y)
        .or_else(|| chrono::NaiveDate::from_ymd_opt(y, d.month(), 28))
        .unwrap_or(d)
}

/// Evaluate a test's expectation after the evaluation.
pub fn eval_after(prog: &Program, ev: &Evaluation, e: &IExpr) -> Value {
    let cx = expr::Cx::new(prog, ev, ev.current, 0);
    let st = UnitState::default();
    cx.eval(e, usize::MAX, &st)
}

/// The member counts, streak periods and history reads behind a condition,
/// for one unit of the campaign's period.
pub fn condition_details(prog: &Program, ev: &Evaluation, unit: &str, e: &IExpr) -> Vec<String> {
    let mut out = Vec::new();
    let Some(p) = ev.periods.get(&ev.current) else {
        return out;
    };
    let Some(i) = p.unit_index(&ev.rows).get(unit) else {
        return out;
    };
    let cx = expr::Cx::new(prog, ev, ev.current, 0);
    if let Some(st) = p.states.get(i) {
        cx.details(e, i, st, &mut out);
    }
    out
}

/// At most ten names in backticks, then how many more.
fn name_list(names: &[&str]) -> String {
    let mut s = names
        .iter()
        .take(10)
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 10 {
        s.push_str(&format!(" and {} more", names.len() - 10));
    }
    s
}

/// How a criterion's points were computed, made again from its result
/// (`explain`): the evaluation itself keeps only the points.
pub fn points_trace(c: &Criterion, r: Crit<'_>) -> Option<PointsTrace> {
    if let CritKind::Adjust(_) = c.kind {
        let p = r.points()?;
        return Some(PointsTrace {
            base: p,
            unrounded: p,
            ..Default::default()
        });
    }
    let spec = c.points.as_ref()?;
    if r.status() == Status::NotApplicable {
        return None;
    }
    let (_, mut t) = points(spec, &c.kind, r);
    if let Some(base) = r.relative_base() {
        t.base = base;
        t.note = Note::Relative;
        t.unrounded = base.saturating_add(t.bonus).saturating_sub(t.penalty);
    }
    Some(t)
}

/// Why criterion `c` is missing for one unit although the data it reads
/// is there: each computation of its target or deadline whose operands are
/// present but whose result is not (a division by zero, a number or a
/// date out of range), in words, for `explain`.
pub fn missing_reasons(prog: &Program, ev: &Evaluation, unit: &str, c: &Criterion) -> Vec<String> {
    // The computations of targets and deadlines.
    let exprs = match &c.kind {
        CritKind::Target(_) | CritKind::Deadline(_) => c.kind.exprs(),
        _ => Vec::new(),
    };
    let value = |e: &IExpr| condition_value(prog, ev, unit, e);
    let mut out = Vec::<String>::new();
    let mut seen_lets = vec![false; prog.lets.len()];
    let mut stack: Vec<&IExpr> = exprs;
    while let Some(e) = stack.pop() {
        let why = match e {
            IExpr::Arith(op, a, b) => {
                let (x, y) = (value(a), value(b));
                (!x.is_missing() && !y.is_missing() && value(e).is_missing()).then(|| {
                    match (op, &y) {
                        (Arith::Div, Value::Num(d)) if d.is_zero() => {
                            "a division by zero".to_string()
                        }
                        _ => "a number too large for a decimal".to_string(),
                    }
                })
            }
            IExpr::DateAdd { date, dur, sub, .. } => {
                let (d, n) = (value(date), value(dur));
                match d {
                    Value::Date(day) if !n.is_missing() && value(e).is_missing() => Some(format!(
                        "a date out of range ({} {} a duration too long)",
                        day.format("%d/%m/%Y"),
                        if *sub { "minus" } else { "plus" }
                    )),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(w) = why.filter(|w| !out.contains(w)) {
            out.push(w);
        }
        match e {
            // Read in another period or of other units: their values here
            // would not be the ones computed.
            IExpr::Previous(_) | IExpr::At(..) | IExpr::Streak(_) | IExpr::Agg { .. } => {}
            // A `let` the condition reads: its own computations.
            IExpr::Let(k) => {
                if let (Some(s @ false), Some(l)) = (seen_lets.get_mut(*k), prog.lets.get(*k)) {
                    *s = true;
                    stack.push(&l.expr);
                }
            }
            _ => e.for_each_child(&mut |c| stack.push(c)),
        }
    }
    out
}

/// The value of a condition for one unit of the campaign's period, after
/// the evaluation (`explain`).
pub fn condition_value(prog: &Program, ev: &Evaluation, unit: &str, e: &IExpr) -> Value {
    let Some(p) = ev.periods.get(&ev.current) else {
        return Value::Missing;
    };
    let Some(i) = p.unit_index(&ev.rows).get(unit) else {
        return Value::Missing;
    };
    let cx = expr::Cx::new(prog, ev, ev.current, 0);
    match p.states.get(i) {
        Some(st) => cx.eval(e, i, st),
        None => Value::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_kept_result_is_8_bytes_and_a_state_112() {
        assert_eq!(std::mem::size_of::<Slim>(), 8);
        assert_eq!(std::mem::size_of::<CritResult>(), 16);
        assert_eq!(std::mem::size_of::<UnitState>(), 112);
    }

    fn roundtrip(p: Option<Decimal>) -> Option<Decimal> {
        let mut r = CritResult::new(Status::Met);
        r.set_points(p);
        r.view().points()
    }

    #[test]
    fn no_points_is_not_a_decimal() {
        assert_eq!(Points::NONE.get(), PointsSlot::None);
        assert_eq!(roundtrip(None), None);
        for d in [Decimal::ZERO, -Decimal::ZERO, Decimal::MAX, Decimal::MIN] {
            assert_eq!(roundtrip(Some(d)), Some(d));
        }
        // Wide points replaced by small ones, and by none.
        let mut r = CritResult::new(Status::Met);
        r.set_points(Some(Decimal::MAX));
        r.set_points(Some(Decimal::ONE));
        assert_eq!(r.view().points(), Some(Decimal::ONE));
        assert_eq!(r.view().extra().and_then(|e| e.wide_points), None);
        r.set_points(Some(Decimal::MIN));
        r.set_points(None);
        assert_eq!(r.view().points(), None);
    }

    proptest! {
        /// Small points (kept in the node) come back as they went in.
        #[test]
        fn small_points_keep_their_decimal(m in 0u64..(1 << 49), neg: bool, scale in 0u32..=28) {
            let d = Decimal::from_parts(m as u32, (m >> 32) as u32, 0, neg, scale);
            let back = roundtrip(Some(d));
            prop_assert_eq!(back, Some(d));
            let back = back.unwrap_or_default();
            prop_assert_eq!(back.scale(), d.scale());
            prop_assert_eq!(back.is_sign_negative(), d.is_sign_negative());
        }

        /// Value, scale and sign come back as they went in.
        #[test]
        fn points_keep_their_decimal(lo: u32, mid: u32, hi: u32, neg: bool, scale in 0u32..=28) {
            let d = Decimal::from_parts(lo, mid, hi, neg, scale);
            let back = roundtrip(Some(d));
            prop_assert_eq!(back, Some(d));
            let back = back.unwrap_or_default();
            prop_assert_eq!(back.scale(), d.scale());
            prop_assert_eq!(back.is_sign_negative(), d.is_sign_negative());
            prop_assert_eq!(back.to_string(), d.to_string());
        }
    }
}
