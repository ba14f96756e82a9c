//! The 20 numbered targets of the Bắc Giang 2024 plan (II.2), outside
//! thidua: a hand-written Rust baseline over a struct (rust_decimal), and
//! the same targets as source text for the peer engines.
//!
//! Status codes: 0 not met, 1 met (exactly on the goal), 2 exceeded — the
//! rules of LANGUAGE.md §4.1 (`all { … }` takes the worst child; a band goal
//! `low .. high` is met from `low` and exceeded above `high`). Percents are
//! in percent points, as in the CSV. The generated data has no empty cell, so
//! none of these handles `missing`.

use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::str::FromStr;

/// A goal: a constant, or a constant times a share in percent of the
/// province's total (`16_068 tỷ đồng * budget_share`).
#[derive(Clone, Copy)]
pub enum Goal {
    Const(&'static str),
    Share(&'static str, &'static str),
}

#[derive(Clone, Copy)]
pub enum Leaf {
    /// Higher is better: `col >= goal`.
    Ge(&'static str, Goal),
    /// Lower is better: `col <= goal`.
    Le(&'static str, Goal),
    /// Band goal `col >= low .. high`.
    Band(&'static str, &'static str, &'static str),
    /// A bool indicator.
    Bool(&'static str),
}

pub enum Cond {
    One(Leaf),
    All(&'static [Leaf]),
}

use Goal::*;
use Leaf::*;

pub const TARGETS: [(&str, Cond); 20] = [
    ("t1", Cond::One(Ge("grdp_growth", Const("14.5")))),
    ("t2", Cond::One(Ge("grdp_per_capita", Const("4500")))),
    (
        "t3",
        Cond::One(Ge("labor_productivity_growth", Const("13.5"))),
    ),
    (
        "t4",
        Cond::One(Ge("budget_revenue", Share("16068", "budget_share"))),
    ),
    (
        "t5",
        Cond::One(Ge(
            "investment_capital",
            Share("103580", "investment_share"),
        )),
    ),
    ("t6", Cond::One(Band("agri_value_per_ha", "138", "140"))),
    (
        "t7",
        Cond::One(Ge("tourists", Share("2.3", "tourist_share"))),
    ),
    ("t8", Cond::One(Ge("urban_population_rate", Const("33.3")))),
    ("t9", Cond::One(Ge("ntm_commune_rate", Const("87.36")))),
    (
        "t10",
        Cond::All(&[
            Ge("school_level1_rate", Const("95.2")),
            Ge("school_level2_rate", Const("26.6")),
        ]),
    ),
    (
        "t11",
        Cond::All(&[
            Ge("hospital_beds", Const("34.4")),
            Ge("health_insurance_rate", Const("99.32")),
            Ge("social_insurance_rate", Const("42.5")),
        ]),
    ),
    (
        "t12",
        Cond::All(&[
            Ge("cultural_village_rate", Const("82")),
            Ge("civilized_ward_rate", Const("92.6")),
            Ge("cultural_institution_rate", Const("88")),
        ]),
    ),
    ("t13", Cond::One(Le("poverty_rate", Const("1.82")))),
    (
        "t14",
        Cond::All(&[
            Ge("trained_labor_rate", Const("78")),
            Ge("certified_labor_rate", Const("34")),
            Le("urban_unemployment_rate", Const("2.5")),
        ]),
    ),
    (
        "t15",
        Cond::All(&[
            Ge("clean_water", Const("63.8")),
            Ge("clean_water_urban", Const("94")),
            Ge("clean_water_rural", Const("57.5")),
        ]),
    ),
    (
        "t16",
        Cond::All(&[
            Ge("waste_collection_rate", Const("86.7")),
            Ge("waste_urban", Const("97.5")),
            Ge("waste_rural", Const("80.6")),
        ]),
    ),
    ("t17", Cond::One(Ge("kcn_wastewater_rate", Const("100")))),
    ("t18", Cond::One(Ge("forest_cover", Const("37.7")))),
    ("t19", Cond::One(Bool("admin_reorg_done"))),
    (
        "t20",
        Cond::All(&[
            Ge("complaint_dialogue_rate", Const("100")),
            Ge("commune_police_hq_rate", Const("100")),
        ]),
    ),
];

/// The numeric columns the 20 targets read, in [`Unit::nums`] order;
/// `admin_reorg_done` is the one bool.
pub const NUM_COLUMNS: [&str; 35] = [
    "grdp_growth",
    "grdp_per_capita",
    "labor_productivity_growth",
    "budget_revenue",
    "budget_share",
    "investment_capital",
    "investment_share",
    "agri_value_per_ha",
    "tourists",
    "tourist_share",
    "urban_population_rate",
    "ntm_commune_rate",
    "school_level1_rate",
    "school_level2_rate",
    "hospital_beds",
    "health_insurance_rate",
    "social_insurance_rate",
    "cultural_village_rate",
    "civilized_ward_rate",
    "cultural_institution_rate",
    "poverty_rate",
    "trained_labor_rate",
    "certified_labor_rate",
    "urban_unemployment_rate",
    "clean_water",
    "clean_water_urban",
    "clean_water_rural",
    "waste_collection_rate",
    "waste_urban",
    "waste_rural",
    "kcn_wastewater_rate",
    "forest_cover",
    "complaint_dialogue_rate",
    "commune_police_hq_rate",
    // unused by the targets but read by the baseline like the others
    "so_vu_khieu_kien_dong_nguoi",
];
pub const BOOL_COLUMN: &str = "admin_reorg_done";

/// One unit, parsed: what every engine is given.
#[derive(Clone, Debug)]
pub struct Unit {
    pub nums: [Decimal; 35],
    pub admin_reorg_done: bool,
}

/// Column positions of [`NUM_COLUMNS`] and [`BOOL_COLUMN`] in a header.
pub fn positions(header: &csv::StringRecord) -> ([usize; 35], usize) {
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let mut nums = [0; 35];
    for (k, c) in NUM_COLUMNS.iter().enumerate() {
        nums[k] = find(c);
    }
    (nums, find(BOOL_COLUMN))
}

pub fn parse_unit(rec: &csv::StringRecord, pos: &([usize; 35], usize)) -> Unit {
    let mut nums = [Decimal::ZERO; 35];
    for (k, &p) in pos.0.iter().enumerate() {
        nums[k] = Decimal::from_str(&rec[p]).expect("number");
    }
    Unit {
        nums,
        admin_reorg_done: &rec[pos.1] == "true",
    }
}

/// Parse the units of a generated CSV (outside any timed loop).
pub fn parse_units(csv_text: &str) -> Vec<Unit> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let pos = positions(r.headers().expect("header"));
    r.records()
        .map(|rec| parse_unit(&rec.expect("record"), &pos))
        .collect()
}

// ---------------------------------------------------------------------------
// The hand-written baseline.
// ---------------------------------------------------------------------------

/// The goals, as decimals, computed once.
pub struct Goals {
    g: [Decimal; 40],
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

impl Default for Goals {
    fn default() -> Self {
        let mut g = [Decimal::ZERO; 40];
        let consts = [
            // 16_068 tỷ đồng, 103_580 tỷ đồng and 2.3 triệu lượt, already
            // divided by 100: the shares are in percent.
            "14.5", "4500", "13.5", "160.68", "1035.8", "138", "140", "0.023", "33.3", "87.36",
            "95.2", "26.6", "34.4", "99.32", "42.5", "82", "92.6", "88", "1.82", "78", "34", "2.5",
            "63.8", "94", "57.5", "86.7", "97.5", "80.6", "100", "37.7", "100",
        ];
        for (k, c) in consts.iter().enumerate() {
            g[k] = d(c);
        }
        Goals { g }
    }
}

#[inline]
fn ge(x: Decimal, goal: Decimal) -> u8 {
    match x.cmp(&goal) {
        Ordering::Greater => 2,
        Ordering::Equal => 1,
        Ordering::Less => 0,
    }
}

#[inline]
fn le(x: Decimal, goal: Decimal) -> u8 {
    ge(goal, x)
}

/// The 20 targets, hard-coded.
#[inline]
pub fn baseline(u: &Unit, g: &Goals) -> [u8; 20] {
    let n = &u.nums;
    let g = &g.g;
    [
        ge(n[0], g[0]),
        ge(n[1], g[1]),
        ge(n[2], g[2]),
        ge(n[3], g[3] * n[4]),
        ge(n[5], g[4] * n[6]),
        if n[7] > g[6] {
            2
        } else if n[7] >= g[5] {
            1
        } else {
            0
        },
        ge(n[8], g[7] * n[9]),
        ge(n[10], g[8]),
        ge(n[11], g[9]),
        ge(n[12], g[10]).min(ge(n[13], g[11])),
        ge(n[14], g[12]).min(ge(n[15], g[13])).min(ge(n[16], g[14])),
        ge(n[17], g[15]).min(ge(n[18], g[16])).min(ge(n[19], g[17])),
        le(n[20], g[18]),
        ge(n[21], g[19]).min(ge(n[22], g[20])).min(le(n[23], g[21])),
        ge(n[24], g[22]).min(ge(n[25], g[23])).min(ge(n[26], g[24])),
        ge(n[27], g[25]).min(ge(n[28], g[26])).min(ge(n[29], g[27])),
        ge(n[30], g[28]),
        ge(n[31], g[29]),
        u.admin_reorg_done as u8,
        ge(n[32], g[30]).min(ge(n[33], g[30])),
    ]
}

pub fn status_word(s: u8) -> &'static str {
    match s {
        2 => "exceeded",
        1 => "met",
        _ => "not_met",
    }
}

// ---------------------------------------------------------------------------
// The targets as source text for the peers.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
pub enum Dialect {
    /// CEL: `c ? a : b`, `&&`, float literals (`4500.0`), the data as doubles.
    Cel,
    /// GoRules Zen: `c ? a : b`, `and`, decimal numbers.
    Zen,
    /// Rhai: `if c { a } else { b }`, `&&`; with `decimal` + `no_float`
    /// every literal with a point is a Decimal.
    Rhai,
}

fn lit(s: &str, dialect: Dialect) -> String {
    if dialect != Dialect::Zen && !s.contains('.') {
        format!("{s}.0")
    } else {
        s.to_string()
    }
}

fn goal(g: Goal, dialect: Dialect) -> String {
    match g {
        Const(c) => lit(c, dialect),
        Share(c, share) => format!("({} * {share} / {})", lit(c, dialect), lit("100", dialect)),
    }
}

/// (condition met-or-better, condition exceeded) of a leaf.
fn leaf_conds(l: Leaf, dialect: Dialect) -> (String, String) {
    match l {
        Ge(x, g) => {
            let g = goal(g, dialect);
            (format!("{x} >= {g}"), format!("{x} > {g}"))
        }
        Le(x, g) => {
            let g = goal(g, dialect);
            (format!("{x} <= {g}"), format!("{x} < {g}"))
        }
        Band(x, lo, hi) => (
            format!("{x} >= {}", lit(lo, dialect)),
            format!("{x} > {}", lit(hi, dialect)),
        ),
        Bool(x) => (x.to_string(), "false".to_string()),
    }
}

fn ternary(c: &str, a: &str, b: &str, dialect: Dialect) -> String {
    match dialect {
        Dialect::Rhai => format!("if {c} {{ {a} }} else {{ {b} }}"),
        _ => format!("({c} ? {a} : {b})"),
    }
}

/// One target's status (0, 1, 2) as an expression of the dialect.
pub fn source(cond: &Cond, dialect: Dialect) -> String {
    let and = if dialect == Dialect::Zen {
        " and "
    } else {
        " && "
    };
    let leaves: Vec<(String, String)> = match cond {
        Cond::One(l) => vec![leaf_conds(*l, dialect)],
        Cond::All(ls) => ls.iter().map(|l| leaf_conds(*l, dialect)).collect(),
    };
    if let Cond::One(Bool(x)) = cond {
        return ternary(x, "1", "0", dialect);
    }
    let ok: Vec<&str> = leaves.iter().map(|(a, _)| a.as_str()).collect();
    let ex: Vec<&str> = leaves.iter().map(|(_, b)| b.as_str()).collect();
    let inner = ternary(&ex.join(and), "2", "1", dialect);
    ternary(&ok.join(and), &inner, "0", dialect)
}

/// The hand-written end-to-end baseline: read a CSV of units, evaluate the
/// 20 targets, write `id` and one status column per target. One thread,
/// streaming, one reused record: what `thidua eval --format csv` is measured
/// against. Returns the number of units.
pub fn csv_to_csv(input: &std::path::Path, output: &std::path::Path) -> std::io::Result<usize> {
    let mut r = csv::Reader::from_path(input)?;
    let pos = positions(r.headers()?);
    let id = r
        .headers()?
        .iter()
        .position(|h| h == "id")
        .expect("an id column");
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(output)?));
    let mut header = vec!["id"];
    header.extend(TARGETS.iter().map(|(t, _)| *t));
    w.write_record(&header)?;
    let goals = Goals::default();
    let mut rec = csv::StringRecord::new();
    let mut n = 0;
    while r.read_record(&mut rec)? {
        let unit = parse_unit(&rec, &pos);
        let st = baseline(&unit, &goals);
        let mut out: [&str; 21] = [""; 21];
        out[0] = &rec[id];
        for (k, s) in st.iter().enumerate() {
            out[k + 1] = status_word(*s);
        }
        w.write_record(out)?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}
