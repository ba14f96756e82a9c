//! Values, types and units of measure.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::sync::Arc;

/// A runtime value. Numbers of every dimension are stored in the base unit
/// of their dimension (`16_068 tỷ đồng` is 16 068 000 000 000 đồng; `14.5%`
/// is 0.145); the static type says how to read and show them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    #[default]
    Missing,
    Num(Decimal),
    Bool(bool),
    Date(NaiveDate),
    Text(Arc<str>),
    Level(u32),
    Status(Status),
}

impl Value {
    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing)
    }
    pub fn num(&self) -> Option<Decimal> {
        match self {
            Value::Num(d) => Some(*d),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// The status of a criterion for one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Exceeded,
    Met,
    NotMet,
    Late,
    Missing,
    NotApplicable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Exceeded => "exceeded",
            Status::Met => "met",
            Status::NotMet => "not_met",
            Status::Late => "late",
            Status::Missing => "missing",
            Status::NotApplicable => "not_applicable",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "exceeded" => Status::Exceeded,
            "met" => Status::Met,
            "not_met" => Status::NotMet,
            "late" => Status::Late,
            "missing" => Status::Missing,
            "not_applicable" => Status::NotApplicable,
            _ => return None,
        })
    }
    /// Met or exceeded.
    pub fn is_met(self) -> bool {
        matches!(self, Status::Met | Status::Exceeded)
    }
    /// The order used by groups: `not_met < missing < met < exceeded`.
    pub fn rank(self) -> u8 {
        match self {
            Status::NotMet | Status::Late => 0,
            Status::Missing | Status::NotApplicable => 1,
            Status::Met => 2,
            Status::Exceeded => 3,
        }
    }
    /// Whether a status satisfies a status word in a test or a comparison:
    /// `met` accepts `exceeded`, `not_met` accepts `late`.
    pub fn matches(self, word: Status) -> bool {
        match word {
            Status::Met => self.is_met(),
            Status::NotMet => matches!(self, Status::NotMet | Status::Late),
            w => self == w,
        }
    }
}

/// The calendar kind of a duration: days and weeks never compare with
/// months and years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurKind {
    Days,
    Months,
}

/// A dimension: a base unit, or a quotient of two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dim {
    pub num: u32,
    pub den: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Number,
    Percent,
    Quantity(Dim),
    Duration(DurKind),
    Bool,
    Date,
    Text,
    Level(usize),
    Status,
    /// The type of an expression that already failed to check.
    Error,
}

impl Type {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Number | Type::Percent)
    }
}

/// How a value of some dimension is written: `tỷ đồng` is the base unit
/// (`đồng`) times 10⁹.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Display {
    pub factor: Decimal,
    pub text: Option<String>,
}

impl Display {
    pub fn plain() -> Self {
        Display {
            factor: Decimal::ONE,
            text: None,
        }
    }
    pub fn percent() -> Self {
        Display {
            factor: Decimal::new(1, 2),
            text: Some("%".into()),
        }
    }
}

/// A base unit or a named multiple of one.
#[derive(Debug, Clone)]
pub struct UnitDef {
    pub name: String,
    pub label: Option<String>,
    /// The base dimension this unit measures.
    pub base: u32,
    /// How many base units one of this unit is.
    pub factor: Decimal,
}

/// Scale words and their factors.
pub fn scale_factor(words: &[String]) -> Option<Decimal> {
    let mut f = Decimal::ONE;
    for w in words {
        let m = match w.as_str() {
            "nghìn" | "ngàn" | "thousand" => Decimal::from(1_000u32),
            "triệu" | "million" => Decimal::from(1_000_000u32),
            "tỷ" | "tỉ" | "billion" => Decimal::from(1_000_000_000u64),
            _ => return None,
        };
        f = f.checked_mul(m)?;
    }
    Some(f)
}

