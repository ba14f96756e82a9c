//! Targets compiled once per evaluation for [`Detail::Statuses`]: operands
//! resolved to a column slot, a constant or (for anything else) the checked
//! expression, so that the common `indicator >= constant` reads the unit's
//! cell in place and compares it with a goal prepared for every scale a
//! cell can have, with no walk over the expression tree and nothing kept
//! but the status. A group is evaluated in one loop over its children,
//! every one of them (an early stop would branch on the data).

use super::expr::{cmp_dec, Cx, Operand, MISSING};
use super::{compare_status, group_status, needs_values, order_status, Detail, UnitState};
use crate::ir::{Arith, CritKind, IExpr, Program, TNode};
use crate::syntax::ast::{CmpOp, GroupKind};
use crate::value::{Status, Value};
use rust_decimal::Decimal;
use std::cmp::Ordering;

/// The largest scale of a [`Decimal`].
const MAX_SCALE: usize = 28;

/// A constant goal, prepared for comparison with a decimal of any scale.
///
/// A decimal is `mantissa / 10^scale`. For each scale `s` a cell can have,
/// `near[s]` holds the goal's floor and ceiling at scale `s`: the goal's
/// mantissa brought to scale `s` (multiplied by a power of ten when `s` is
/// the larger scale, and otherwise divided) rounded toward −∞ and toward
/// +∞; the two are equal when the goal is exact at that scale. A cell of
/// mantissa `m` at scale `s` is above the goal when `m` is above the floor,
/// below it when `m` is below the ceiling, and equal to it otherwise: two
/// comparisons, and no branch. Bit `s` of `wide` marks a scale at which
/// the goal does not fit in 128 bits: there the comparison is
/// [`cmp_dec`]'s.
pub(super) struct Goal {
    dec: Decimal,
    /// By scale, with room for every scale a 5-bit mask gives (29 to 31
    /// are marked wide; a decimal has none of them), so that looking one
    /// up needs no bounds check.
    near: [(i128, i128); 32],
    wide: u32,
}

