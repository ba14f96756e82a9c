//! Ranked plans and limited awards over data read in chunks, in bounded
//! memory: passes over the data.
//!
//! A unit's rank, and whether a limited award reaches it, depend on every
//! other unit, so such a plan cannot be written unit by unit in one pass.
//! Instead:
//!
//! 1. the first pass evaluates every unit and keeps only its id, its rank
//!    key, its groups (for `within` and `per`) and, when no rating or award
//!    reads `rank`, whether it is eligible for each limited award;
//! 2. the ranks are computed over the whole data;
//! 3. when a rating or an award reads `rank`, a second pass evaluates again
//!    with the ranks known, for the eligibility;
//! 4. the limited awards are decided in declaration order, group by group,
//!    exactly as in memory;
//! 5. the last pass evaluates every unit with its rank and its limited
//!    awards known and writes it.
//!
//! An award's condition may read an earlier limited award (`not
//! awarded(co_thi_dua)`), which is only decided in step 4. So the
//! eligibility for the m-th limited award is kept for each of the 2^m ways
//! the earlier limited awards may fall for the unit, in one bit each:
//! with at most [`MAX_LIMITED`] limited awards that is at most 31 bits.
//! The units' shares of a `limit N% of …` condition are kept the same way.
//!
//! What is kept per unit is a few dozen bytes: the id, the rank key, a
//! group number per grouping field, and three small integers.

use super::stream::{chunk, for_each_chunk, ChunkFormat, Pieces, StreamError, Streamed};
use super::{
    competition_ranks, evaluate_known, expr, key_order, limit_cut, share_cap, tie_warning,
    Compiled, Decided, Detail, Known, UnitRow, UnitState,
};
use crate::data::Locale;
use crate::diag::Diag;
use crate::ir::{Field, IExpr, LimitSpec, Program};
use crate::syntax::ast::PointsMode;
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

/// The most awards with a limit a plan may have to be evaluated in passes.
pub const MAX_LIMITED: usize = 5;

/// Whether `prog` can be evaluated in passes over its data: units that do
/// not read one another (no `relative` points, history or members), a
/// campaign period (the year rows without a `period` belong to), and at
/// most [`MAX_LIMITED`] limited awards among at most 64.
pub fn passes_possible(prog: &Program) -> bool {
    !prog.uses_history
        && prog.info.year().is_some()
        && prog.awards.len() <= 64
        && prog.awards.iter().filter(|a| a.limit.is_some()).count() <= MAX_LIMITED
        && !prog.criteria.iter().any(|c| {
            c.points
                .as_ref()
                .is_some_and(|p| p.mode == PointsMode::Relative)
        })
}

/// How many passes over the data [`evaluate_passes`] makes for `prog`.
pub fn pass_count(prog: &Program) -> usize {
    if reads_rank(prog) && prog.awards.iter().any(|a| a.limit.is_some()) {
        3
    } else {
        2
    }
}

/// Whether the rating or an award's condition reads `rank`: then the
/// eligibility for the limited awards waits for the ranks.
fn reads_rank(prog: &Program) -> bool {
    let rank = |e: &IExpr| matches!(e, IExpr::Rank);
    let rating = prog.rating.iter().flat_map(|r| &r.branches);
    rating.filter_map(|b| b.cond.as_ref()).any(|c| c.any(&rank))
        || prog.awards.iter().any(|a| {
            a.when.as_ref().is_some_and(|c| c.any(&rank))
                || matches!(&a.limit, Some((LimitSpec::Share(_, Some(of)), _)) if of.any(&rank))
        })
}

/// What the passes keep of every unit, in data order.
#[derive(Default)]
struct Whole {
    /// The ids, one after another; unit `u`'s ends at `id_ends[u]`.
    ids: String,
    id_ends: Vec<usize>,
    /// The rank keys, `stride` values per unit.
    keys: Vec<Value>,
    stride: usize,
    /// The grouping fields, and each unit's group in each (a number in
    /// `names`).
    fields: Vec<Field>,
    groups: Vec<Vec<u32>>,
    names: Vec<String>,
    numbers: HashMap<String, u32>,
    /// Eligibility (bits 0–31) and `of` shares (bits 32–63) for the
    /// limited awards, for every way the earlier ones may fall.
    elig: Vec<u64>,
    /// Where each chunk's units start (one more entry at the end).
    starts: Vec<usize>,
}