/// Plain notation without trailing zeros: `92.5`, `10`, `0.7`.
pub fn fmt_dec(d: Decimal) -> String {
    let n = d.normalize();
    if n.is_zero() {
        return "0".into();
    }
    n.to_string()
}

/// Round half away from zero.
pub fn round_half_away(d: Decimal, places: u32) -> Decimal {
    d.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// The decimal a number written in plain digits (`-1234.50`) stands for,
/// exactly: `None` when it has more significant digits than a decimal
/// holds, where `Decimal::from_str` would round it to a neighbour. Zeros at
/// the end of the fraction may be dropped to fit: the value is the same.
pub fn exact_decimal(s: &str) -> Option<Decimal> {
    use std::str::FromStr;
    let d = Decimal::from_str(s).ok()?;
    // Up to 28 digits in all, nothing can have been rounded (the common
    // case, checked without building strings).
    if s.bytes().filter(u8::is_ascii_digit).count() <= 28 {
        return Some(d);
    }
    // Both as digits without sign, leading zeros or trailing zeros of the
    // fraction: equal when nothing was rounded away.
    fn digits(t: &str) -> String {
        let t = t.trim_start_matches(['-', '+']);
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        if frac.is_empty() {
            int.to_string()
        } else {
            format!("{int}.{frac}")
        }
    }
    (digits(s) == digits(&d.normalize().to_string())).then_some(d)
}

/// `a × b`, or `None` when the product overflows or, for a factor that is
/// a power of ten (a percent's 0.01, a scale word's 10⁹, `/10_000 người`),
/// when rust_decimal would round it: such a factor only moves the decimal
/// point, so a rounded product means the number had more digits than a
/// decimal holds. (Other factors are not decimal fractions and were
/// rounded when the unit was declared.)
pub fn mul_exact(a: Decimal, b: Decimal) -> Option<Decimal> {
    let p = a.checked_mul(b)?;
    // The product of the mantissas at the sum of the scales is the exact
    // product; when it fits a decimal, nothing was rounded (the common
    // case, checked without a division).
    let fits = a.scale() + b.scale() <= 28
        && (a.mantissa().unsigned_abs())
            .checked_mul(b.mantissa().unsigned_abs())
            .is_some_and(|m| m < 1 << 96);
    if fits {
        return Some(p);
    }
    let m = b.mantissa().unsigned_abs();
    let power_of_ten = m != 0 && {
        let mut k = m;
        while k.is_multiple_of(10) {
            k /= 10;
        }
        k == 1
    };
    if !power_of_ten {
        return Some(p);
    }
    (p.checked_div(b) == Some(a)).then_some(p)
}

#[cfg(test)]
mod exact_tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn exact_products_are_kept_and_rounded_ones_refused() {
        assert_eq!(mul_exact(d("14.5"), d("0.01")), Some(d("0.145")));
        assert_eq!(
            mul_exact(d("964.08"), d("1000000000")),
            Some(d("964080000000"))
        );
        // 28 significant digits times 10⁻²: 30 decimals, rounded by
        // rust_decimal.
        assert_eq!(
            mul_exact(d("0.1450000000000000000000000001"), d("0.01")),
            None
        );
        // Trailing zeros dropped to fit keep the value.
        assert_eq!(
            mul_exact(d("1.0000000000000000000000000000"), d("0.01")),
            Some(d("0.01"))
        );
        // Not a power of ten: the factor is already rounded, the product kept.
        assert!(mul_exact(d("14.5"), d("0.3333333333333333333333333333")).is_some());
    }

    #[test]
    fn exact_decimal_refuses_what_from_str_rounds() {
        assert_eq!(exact_decimal("14.50"), Some(d("14.50")));
        assert_eq!(exact_decimal("-0.5"), Some(d("-0.5")));
        assert_eq!(exact_decimal("14.50000000000000000000000000001"), None);
        assert_eq!(
            exact_decimal("80000000000000000000000000.000"),
            Some(d("80000000000000000000000000"))
        );
    }
}
