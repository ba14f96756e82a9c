//! Properties of the language, tested on generated plans and data:
//! exact unit conversion, Kleene three-valued logic, deterministic
//! evaluation, and ranks that depend only on a unit's own group.

use proptest::prelude::*;
use rust_decimal::Decimal;
use thidua::diag::SourceMap;
use thidua::eval::{evaluate, UnitRow};
use thidua::ir::Program;
use thidua::value::{Status, Value};

fn program(text: &str) -> Program {
    let mut sources = SourceMap::default();
    let c = thidua::check::check_str(text, "prop.thidua", None, &mut sources);
    let errors: Vec<_> = c
        .diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    c.program.expect("program")
}

fn row(prog: &Program, id: &str, bloc: &str, cells: &[(&str, &str)]) -> UnitRow {
    let mut r = UnitRow {
        id: id.into(),
        bloc: Some(bloc.into()),
        values: vec![Value::Missing; prog.indicators.len()],
        ..Default::default()
    };
    for (name, text) in cells {
        let slot = prog.indicator_slot(name).expect("indicator");
        r.values[slot] =
            thidua::data::parse_value(prog, slot, text, thidua::data::Locale::En).expect("cell");
    }
    r
}

const CONVERSION: &str = r#"use std.units
campaign c "C" {
  period 2024-01-01 .. 2024-12-31
  indicator a "A" : tỷ đồng
  indicator b "B" : triệu đồng
  indicator k "K" : nghìn đồng
  target same: a == b
  target same_k: b == k
  target sum: a + b >= 2 * a
}
"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `x tỷ đồng == 1000·x triệu đồng == 1 000 000·x nghìn đồng`, exactly.
    #[test]
    fn scale_conversions_are_exact(mantissa in -1_000_000_000_000i64..1_000_000_000_000i64, scale in 0u32..6) {
        let prog = program(CONVERSION);
        let x = Decimal::new(mantissa, scale);
        let a = x.to_string();
        let b = (x * Decimal::from(1000)).to_string();
        let k = (x * Decimal::from(1_000_000)).to_string();
        let ev = evaluate(&prog, vec![row(&prog, "u", "B", &[("a", &a), ("b", &b), ("k", &k)])]).expect("evaluates");
        let (_, st) = ev.unit("u").expect("unit");
        prop_assert_eq!(st.criterion(0).map(|r| r.status()), Some(Status::Met));
        prop_assert_eq!(st.criterion(1).map(|r| r.status()), Some(Status::Met));
        prop_assert_eq!(st.criterion(2).map(|r| r.status()), Some(Status::Met));
        // And one step off is not equal.
        let off = (x * Decimal::from(1000) + Decimal::new(1, 6)).to_string();
        let ev = evaluate(&prog, vec![row(&prog, "u", "B", &[("a", &a), ("b", &off), ("k", &k)])]).expect("evaluates");
        prop_assert_eq!(ev.unit("u").expect("unit").1.criterion(0).map(|r| r.status()), Some(Status::NotMet));
    }
}