/// 10^k for 0 ≤ k ≤ 28, looked up.
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time, where an index out of bounds is a build error"
)]
const POW10: [i128; MAX_SCALE + 1] = {
    let mut t = [1i128; MAX_SCALE + 1];
    let mut k = 1;
    while k <= MAX_SCALE {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

/// 10^k in `i128`, for 0 ≤ k ≤ 28.
#[inline]
fn pow10(k: u32) -> Option<i128> {
    POW10.get(k as usize).copied()
}

impl Goal {
    pub(super) fn new(dec: Decimal) -> Goal {
        let (m, sg) = (dec.mantissa(), dec.scale());
        let mut near = [(0i128, 0i128); 32];
        let mut wide = !0u32 << (MAX_SCALE + 1);
        for (s, slot) in (0u32..).zip(near.iter_mut()) {
            let brought = if s >= sg {
                pow10(s - sg).and_then(|p| m.checked_mul(p)).map(|v| (v, v))
            } else {
                pow10(sg - s).and_then(|p| {
                    let floor = m.div_euclid(p);
                    let up = i128::from(m.rem_euclid(p) != 0);
                    Some((floor, floor.checked_add(up)?))
                })
            };
            match brought {
                Some(v) => *slot = v,
                None => wide |= 1 << s,
            }
        }
        Goal { dec, near, wide }
    }

    /// [`Goal::cmp`] as an index: 0 below the goal, 1 on it, 2 above.
    #[inline(always)]
    pub(super) fn index(&self, a: &Decimal) -> usize {
        let s = a.scale() & 31;
        match self.near.get(s as usize) {
            Some(&(floor, ceil)) if self.wide >> s & 1 == 0 => {
                let m = a.mantissa();
                usize::from(m >= ceil) + usize::from(m > floor)
            }
            _ => (cmp_dec(a, &self.dec) as i8 + 1) as usize,
        }
    }

    /// How `a` compares with the goal: `cmp_dec(a, goal)`, in one
    /// comparison of mantissas.
    #[inline]
    pub(super) fn cmp(&self, a: &Decimal) -> Ordering {
        match self.index(a) {
            0 => Ordering::Less,
            1 => Ordering::Equal,
            _ => Ordering::Greater,
        }
    }
}

/// Where a comparison's operand comes from.
pub(super) enum Src {
    /// The unit's cell of an indicator.
    Slot(usize),
    /// A constant of the plan.
    Const(Value),
    /// `number * indicator` (or `indicator * number`): the goal of a unit
    /// given as its share of a total. `expr` is the expression itself, for
    /// anything but a number in the cell.
    Scaled {
        k: Decimal,
        slot: usize,
        k_first: bool,
        expr: IExpr,
    },
    /// Any other expression, evaluated as usual.
    Expr(IExpr),
}

/// One comparison of a compiled target.
pub(super) enum Leaf {
    /// `indicator OP number`: the most common target of all.
    SlotNum(Box<NumLeaf>),
    /// `indicator >= low .. high` with numbers: a band goal.
    SlotBand {
        slot: usize,
        low: Box<Goal>,
        high: Box<Goal>,
    },
    /// `indicator OP number * indicator`: a goal given as the unit's
    /// share of a total (`>= 16_068 tỷ đồng * budget_share`).
    SlotScaled {
        slot: usize,
        op: CmpOp,
        statuses: [Status; 3],
        k: Decimal,
        share: usize,
        k_first: bool,
        /// The goal's expression, for a share that is not a number or a
        /// product that overflows.
        expr: IExpr,
    },
    /// A bool indicator as the whole condition.
    SlotBool(usize),
    Compare {
        actual: Src,
        op: CmpOp,
        goal: Src,
        high: Option<Src>,
    },
    /// Anything else (intervals, conditions): the tree-walking evaluator.
    Other(TNode),
}

/// A compiled target condition.
pub(super) enum Node {
    Leaf(Leaf),
    Group {
        kind: GroupKind,
        children: Vec<Node>,
    },
    /// An `all` (or `any`) group of `indicator OP number` comparisons
    /// alone, the most common group: one loop over its comparisons, with
    /// no dispatch on the kind of each.
    NumGroup {
        all: bool,
        leaves: Vec<NumLeaf>,
    },
}

/// `indicator OP number`: a [`Leaf::SlotNum`], and a comparison of a
/// [`Node::NumGroup`].
pub(super) struct NumLeaf {
    slot: usize,
    op: CmpOp,
    /// The status of a cell below, on, and above the goal, and its rank
    /// ([`Status::rank`], which a group folds), both looked up. (The
    /// fourth of each is never read: it lets a masked index skip the
    /// bounds check.)
    statuses: [Status; 4],
    ranks: [u8; 4],
    goal: Goal,
}

impl NumLeaf {
    fn new(slot: usize, op: CmpOp, goal: Decimal) -> NumLeaf {
        let [l, e, g] = status_table(op);
        let statuses = [l, e, g, Status::Missing];
        NumLeaf {
            slot,
            op,
            statuses,
            ranks: statuses.map(Status::rank),
            goal: Goal::new(goal),
        }
    }
    /// This comparison's status for a unit with `cells`.
    #[inline(always)]
    fn status(&self, cells: &[Value]) -> Status {
        match cells.get(self.slot) {
            Some(Value::Num(a)) => self
                .statuses
                .get(self.goal.index(a) & 3)
                .copied()
                .unwrap_or(Status::Missing),
            other => self.other_status(other),
        }
    }
    /// [`NumLeaf::status`]'s rank.
    #[inline(always)]
    fn rank(&self, cells: &[Value]) -> u8 {
        match cells.get(self.slot) {
            Some(Value::Num(a)) => self.ranks.get(self.goal.index(a) & 3).copied().unwrap_or(1),
            other => self.other_status(other).rank(),
        }
    }
    /// [`NumLeaf::status`] for a cell that is not a number.
    #[inline(never)]
    fn other_status(&self, cell: Option<&Value>) -> Status {
        match cell {
            Some(Value::Num(a)) => order_status(self.op, self.goal.cmp(a)),
            Some(Value::Missing) | None => Status::Missing,
            Some(other) => compare_status(self.op, other, &Value::Num(self.goal.dec), None),
        }
    }
}

/// The status of `indicator >= low .. high` for the indicator's `cell`.
#[inline(always)]
fn band_status(low: &Goal, high: &Goal, cell: Option<&Value>) -> Status {
    match cell {
        Some(Value::Num(a)) => {
            if high.cmp(a) == Ordering::Greater {
                Status::Exceeded
            } else if low.cmp(a) != Ordering::Less {
                Status::Met
            } else {
                Status::NotMet
            }
        }
        other => other_band_status(low, high, other),
    }
}

/// [`band_status`] for a cell that is not a number.
#[inline(never)]
fn other_band_status(low: &Goal, high: &Goal, cell: Option<&Value>) -> Status {
    match cell {
        Some(Value::Missing) | None => Status::Missing,
        Some(other) => compare_status(
            CmpOp::Ge,
            other,
            &Value::Num(low.dec),
            Some(&Value::Num(high.dec)),
        ),
    }
}

/// The compiled targets of a plan: one entry per criterion, `None` where
/// the criterion is evaluated the usual way.
pub(crate) struct Compiled {
    targets: Vec<Option<Node>>,
    /// What the evaluation keeps, which decides what is compiled.
    detail: Detail,
}

fn num_const(e: &IExpr) -> Option<Decimal> {
    match e {
        IExpr::Const(Value::Num(d)) => Some(*d),
        _ => None,
    }
}

fn src(e: &IExpr) -> Src {
    match e {
        IExpr::Ind(slot) => Src::Slot(*slot),
        IExpr::Const(v) => Src::Const(v.clone()),
        IExpr::Arith(Arith::Mul, a, b) => match (num_const(a), &**b, &**a, num_const(b)) {
            (Some(k), IExpr::Ind(slot), _, _) => Src::Scaled {
                k,
                slot: *slot,
                k_first: true,
                expr: e.clone(),
            },
            (_, _, IExpr::Ind(slot), Some(k)) => Src::Scaled {
                k,
                slot: *slot,
                k_first: false,
                expr: e.clone(),
            },
            _ => Src::Expr(e.clone()),
        },
        e => Src::Expr(e.clone()),
    }
}

fn node(t: &TNode) -> Node {
    match t {
        TNode::Compare {
            actual: IExpr::Ind(slot),
            op,
            goal: IExpr::Const(Value::Num(goal)),
            high: None,
            ..
        } => Node::Leaf(Leaf::SlotNum(Box::new(NumLeaf::new(*slot, *op, *goal)))),
        TNode::Compare {
            actual: IExpr::Ind(slot),
            op: CmpOp::Ge,
            goal: IExpr::Const(Value::Num(low)),
            high: Some(IExpr::Const(Value::Num(high))),
            ..
        } => Node::Leaf(Leaf::SlotBand {
            slot: *slot,
            low: Box::new(Goal::new(*low)),
            high: Box::new(Goal::new(*high)),
        }),
        TNode::Compare {
            actual: IExpr::Ind(slot),
            op,
            goal,
            high: None,
            ..
        } => match src(goal) {
            Src::Scaled {
                k,
                slot: share,
                k_first,
                expr,
            } => Node::Leaf(Leaf::SlotScaled {
                slot: *slot,
                op: *op,
                statuses: status_table(*op),
                k,
                share,
                k_first,
                expr,
            }),
            goal => Node::Leaf(Leaf::Compare {
                actual: Src::Slot(*slot),
                op: *op,
                goal,
                high: None,
            }),
        },
        TNode::Cond(IExpr::Ind(slot)) => Node::Leaf(Leaf::SlotBool(*slot)),
        TNode::Compare {
            actual,
            op,
            goal,
            high,
            ..
        } => Node::Leaf(Leaf::Compare {
            actual: src(actual),
            op: *op,
            goal: src(goal),
            high: high.as_ref().map(src),
        }),
        TNode::Group { kind, children } => {
            let nodes: Vec<Node> = children.iter().map(|(_, n, _)| node(n)).collect();
            let all = match kind {
                GroupKind::All => Some(true),
                GroupKind::Any => Some(false),
                GroupKind::AtLeast(_) => None,
            };
            let only_num = nodes
                .iter()
                .all(|k| matches!(k, Node::Leaf(Leaf::SlotNum(_))));
            match all {
                // The comparisons move into the group's loop.
                Some(all) if only_num => Node::NumGroup {
                    all,
                    leaves: nodes
                        .into_iter()
                        .filter_map(|k| match k {
                            Node::Leaf(Leaf::SlotNum(n)) => Some(*n),
                            _ => None,
                        })
                        .collect(),
                },
                _ => Node::Group {
                    kind: *kind,
                    children: nodes,
                },
            }
        }
        other => Node::Leaf(Leaf::Other(other.clone())),
    }
}

impl Compiled {
    /// Compile the targets whose result is a status alone: every target
    /// when only statuses are kept, unless its points are computed from
    /// its actual and goal.
    pub(crate) fn new(prog: &Program, detail: Detail) -> Compiled {
        let targets = prog
            .criteria
            .iter()
            .map(|c| match &c.kind {
                CritKind::Target(t) if detail == Detail::Statuses && !needs_values(c) => {
                    Some(node(t))
                }
                _ => None,
            })
            .collect();
        Compiled { targets, detail }
    }

    /// What an evaluation with these targets keeps.
    pub(crate) fn detail(&self) -> Detail {
        self.detail
    }

    /// The compiled form of criterion `k`, if it has one.
    pub(super) fn target(&self, k: usize) -> Option<&Node> {
        self.targets.get(k).and_then(Option::as_ref)
    }
}

/// `k * x` (or `x * k`, as written) for a number `x`; `None` for anything
/// else or an overflow, which the expression itself then decides.
#[inline]
fn scaled(k: Decimal, x: Option<&Value>, k_first: bool) -> Option<Decimal> {
    match x {
        Some(Value::Num(x)) if k_first => k.checked_mul(*x),
        Some(Value::Num(x)) => x.checked_mul(k),
        _ => None,
    }
}

/// How `a` compares with the product `k * x`, in one comparison of
/// mantissas, when that product is a decimal without rounding (then it is
/// rust_decimal's product exactly); `None` otherwise, and for scales too
/// far apart.
#[inline(always)]
fn cmp_product(a: &Decimal, k: &Decimal, x: &Decimal) -> Option<Ordering> {
    let sp = k.scale() + x.scale();
    let p = mul(k.mantissa(), x.mantissa())?;
    if sp > MAX_SCALE as u32 || p.unsigned_abs() >> 96 != 0 {
        return None;
    }
    let (sa, ma) = (a.scale(), a.mantissa());
    let (l, r) = if sa >= sp {
        (ma, mul(p, pow10(sa - sp)?)?)
    } else {
        (mul(ma, pow10(sp - sa)?)?, p)
    };
    Some(l.cmp(&r))
}

/// `a * b`, `None` on overflow: one multiplication when both fit 64 bits
/// (their product then fits 128), the checked one otherwise.
#[inline(always)]
fn mul(a: i128, b: i128) -> Option<i128> {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(a), Ok(b)) => Some(i128::from(a) * i128::from(b)),
        _ => a.checked_mul(b),
    }
}