impl Whole {
    fn len(&self) -> usize {
        self.id_ends.len()
    }
    fn id(&self, u: usize) -> &str {
        let start = if u == 0 {
            0
        } else {
            self.id_ends.get(u - 1).copied().unwrap_or(0)
        };
        let end = self.id_ends.get(u).copied().unwrap_or(start);
        self.ids.get(start..end).unwrap_or("")
    }
    fn key(&self, u: usize) -> &[Value] {
        self.keys
            .get(u * self.stride..(u + 1) * self.stride)
            .unwrap_or(&[])
    }
    fn number(&mut self, name: &str) -> u32 {
        if let Some(&n) = self.numbers.get(name) {
            return n;
        }
        let n = self.names.len() as u32;
        self.names.push(name.to_string());
        self.numbers.insert(name.to_string(), n);
        n
    }
    /// The units of each group of `field`, by group name.
    fn members(&self, field: Field) -> BTreeMap<&str, Vec<usize>> {
        let mut by: Vec<Vec<usize>> = vec![Vec::new(); self.names.len()];
        if let Some(col) = self
            .fields
            .iter()
            .position(|f| *f == field)
            .and_then(|k| self.groups.get(k))
        {
            for (u, &g) in col.iter().enumerate() {
                if let Some(v) = by.get_mut(g as usize) {
                    v.push(u);
                }
            }
        }
        self.names
            .iter()
            .map(String::as_str)
            .zip(by)
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }
}

/// One unit of a chunk, as the first pass keeps it.
struct Kept {
    id: String,
    key: Vec<Value>,
    groups: Vec<String>,
    elig: u64,
}