/// `and`, `or` and `not` over true, false and missing follow Kleene's
/// tables; a missing condition makes a `missing` status, never `not_met`.
#[test]
fn three_valued_logic_truth_tables() {
    let prog = program(
        r#"campaign c "C" {
  period 2024-01-01 .. 2024-12-31
  indicator p "P" : bool
  indicator q "Q" : bool
  target both: p and q
  target either: p or q
  target neither: not p
  target known: present(p) or present(q) or true
  target fallback: p ?? false
}
"#,
    );
    let vals: [Option<bool>; 3] = [Some(true), Some(false), None];
    let status = |v: Option<bool>| match v {
        Some(true) => Status::Met,
        Some(false) => Status::NotMet,
        None => Status::Missing,
    };
    for p in vals {
        for q in vals {
            let cell = |v: Option<bool>| v.map(|b| b.to_string()).unwrap_or_default();
            let (pc, qc) = (cell(p), cell(q));
            let mut cells = Vec::new();
            if !pc.is_empty() {
                cells.push(("p", pc.as_str()));
            }
            if !qc.is_empty() {
                cells.push(("q", qc.as_str()));
            }
            let ev = evaluate(&prog, vec![row(&prog, "u", "B", &cells)]).expect("evaluates");
            let st = ev.unit("u").expect("unit").1;
            let and = match (p, q) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            };
            let or = match (p, q) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            };
            assert_eq!(
                st.criterion(0).map(|r| r.status()),
                Some(status(and)),
                "{p:?} and {q:?}"
            );
            assert_eq!(
                st.criterion(1).map(|r| r.status()),
                Some(status(or)),
                "{p:?} or {q:?}"
            );
            assert_eq!(
                st.criterion(2).map(|r| r.status()),
                Some(status(p.map(|b| !b))),
                "not {p:?}"
            );
            assert_eq!(st.criterion(3).map(|r| r.status()), Some(Status::Met));
            assert_eq!(
                st.criterion(4).map(|r| r.status()),
                Some(status(Some(p.unwrap_or(false)))),
                "{p:?} ?? false"
            );
        }
    }
}

const RANKED: &str = r#"campaign c "C" {
  period 2024-01-01 .. 2024-12-31
  indicator x "X" : number
  target t: x >= 50 { points 100 proportional }
  rank by score within bloc then by x
  award top "Top" { limit 1 per bloc }
}
"#;