#[inline]
fn read<'a>(cx: &Cx, s: &'a Src, cells: &'a [Value], i: usize, st: &'a UnitState) -> Operand<'a> {
    match s {
        Src::Slot(slot) => Operand::Ref(cells.get(*slot).unwrap_or(&MISSING)),
        Src::Const(v) => Operand::Ref(v),
        Src::Scaled {
            k,
            slot,
            k_first,
            expr,
        } => match scaled(*k, cells.get(*slot), *k_first) {
            Some(p) => Operand::Own(Value::Num(p)),
            None => Operand::Own(cx.eval(expr, i, st)),
        },
        Src::Expr(e) => Operand::Own(cx.eval(e, i, st)),
    }
}

/// The status of `actual OP goal` for each way actual compares with goal
/// (less, equal, greater): what [`order_status`] gives, looked up.
fn status_table(op: CmpOp) -> [Status; 3] {
    [Ordering::Less, Ordering::Equal, Ordering::Greater].map(|o| order_status(op, o))
}

/// The status of one compiled comparison: `indicator OP number` inline,
/// everything else out of line.
#[inline(always)]
fn leaf_status(cx: &Cx, l: &Leaf, cells: &[Value], i: usize, st: &UnitState) -> Status {
    let looked_up = |statuses: &[Status; 3], o: Ordering| {
        statuses
            .get((o as i8 + 1) as usize)
            .copied()
            .unwrap_or(Status::Missing)
    };
    match l {
        Leaf::SlotNum(n) => return n.status(cells),
        Leaf::SlotBand { slot, low, high } => return band_status(low, high, cells.get(*slot)),
        Leaf::SlotBool(slot) => return super::cond_status(cells.get(*slot).unwrap_or(&MISSING)),
        Leaf::SlotScaled {
            slot,
            statuses,
            k,
            share,
            ..
        } => {
            if let (Some(Value::Num(a)), Some(Value::Num(x))) =
                (cells.get(*slot), cells.get(*share))
            {
                if let Some(o) = cmp_product(a, k, x) {
                    return looked_up(statuses, o);
                }
            }
        }
        _ => {}
    }
    other_leaf_status(cx, l, cells, i, st)
}

