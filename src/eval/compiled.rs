//! Targets compiled once per evaluation for [`Detail::Statuses`]: operands
//! resolved to a column slot, a constant or (for anything else) the checked
//! expression, so that the common `indicator >= constant` reads the unit's
//! cell in place and compares it with the constant, with no walk over the
//! expression tree and nothing kept but the status.

use super::expr::{cmp_dec, Cx, Operand, MISSING};
use super::{compare_status, group_status, needs_values, order_status, Detail, UnitState};
use crate::ir::{CritKind, IExpr, Program, TNode};
use crate::syntax::ast::{CmpOp, GroupKind};
use crate::value::{Status, Value};
use rust_decimal::Decimal;

/// Where a comparison's operand comes from.
pub(super) enum Src {
    /// The unit's cell of an indicator.
    Slot(usize),
    /// A constant of the plan.
    Const(Value),
    /// Any other expression, evaluated as usual.
    Expr(IExpr),
}

/// A compiled target condition.
pub(super) enum Node {
    /// `indicator OP number`: the most common target of all.
    SlotNum {
        slot: usize,
        op: CmpOp,
        goal: Decimal,
    },
    Compare {
        actual: Src,
        op: CmpOp,
        goal: Src,
        high: Option<Src>,
    },
    Group {
        kind: GroupKind,
        children: Vec<Node>,
    },
    /// Anything else (intervals, conditions): the tree-walking evaluator.
    Other(TNode),
}

/// The compiled targets of a plan: one entry per criterion, `None` where
/// the criterion is evaluated the usual way.
pub(super) struct Compiled {
    targets: Vec<Option<Node>>,
}

fn src(e: &IExpr) -> Src {
    match e {
        IExpr::Ind(slot) => Src::Slot(*slot),
        IExpr::Const(v) => Src::Const(v.clone()),
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
        } => Node::SlotNum {
            slot: *slot,
            op: *op,
            goal: *goal,
        },
        TNode::Compare {
            actual,
            op,
            goal,
            high,
            ..
        } => Node::Compare {
            actual: src(actual),
            op: *op,
            goal: src(goal),
            high: high.as_ref().map(src),
        },
        TNode::Group { kind, children } => Node::Group {
            kind: *kind,
            children: children.iter().map(|(_, n, _)| node(n)).collect(),
        },
        other => Node::Other(other.clone()),
    }
}

impl Compiled {
    /// Compile the targets whose result is a status alone: every target
    /// when only statuses are kept, unless its points are computed from
    /// its actual and goal.
    pub(super) fn new(prog: &Program, detail: Detail) -> Compiled {
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
        Compiled { targets }
    }

    /// The compiled form of criterion `k`, if it has one.
    pub(super) fn target(&self, k: usize) -> Option<&Node> {
        self.targets.get(k).and_then(Option::as_ref)
    }
}

#[inline]
fn read<'a>(cx: &Cx, s: &'a Src, cells: &'a [Value], i: usize, st: &'a UnitState) -> Operand<'a> {
    match s {
        Src::Slot(slot) => Operand::Ref(cells.get(*slot).unwrap_or(&MISSING)),
        Src::Const(v) => Operand::Ref(v),
        Src::Expr(e) => Operand::Own(cx.eval(e, i, st)),
    }
}

/// The status of a compiled target for unit `i`, whose cells are `cells`.
pub(super) fn node_status(cx: &Cx, n: &Node, cells: &[Value], i: usize, st: &UnitState) -> Status {
    match n {
        Node::SlotNum { slot, op, goal } => match cells.get(*slot) {
            Some(Value::Num(a)) => order_status(*op, cmp_dec(a, goal)),
            Some(Value::Missing) | None => Status::Missing,
            Some(other) => compare_status(*op, other, &Value::Num(*goal), None),
        },
        Node::Compare {
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
        Node::Group { kind, children } => group_status(
            kind,
            children.iter().map(|k| node_status(cx, k, cells, i, st)),
        ),
        Node::Other(t) => super::tstatus(cx, t, i, st),
    }
}