fn ranked_rows(prog: &Program, xs: &[(u8, bool)]) -> Vec<UnitRow> {
    xs.iter()
        .enumerate()
        .map(|(i, (x, in_a))| {
            row(
                prog,
                &format!("u{i}"),
                if *in_a { "A" } else { "B" },
                &[("x", &x.to_string())],
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Adding a unit to bloc A never changes a rank or an award in bloc B.
    #[test]
    fn another_bloc_does_not_change_ranks(xs in proptest::collection::vec((0u8..100, any::<bool>()), 1..30), extra in 0u8..100) {
        let prog = program(RANKED);
        let rows = ranked_rows(&prog, &xs);
        let before = evaluate(&prog, rows.clone()).expect("evaluates");
        let mut more = rows;
        more.push(row(&prog, "new", "A", &[("x", &extra.to_string())]));
        let after = evaluate(&prog, more).expect("evaluates");
        for (r, st) in before.units().filter(|(r, _)| r.bloc.as_deref() == Some("B")) {
            let (_, st2) = after.unit(&r.id).expect("unit");
            prop_assert_eq!(st.rank, st2.rank, "{}", r.id);
            prop_assert_eq!(&st.awards, &st2.awards, "{}", r.id);
        }
    }

    /// The same data gives the same results, byte for byte.
    #[test]
    fn evaluation_is_deterministic(xs in proptest::collection::vec((0u8..100, any::<bool>()), 1..40)) {
        let prog = program(RANKED);
        let rows = ranked_rows(&prog, &xs);
        let a = evaluate(&prog, rows.clone()).expect("evaluates");
        let b = evaluate(&prog, rows).expect("evaluates");
        let ja = thidua::report::eval_json(&prog, &a, &[], serde_json::json!([]));
        let jb = thidua::report::eval_json(&prog, &b, &[], serde_json::json!([]));
        prop_assert_eq!(ja, jb);
        // Ranks are competition ranks by (score, x): one more than the
        // number of units of the bloc strictly better.
        let x_of = |r: &UnitRow| r.values.first().and_then(|v| v.num());
        for (r, st) in a.units() {
            let key = (st.score, x_of(r));
            let better = a
                .units()
                .filter(|(o, s)| o.bloc == r.bloc && (s.score, x_of(o)) > key)
                .count();
            prop_assert_eq!(st.rank, Some(better as u32 + 1), "{}", r.id);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The comparison that skips rescaling orders numbers as rust_decimal
    /// does, whatever their signs, scales and magnitudes.
    #[test]
    fn decimal_comparison_is_rust_decimal_order(
        a in any::<i64>(), sa in 0u32..28, b in any::<i64>(), sb in 0u32..28, same in any::<bool>(), big in any::<bool>(),
        wide in any::<bool>(),
    ) {
        let sb = if same { sa } else { sb };
        let x = Decimal::from_i128_with_scale(a as i128 * if wide { 1 << 30 } else { 1 }, sa);
        let y = Decimal::from_i128_with_scale(b as i128 * if big { 1 << 32 } else { 1 }, sb);
        prop_assert_eq!(thidua::eval::cmp_dec(&x, &y), x.cmp(&y));
        prop_assert_eq!(thidua::eval::cmp_dec(&x, &x), std::cmp::Ordering::Equal);
        prop_assert_eq!(thidua::eval::cmp_dec(&-x, &x), (-x).cmp(&x));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// A plain number in the `en` locale reads as rust_decimal reads it:
    /// same value and same scale (trailing zeros kept, unless they do not
    /// fit), any length; but a number with more significant digits than a
    /// decimal holds, which rust_decimal rounds, is refused.
    #[test]
    fn en_numbers_read_as_rust_decimal(
        neg in any::<bool>(), int in "[0-9]{1,30}", frac in proptest::option::of("[0-9]{1,30}"),
    ) {
        let text = match &frac {
            Some(f) => format!("{int}.{f}"),
            None => int.clone(),
        };
        let want = <Decimal as std::str::FromStr>::from_str(&text);
        let signed = if neg { format!("-{text}") } else { text.clone() };
        let got = thidua::data::parse_number(&signed, thidua::data::Locale::En);
        match (want, got) {
            (Ok(w), Ok(g)) => {
                let w = if neg { -w } else { w };
                prop_assert_eq!(w, g);
                prop_assert_eq!(w.scale(), g.scale());
                prop_assert_eq!(w.is_sign_negative(), g.is_sign_negative());
            }
            (Err(_), Err(_)) => {}
            (Ok(w), Err(_)) if significant_digits(&text) > 28 || rounded(&text, w) => {}
            (w, g) => prop_assert!(false, "{signed}: rust_decimal {w:?}, thidua {g:?}"),
        }
    }
}

/// Whether rust_decimal's `w` is not the plain number `t` exactly (it
/// rounds digits past the 28th decimal place).
fn rounded(t: &str, w: Decimal) -> bool {
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let int = match int.trim_start_matches('0') {
        "" => "0",
        i => i,
    };
    let exact = match frac.trim_end_matches('0') {
        "" => int.to_string(),
        f => format!("{int}.{f}"),
    };
    w.normalize().to_string() != exact
}

/// The digits of a plain number from its first non-zero one to its last
/// non-zero one.
fn significant_digits(t: &str) -> usize {
    let d: String = t.chars().filter(char::is_ascii_digit).collect();
    d.trim_start_matches('0').trim_end_matches('0').len()
}

const SHAPES: &str = r#"campaign c "C" {
  period 2024-01-01 .. 2024-12-31
  indicator x "X" : percent
  indicator y "Y" : percent
  indicator n "N" : number
  indicator ok "OK" : bool
  indicator sent "Sent" : date
  target ge: x >= 50%
  target gt: x > 50%
  target le: x <= 50%
  target lt: x < 50%
  target eq: x == 50%
  target ne: x != 50%
  target band: x >= 40% .. 60%
  target inside: x in 40% .. 60%
  target scaled: n >= 2.5 * y
  target scaled_after: n <= y * 2.5
  target mixed: n / y - 1 <= n * 2 + y
  target both: all {
    "X": x >= 50%
    "Y": y <= 30%
  }
  target either: any {
    x >= 70%
    y < 10%
  }
  target two: at_least 2 of {
    x >= 50%
    y >= 50%
    ok
  }
  target flag: ok
  target nested: all {
    any {
      x >= 70%
      ok
    }
    y <= 30%
    x >= 10% .. 20%
  }
  target scored: x >= 45% { points 10 }
  target cut: y <= 20% {
    points 10
    penalty 1 per 1% above
  }
  target part: x >= 45% { points 10 proportional }
  checklist form "Form" {
    item a "A"
    item b "B"
    item c "C"
    require at_least 2
    points 6 per item
  }
  checklist plain "Plain" {
    item p "P"
    item q "Q"
  }
  deadline due "Due": sent by 2024-03-31 {
    points 5
    penalty 1 per day late, max 5
  }
  scoring { precision 2 }
  rank by score within bloc then by x
  rating grade "Grade" {
    top "Top" when score >= 40 and all targets met
    good "Good" when score >= 20 and status(ge) == met
    rest "Rest" otherwise
  }
  award flag "Flag" {
    when rating == top or rank <= 2
    limit 1 per bloc
  }
  award note "Note" {
    when score >= 15 and not awarded(flag)
    limit 50% per bloc
  }
}
"#;

/// A cell of the generated data: blank, or a value near the goals (with
/// one, two or three decimals, so that scales differ).
fn cell() -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(0.85, (0u32..1000, 0u32..3)).prop_map(|o| {
        o.map(|(v, d)| match d {
            0 => format!("{}", v / 10),
            1 => format!("{}.{}", v / 10, v % 10),
            _ => format!("{}.{}0", v / 10, v % 10),
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The statuses-only evaluation (targets compiled to column reads and
    /// constant comparisons) gives every status and point the full
    /// evaluation gives.
    #[test]
    fn statuses_only_agrees_with_full(
        units in proptest::collection::vec((cell(), cell(), cell(), proptest::option::of(any::<bool>())), 1..20),
    ) {
        let prog = program(SHAPES);
        let rows: Vec<UnitRow> = units
            .iter()
            .enumerate()
            .map(|(k, (x, y, n, ok))| {
                let mut cells = Vec::new();
                let okt = ok.map(|b| if b { "true" } else { "false" });
                let sent = n.as_deref().map(|v| format!("2024-0{}-{:02}", 3 + v.len() % 2, 20 + v.len() * 2));
                let tick = |k: usize| x.as_deref().map(|v| if v.len() > k { "true" } else { "false" });
                for (name, v) in [
                    ("x", x.as_deref()), ("y", y.as_deref()), ("n", n.as_deref()), ("ok", okt),
                    ("sent", sent.as_deref()), ("form.a", tick(2)), ("form.b", tick(3)),
                    ("form.c", tick(4)), ("plain.p", okt), ("plain.q", tick(3)),
                ] {
                    if let Some(v) = v {
                        cells.push((name, v));
                    }
                }
                row(&prog, &format!("u{k}"), if k % 3 == 0 { "b1" } else { "b2" }, &cells)
            })
            .collect();
        let full = evaluate(&prog, rows.clone()).expect("evaluates");
        let quick = thidua::eval::evaluate_with(&prog, rows, thidua::eval::Detail::Statuses).expect("evaluates");
        for ((_, a), (_, b)) in full.units().zip(quick.units()) {
            for (k, (ca, cb)) in a.criteria().zip(b.criteria()).enumerate() {
                prop_assert_eq!(ca.status(), cb.status(), "criterion {}", prog.criteria[k].id);
                prop_assert_eq!(ca.points(), cb.points(), "criterion {}", prog.criteria[k].id);
            }
            prop_assert_eq!(a.score, b.score);
            prop_assert_eq!(a.rank, b.rank);
            prop_assert_eq!(a.rating, b.rating);
            prop_assert_eq!(&a.awards, &b.awards);
        }
    }
}