#[inline(never)]
fn other_leaf_status(cx: &Cx, l: &Leaf, cells: &[Value], i: usize, st: &UnitState) -> Status {
    match l {
        // Decided by `leaf_status` itself.
        Leaf::SlotNum(n) => n.status(cells),
        Leaf::SlotBand { slot, low, high } => band_status(low, high, cells.get(*slot)),
        Leaf::SlotBool(slot) => super::cond_status(cells.get(*slot).unwrap_or(&MISSING)),
        Leaf::SlotScaled {
            slot,
            op,
            k,
            share,
            k_first,
            expr,
            ..
        } => {
            if let (Some(Value::Num(a)), Some(g)) =
                (cells.get(*slot), scaled(*k, cells.get(*share), *k_first))
            {
                return order_status(*op, cmp_dec(a, &g));
            }
            let Some(a) = cells.get(*slot).filter(|a| !a.is_missing()) else {
                return Status::Missing;
            };
            let g = cx.eval(expr, i, st);
            if g.is_missing() {
                return Status::Missing;
            }
            compare_status(*op, a, &g, None)
        }
        Leaf::Compare {
            actual,
            op,
            goal,
            high,
        } => {
            let a = read(cx, actual, cells, i, st);
            if a.is_missing() {
                return Status::Missing;
            }
            let g = read(cx, goal, cells, i, st);
            if g.is_missing() {
                return Status::Missing;
            }
            match high {
                None => compare_status(*op, &a, &g, None),
                Some(h) => {
                    let h = read(cx, h, cells, i, st);
                    if h.is_missing() {
                        return Status::Missing;
                    }
                    compare_status(*op, &a, &g, Some(&h))
                }
            }
        }
        Leaf::Other(t) => super::tstatus(cx, t, i, st),
    }
}