/// Evaluate a ranked plan (or one with limited awards) over the data files
/// in passes (see the module's documentation), writing each chunk's
/// formatted units of the last pass to `out` in data order, with `sep`
/// between two non-empty pieces, byte for byte as the evaluation in memory
/// would. The warnings of the evaluation (ties at a limit) are in
/// [`Streamed::warnings`]. When the data has an error (and `skip_bad_rows`
/// is off), the first pass stops evaluating but reads on to find every
/// error, and nothing is written. `progress` is told the pass (from 1),
/// the number of passes and how many rows have been handed out.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_passes(
    prog: &Program,
    paths: &[impl AsRef<Path>],
    locale: Locale,
    skip_bad_rows: bool,
    detail: Detail,
    format: &ChunkFormat<'_>,
    sep: &[u8],
    out: &mut (dyn Write + Send),
    progress: &(dyn Fn(usize, usize, usize) + Sync),
) -> Result<Streamed, StreamError> {
    let passes = pass_count(prog);
    let limited: Vec<usize> = (0..prog.awards.len())
        .filter(|&a| prog.awards.get(a).is_some_and(|x| x.limit.is_some()))
        .collect();
    let early = passes == 2;
    let mut whole = Whole {
        stride: prog.rank.as_ref().map(|r| 1 + r.then.len()).unwrap_or(0),
        ..Default::default()
    };
    whole.fields = whole_fields(prog);
    whole.groups = vec![Vec::new(); whole.fields.len()];
    whole.starts.push(0);
    // The targets compiled once: for statuses in the passes before the
    // last, for what is asked in the last.
    let statuses = Compiled::new(prog, Detail::Statuses);
    let compiled = Compiled::new(prog, detail);

    // Pass 1: ids, rank keys, groups (and the eligibility, when it does
    // not wait for the ranks).
    let first = |_seq: usize, rows: Vec<UnitRow>| -> Result<Vec<Kept>, String> {
        let known = Known {
            ranks: None,
            awards: None,
        };
        let ev = evaluate_known(prog, rows, Some(&known), &statuses).map_err(first_message)?;
        let fields = &whole_fields(prog);
        Ok(ev
            .units()
            .enumerate()
            .map(|(i, (row, st))| Kept {
                id: row.id.clone(),
                key: st.rank_key().to_vec(),
                groups: fields
                    .iter()
                    .map(|&f| row.field(f).unwrap_or("").to_string())
                    .collect(),
                elig: if early {
                    eligibility(prog, &ev, i, st, &limited)
                } else {
                    0
                },
            })
            .collect())
    };
    let mut take_first = |kept: Vec<Kept>| -> Result<(), String> {
        for k in kept {
            whole.ids.push_str(&k.id);
            whole.id_ends.push(whole.ids.len());
            let mut key = k.key;
            key.resize(whole.stride, Value::Missing);
            whole.keys.extend(key);
            for (col, g) in k.groups.iter().enumerate() {
                let n = whole.number(g);
                if let Some(c) = whole.groups.get_mut(col) {
                    c.push(n);
                }
            }
            whole.elig.push(k.elig);
        }
        whole.starts.push(whole.len());
        Ok(())
    };
    let told = |units: usize| progress(1, passes, units);
    let (data, _) = for_each_chunk(
        prog,
        paths,
        locale,
        skip_bad_rows,
        &first,
        &mut take_first,
        &told,
    )?;
    if !data.errors.is_empty() && !skip_bad_rows {
        return Ok(Streamed {
            data,
            ..Default::default()
        });
    }
    whole.keys.shrink_to_fit();

    // The ranks of the whole data.
    let mut ranks = vec![0u32; whole.len()];
    if let Some(rank) = &prog.rank {
        let desc = key_order(prog);
        for members in whole.members(rank.within).values() {
            competition_ranks(
                members,
                |u| whole.key(u),
                &desc,
                |u, r| {
                    if let Some(x) = ranks.get_mut(u) {
                        *x = r;
                    }
                },
            );
        }
    }

    // Pass 2, when the eligibility reads the ranks.
    if !early {
        let second = |seq: usize, rows: Vec<UnitRow>| -> Result<Vec<u64>, String> {
            let start = chunk_start(prog, &whole, seq, &rows)?;
            let known = Known {
                ranks: ranks.get(start..),
                awards: None,
            };
            let ev = evaluate_known(prog, rows, Some(&known), &statuses).map_err(first_message)?;
            Ok(ev
                .units()
                .enumerate()
                .map(|(i, (_, st))| eligibility(prog, &ev, i, st, &limited))
                .collect())
        };
        let mut elig = Vec::with_capacity(whole.len());
        let mut take_second = |e: Vec<u64>| -> Result<(), String> {
            elig.extend(e);
            Ok(())
        };
        let told = |units: usize| progress(2, passes, units);
        for_each_chunk(
            prog,
            paths,
            locale,
            skip_bad_rows,
            &second,
            &mut take_second,
            &told,
        )?;
        if elig.len() != whole.len() {
            return Err(changed());
        }
        whole.elig = elig;
    }

    // The limited awards, in declaration order.
    let mut grants = vec![0u64; whole.len()];
    let mut caps: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); prog.awards.len()];
    let mut warnings = Vec::new();
    let desc = key_order(prog);
    for (m, &a) in limited.iter().enumerate() {
        let Some(award) = prog.awards.get(a) else {
            continue;
        };
        let Some((limit, per)) = &award.limit else {
            continue;
        };
        // The unit's bit for award `m`, given how the earlier ones fell.
        let bit = |u: usize, high: bool| {
            let g = grants.get(u).copied().unwrap_or(0);
            let prefix = limited
                .iter()
                .take(m)
                .enumerate()
                .fold(0u32, |p, (k, &b)| p | (((g >> b) & 1) as u32) << k);
            let pos = (1u32 << m) - 1 + prefix + if high { 32 } else { 0 };
            whole.elig.get(u).is_some_and(|e| e >> pos & 1 == 1)
        };
        let mut won = Vec::new();
        for (gname, members) in &whole.members(*per) {
            let cap = match limit {
                LimitSpec::Count(c) => c.trunc().try_into().unwrap_or(0usize),
                LimitSpec::Share(share, of) => share_cap(
                    *share,
                    match of {
                        None => members.len(),
                        Some(_) => members.iter().filter(|&&u| bit(u, true)).count(),
                    },
                ),
            };
            caps.get_mut(a).map(|c| c.insert(gname.to_string(), cap));
            let cands: Vec<usize> = members.iter().copied().filter(|&u| bit(u, false)).collect();
            let cut = limit_cut(cands.clone(), cap, |u| whole.key(u), |u| whole.id(u), &desc);
            if let Some(tied) = &cut.tied {
                warnings.push(tie_warning(award, tied, cap, gname));
            }
            let out: std::collections::HashSet<usize> = cut.out.into_iter().collect();
            won.extend(cands.into_iter().filter(|u| !out.contains(u)));
        }
        for u in won {
            if let Some(g) = grants.get_mut(u) {
                *g |= 1 << a;
            }
        }
    }
    drop(std::mem::take(&mut whole.keys));

    // The last pass: everything known, every unit written.
    let last = |seq: usize, rows: Vec<UnitRow>| -> Result<Vec<u8>, String> {
        let start = chunk_start(prog, &whole, seq, &rows)?;
        let known = Known {
            ranks: ranks.get(start..),
            awards: Some(Decided {
                grants: grants.get(start..).unwrap_or(&[]),
                caps: &caps,
            }),
        };
        chunk(prog, rows, Some(&known), &compiled, format)
    };
    let mut pieces = Pieces::new(out, sep);
    let mut take_last = |bytes: Vec<u8>| pieces.put(&bytes);
    let told = |units: usize| progress(passes, passes, units);
    let (data, units) = for_each_chunk(
        prog,
        paths,
        locale,
        skip_bad_rows,
        &last,
        &mut take_last,
        &told,
    )?;
    Ok(Streamed {
        data,
        units,
        wrote: pieces.wrote,
        warnings,
    })
}

/// The grouping fields of `prog`, in the order [`Whole`] keeps them.
fn whole_fields(prog: &Program) -> Vec<Field> {
    let mut fields = Vec::new();
    for f in prog.rank.iter().map(|r| r.within).chain(
        prog.awards
            .iter()
            .filter_map(|a| a.limit.as_ref().map(|l| l.1)),
    ) {
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    fields
}

fn first_message(d: Vec<Diag>) -> String {
    d.first()
        .map(|d| d.message.clone())
        .unwrap_or_else(|| "the evaluation failed".into())
}

fn changed() -> StreamError {
    StreamError::Unreadable(
        "the data changed while it was read: a ranked plan reads its data more than once; run `eval` again when the files stay put".into(),
    )
}

/// Where chunk `seq`'s units start among all units, after checking that
/// they are the units the first pass saw there.
fn chunk_start(
    prog: &Program,
    whole: &Whole,
    seq: usize,
    rows: &[UnitRow],
) -> Result<usize, String> {
    let (Some(&start), Some(&end)) = (whole.starts.get(seq), whole.starts.get(seq + 1)) else {
        return Err(changed_text());
    };
    // Only the rows of the campaign's period are evaluated.
    let year = prog.info.year();
    let units = rows
        .iter()
        .filter(|r| r.period.is_none() || r.period == year);
    if end - start != units.clone().count()
        || units.enumerate().any(|(k, r)| whole.id(start + k) != r.id)
    {
        return Err(changed_text());
    }
    Ok(start)
}

fn changed_text() -> String {
    match changed() {
        StreamError::Unreadable(m) | StreamError::Output(m) => m,
    }
}

/// Unit `i`'s eligibility for the limited awards (bits 0–31) and its
/// share of their `of` conditions (bits 32–63), for every way the earlier
/// limited awards may fall: for the m-th limited award, bit
/// `2^m − 1 + p`, where bit k of `p` says whether the k-th was granted.
/// The awards are walked in declaration order, as in memory: the awards
/// without a limit follow from their conditions.
fn eligibility(
    prog: &Program,
    ev: &super::Evaluation,
    i: usize,
    st: &UnitState,
    limited: &[usize],
) -> u64 {
    if limited.is_empty() {
        return 0;
    }
    let cx = expr::Cx::new(prog, ev, ev.current, 0);
    let mut st = st.clone();
    st.awards = vec![false; prog.awards.len()].into();
    let mut out = 0u64;
    walk(prog, &cx, i, &mut st, 0, 0, limited, &mut out);
    out
}

#[allow(clippy::too_many_arguments)]
fn walk(
    prog: &Program,
    cx: &expr::Cx<'_>,
    i: usize,
    st: &mut UnitState,
    from: usize,
    prefix: u32,
    limited: &[usize],
    out: &mut u64,
) {
    for (a, award) in prog.awards.iter().enumerate().skip(from) {
        let holds = |e: &Option<IExpr>, st: &UnitState| match e {
            None => true,
            Some(c) => cx.eval(c, i, st) == Value::Bool(true),
        };
        let cond = holds(&award.when, st);
        let Some(m) = limited.iter().position(|&l| l == a) else {
            if let Some(g) = st.awards.get_mut(a) {
                *g = cond;
            }
            continue;
        };
        let pos = (1u32 << m) - 1 + prefix;
        if cond {
            *out |= 1 << pos;
        }
        if let Some((LimitSpec::Share(_, Some(of)), _)) = &award.limit {
            if cx.eval(of, i, st) == Value::Bool(true) {
                *out |= 1 << (32 + pos);
            }
        }
        for granted in [false, true] {
            let saved = st.awards.clone();
            if let Some(g) = st.awards.get_mut(a) {
                *g = granted;
            }
            walk(
                prog,
                cx,
                i,
                st,
                a + 1,
                prefix | (u32::from(granted) << m),
                limited,
                out,
            );
            st.awards = saved;
        }
        return;
    }
}