/// The status of a compiled target for unit `i`, whose cells are `cells`.
#[inline]
pub(super) fn node_status(cx: &Cx, n: &Node, cells: &[Value], i: usize, st: &UnitState) -> Status {
    match n {
        Node::Leaf(l) => leaf_status(cx, l, cells, i, st),
        Node::Group { kind, children } => group_node_status(cx, kind, children, cells, i, st),
        Node::NumGroup { all, leaves } => num_group_status(*all, leaves, cells),
    }
}

/// The status of a [`Node::NumGroup`]: the worst rank of its comparisons
/// for `all`, the best for `any`, every one evaluated (see
/// [`group_node_status`]).
#[inline(never)]
fn num_group_status(all: bool, leaves: &[NumLeaf], cells: &[Value]) -> Status {
    let rank = if all {
        leaves.iter().fold(u8::MAX, |w, l| w.min(l.rank(cells)))
    } else {
        leaves.iter().fold(0, |b, l| b.max(l.rank(cells)))
    };
    let none = if all { Status::Met } else { Status::NotMet };
    BY_RANK.get(usize::from(rank)).copied().unwrap_or(none)
}

/// The status a group gives for its deciding child's rank
/// ([`Status::rank`]): what [`group_status`] makes of that child.
const BY_RANK: [Status; 4] = [
    Status::NotMet,
    Status::Missing,
    Status::Met,
    Status::Exceeded,
];

/// The status of a compiled group: its children in one loop, leaves
/// inline.
#[inline(never)]
fn group_node_status(
    cx: &Cx,
    kind: &GroupKind,
    children: &[Node],
    cells: &[Value],
    i: usize,
    st: &UnitState,
) -> Status {
    // Inlined into each loop (a closure shared by the three was called
    // once per child).
    #[inline(always)]
    fn status(cx: &Cx, k: &Node, cells: &[Value], i: usize, st: &UnitState) -> Status {
        match k {
            Node::Leaf(l) => leaf_status(cx, l, cells, i, st),
            Node::Group { kind, children } => group_node_status(cx, kind, children, cells, i, st),
            Node::NumGroup { all, leaves } => num_group_status(*all, leaves, cells),
        }
    }
    match kind {
        // The worst child by rank (`met` for none). Every child is
        // evaluated: stopping at the first `not_met` would branch on the
        // data, which mispredicts about as often as not.
        GroupKind::All => {
            let worst = children
                .iter()
                .fold(u8::MAX, |w, k| w.min(status(cx, k, cells, i, st).rank()));
            BY_RANK
                .get(usize::from(worst))
                .copied()
                .unwrap_or(Status::Met)
        }
        // The best child by rank (`not_met` for none).
        GroupKind::Any => {
            let best = children
                .iter()
                .fold(0, |b, k| b.max(status(cx, k, cells, i, st).rank()));
            BY_RANK
                .get(usize::from(best))
                .copied()
                .unwrap_or(Status::NotMet)
        }
        GroupKind::AtLeast(_) => {
            group_status(kind, children.iter().map(|k| status(cx, k, cells, i, st)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(m: i64, s: u32) -> Decimal {
        Decimal::new(m, s)
    }

    proptest! {
        /// A prepared goal orders every decimal as rust_decimal does.
        #[test]
        fn goal_orders_as_rust_decimal(
            gm in any::<i64>(), gs in 0u32..=28,
            am in any::<i64>(), as_ in 0u32..=28,
        ) {
            let (g, a) = (dec(gm, gs), dec(am, as_));
            prop_assert_eq!(Goal::new(g).cmp(&a), a.cmp(&g), "{} against {}", a, g);
        }

        /// Near the goal, where a remainder decides.
        #[test]
        fn goal_orders_close_values(gm in -100_000i64..100_000, gs in 0u32..6, d in -3i64..=3, extra in 0u32..4) {
            let g = dec(gm, gs);
            // The same value at a finer scale, nudged by a few units.
            let p = 10i64.pow(extra);
            let a = dec(gm * p + d, gs + extra);
            prop_assert_eq!(Goal::new(g).cmp(&a), a.cmp(&g), "{} against {}", a, g);
            // And the goal at a finer scale against a coarser cell.
            let g2 = dec(gm * p + d, gs + extra);
            let a2 = dec(gm, gs);
            prop_assert_eq!(Goal::new(g2).cmp(&a2), a2.cmp(&g2), "{} against {}", a2, g2);
        }
    }

    proptest! {
        /// A product compared in mantissas orders as rust_decimal's
        /// product does, whenever it is compared so.
        #[test]
        fn product_orders_as_rust_decimal(
            am in any::<i64>(), as_ in 0u32..=28,
            km in any::<i64>(), ks in 0u32..=20,
            xm in -1_000_000i64..1_000_000, xs in 0u32..=12,
        ) {
            let (a, k, x) = (dec(am, as_), dec(km, ks), dec(xm, xs));
            if let Some(o) = cmp_product(&a, &k, &x) {
                let p = k.checked_mul(x).expect("an exact product fits");
                prop_assert_eq!(o, a.cmp(&p), "{} against {} * {}", a, k, x);
            }
        }
    }

    #[test]
    fn product_of_a_goal_and_a_share() {
        // 16 068 tỷ đồng × 6 % = 964.08 tỷ đồng.
        let k = Decimal::new(16_068, 0) * Decimal::new(1_000_000_000, 0);
        let x = Decimal::new(6, 2);
        let goal = Decimal::new(96_408, 2) * Decimal::new(1_000_000_000, 0);
        for (a, o) in [
            (goal, Ordering::Equal),
            (goal - Decimal::new(1, 3), Ordering::Less),
            (goal + Decimal::new(1, 28 - 12), Ordering::Greater),
        ] {
            assert_eq!(cmp_product(&a, &k, &x), Some(o), "{a}");
        }
        // A product with more than 28 decimals is left to rust_decimal.
        assert_eq!(cmp_product(&goal, &dec(1, 20), &dec(1, 10)), None);
    }

    #[test]
    fn goal_of_the_widest_decimals() {
        let edges = [
            Decimal::MAX,
            Decimal::MIN,
            dec(1, 28),
            dec(-1, 28),
            Decimal::ZERO,
            -Decimal::ZERO,
            Decimal::ONE,
        ];
        for g in edges {
            for a in edges {
                assert_eq!(Goal::new(g).cmp(&a), a.cmp(&g), "{a} against {g}");
            }
        }
    }
}
