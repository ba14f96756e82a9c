//! Shared by the benchmarks and by `gen_data`: a deterministic generator of
//! realistic data for the Bắc Giang 2024 plan, a generator of large plans,
//! and the loading helpers. No randomness crate: a SplitMix64 seeded per run,
//! so every run of every benchmark sees the same units.
#![allow(dead_code)]

pub mod bg20;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use std::time::Duration;

/// The allocator of the `thidua` binary (src/main.rs), so that the library
/// is measured as the command runs it.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::NaiveDate;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use thidua::data::{self, Locale};
use thidua::diag::SourceMap;
use thidua::eval::UnitRow;
use thidua::ir::Program;

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, good enough for data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f()
    }
    /// Integer in [lo, hi].
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    /// Normal (Box–Muller).
    pub fn gauss(&mut self, mean: f64, sd: f64) -> f64 {
        let u1 = self.f().max(1e-12);
        let u2 = self.f();
        mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

// ---------------------------------------------------------------------------
// Clocks.
// ---------------------------------------------------------------------------

/// `THIDUA_BENCH_CLOCK=cpu` times with the CPU time of the process (every
/// thread) instead of the wall clock: on a machine shared with other jobs
/// it counts only this process's work, and it is what "per core" means.
pub fn cpu_clock() -> bool {
    std::env::var("THIDUA_BENCH_CLOCK").is_ok_and(|v| v == "cpu")
}

/// The CPU time of the process (`CLOCK_PROCESS_CPUTIME_ID`).
pub fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A criterion measurement of process CPU time.
pub struct CpuTime {
    wall: WallTime,
}

impl Default for CpuTime {
    fn default() -> Self {
        CpuTime { wall: WallTime }
    }
}

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        process_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        process_cpu_time().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}

/// `main` for a criterion benchmark whose functions are generic over the
/// measurement: the wall clock, or [`CpuTime`] under `THIDUA_BENCH_CLOCK=cpu`.
#[macro_export]
macro_rules! bench_main {
    ($($f:path),+ $(,)?) => {
        fn main() {
            if common::cpu_clock() {
                let mut c = criterion::Criterion::default()
                    .with_measurement(common::CpuTime::default())
                    .configure_from_args();
                $($f(&mut c);)+
                c.final_summary();
            } else {
                let mut c = criterion::Criterion::default().configure_from_args();
                $($f(&mut c);)+
                c.final_summary();
            }
        }
    };
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn bac_giang_plan_path() -> PathBuf {
    manifest_dir().join("examples/bac_giang_2024/plan.thidua")
}

/// Check a plan file; panics on errors (the benchmarks run on valid plans).
pub fn load_plan(path: &Path) -> Program {
    let checked = thidua::check::check_file(path, &mut SourceMap::default())
        .unwrap_or_else(|e| panic!("cannot read {}: {}", path.display(), e.0));
    checked
        .program
        .unwrap_or_else(|| panic!("{} does not check: {:?}", path.display(), checked.diags))
}

/// Check plan text; panics on errors.
pub fn load_plan_str(text: &str, name: &str) -> Program {
    let checked = thidua::check::check_str(text, name, None, &mut SourceMap::default());
    checked
        .program
        .unwrap_or_else(|| panic!("{name} does not check: {:?}", checked.diags))
}

pub fn bac_giang() -> Program {
    load_plan(&bac_giang_plan_path())
}

/// Read a CSV text through the library's reader (as `thidua eval --data`
/// does), once, outside any timed loop.
pub fn rows_from_csv(prog: &Program, csv: &str) -> Vec<UnitRow> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("units.csv");
    std::fs::write(&path, csv).expect("write temp csv");
    let ds =
        data::read_files(prog, &[&path], Locale::En, false).unwrap_or_else(|e| panic!("{}", e.0));
    assert!(
        ds.errors.is_empty(),
        "generated data has errors: {:?}",
        &ds.errors[..ds.errors.len().min(3)]
    );
    ds.rows
}

// ---------------------------------------------------------------------------
// Bắc Giang 2024 data.
// ---------------------------------------------------------------------------

/// The 11 checklist items of `std.chi_thi_26` used by the plan.
pub const CHECKLIST_ITEMS: [&str; 11] = [
    "ba_dam.dam_noi",
    "ba_dam.dam_lam",
    "ba_dam.dam_chiu_trach_nhiem",
    "ba_hon.quyet_liet_hon",
    "ba_hon.linh_hoat_hon",
    "ba_hon.hieu_qua_hon",
    "nam_ro.ro_nguoi",
    "nam_ro.ro_viec",
    "nam_ro.ro_tien_do",
    "nam_ro.ro_trach_nhiem",
    "nam_ro.ro_ket_qua",
];

/// The indicator columns of the Bắc Giang plan, in the order of its
/// example data (examples/bac_giang_2024/data.csv); the checklist items
/// ([`CHECKLIST_ITEMS`]) follow.
pub const BG_COLUMNS: [&str; 40] = [
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
    "admin_reorg_done",
    "complaint_dialogue_rate",
    "commune_police_hq_rate",
    "plan_submitted",
    "report_6m_submitted",
    "report_year_submitted",
    "co_ky_luat",
    "so_vu_khieu_kien_dong_nguoi",
];

/// Units per bloc: ranking is `within bloc` and awards are limited per bloc.
pub const UNITS_PER_BLOC: usize = 50;

fn rate(rng: &mut Rng, mean: f64, sd: f64) -> f64 {
    rng.gauss(mean, sd).clamp(0.0, 100.0)
}

fn date_plus(base: NaiveDate, days: i64) -> String {
    (base + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// The CSV header of the generated Bắc Giang data.
pub fn bac_giang_header() -> String {
    let mut h = String::from("id,name,bloc");
    for c in BG_COLUMNS {
        h.push(',');
        h.push_str(c);
    }
    for c in CHECKLIST_ITEMS {
        h.push(',');
        h.push_str(c);
    }
    h.push('\n');
    h
}

/// Append one generated unit (row `i`) to `out`. Values scatter around each
/// goal of the plan, so every status occurs (exceeded, met on the dot,
/// not met, late); no cell is empty.
pub fn bac_giang_row(out: &mut String, i: usize, n: usize, rng: &mut Rng) {
    let blocs = n.div_ceil(UNITS_PER_BLOC).max(1);
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    let budget_share = rng.int(2, 15);
    let investment_share = rng.int(2, 15);
    let tourist_share = rng.int(1, 20);
    let full = |rng: &mut Rng, p: f64, lo: i64| {
        if rng.chance(p) {
            100
        } else {
            rng.int(lo, 99)
        }
    };
    let _ = write!(out, "u{i:07},Đơn vị {i},Khối {}", i % blocs);
    let v: [String; 40] = [
        format!("{:.1}", rng.gauss(14.5, 2.0)),
        format!("{}", rng.int(2_500, 7_500)),
        format!("{:.1}", rng.gauss(13.5, 2.0)),
        format!(
            "{:.2}",
            16_068.0 * budget_share as f64 / 100.0 * rng.uniform(0.8, 1.25)
        ),
        format!("{budget_share}"),
        format!(
            "{:.0}",
            103_580.0 * investment_share as f64 / 100.0 * rng.uniform(0.8, 1.25)
        ),
        format!("{investment_share}"),
        format!("{:.1}", rng.gauss(139.0, 8.0).max(50.0)),
        format!(
            "{:.3}",
            2.3 * tourist_share as f64 / 100.0 * rng.uniform(0.7, 1.4)
        ),
        format!("{tourist_share}"),
        format!("{:.1}", rng.uniform(10.0, 80.0)),
        format!("{:.2}", rate(rng, 88.0, 8.0)),
        format!("{:.1}", rate(rng, 95.0, 4.0)),
        format!("{:.1}", rate(rng, 27.0, 6.0)),
        format!("{:.1}", rng.gauss(34.4, 5.0).max(5.0)),
        format!("{:.2}", rate(rng, 99.3, 0.4)),
        format!("{:.1}", rate(rng, 42.5, 6.0)),
        format!("{:.1}", rate(rng, 82.0, 6.0)),
        format!("{:.1}", rate(rng, 92.6, 5.0)),
        format!("{:.1}", rate(rng, 88.0, 7.0)),
        format!("{:.2}", rate(rng, 1.82, 0.8)),
        format!("{:.1}", rate(rng, 78.0, 5.0)),
        format!("{:.1}", rate(rng, 34.0, 5.0)),
        format!("{:.1}", rate(rng, 2.5, 0.6)),
        format!("{:.1}", rate(rng, 64.0, 15.0)),
        format!("{:.1}", rate(rng, 95.0, 4.0)),
        format!("{:.1}", rate(rng, 58.0, 15.0)),
        format!("{:.1}", rate(rng, 87.0, 6.0)),
        format!("{:.1}", rate(rng, 97.5, 2.0)),
        format!("{:.1}", rate(rng, 80.6, 8.0)),
        format!("{}", full(rng, 0.8, 50)),
        format!("{:.1}", rng.uniform(0.5, 60.0)),
        format!("{}", rng.chance(0.85)),
        format!("{}", full(rng, 0.85, 80)),
        format!("{}", full(rng, 0.8, 60)),
        date_plus(d(2024, 1, 31), rng.int(-15, 7)),
        date_plus(d(2024, 6, 15), rng.int(-10, 5)),
        date_plus(d(2024, 11, 15), rng.int(-10, 5)),
        format!("{}", rng.chance(0.03)),
        format!("{}", [0, 0, 0, 0, 0, 0, 0, 1, 2, 3][rng.int(0, 9) as usize]),
    ];
    for x in &v {
        out.push(',');
        out.push_str(x);
    }
    for _ in CHECKLIST_ITEMS {
        out.push_str(if rng.chance(0.85) { ",true" } else { ",false" });
    }
    out.push('\n');
}

/// `n` generated units for the Bắc Giang plan, as CSV text.
pub fn bac_giang_csv(n: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = bac_giang_header();
    out.reserve(n * 330);
    for i in 0..n {
        bac_giang_row(&mut out, i, n, &mut rng);
    }
    out
}

pub const SEED: u64 = 2024;

// ---------------------------------------------------------------------------
// Large generated plans.
// ---------------------------------------------------------------------------

/// A plan of `criteria` scored targets over `indicators` percent indicators,
/// in sections of 100: four in five are comparisons (`>=`, `<=`, band
/// goals), one in five an `all { … }` group of two or three comparisons.
pub fn large_plan(criteria: usize, indicators: usize) -> String {
    let mut rng = Rng::new(criteria as u64 * 7919 + indicators as u64);
    let mut s = String::with_capacity(criteria * 120 + indicators * 60);
    s.push_str("// Generated by benches/common/mod.rs (large_plan).\n\n");
    let _ = writeln!(
        s,
        "campaign generated_{criteria} \"Kế hoạch sinh tự động: {criteria} tiêu chí\" {{"
    );
    s.push_str("  issuer \"Hội đồng Thi đua - Khen thưởng\"\n");
    s.push_str("  period 2024-01-01 .. 2024-12-31\n\n");
    for j in 0..indicators {
        let _ = writeln!(s, "  indicator i{j} \"Chỉ tiêu số {j}\" : percent");
    }
    s.push('\n');
    let sections = criteria.div_ceil(100);
    let mut k = 0;
    for sec in 0..sections {
        let _ = writeln!(s, "  section s{sec} \"Nhóm tiêu chí {sec}\" {{");
        for _ in 0..100 {
            if k == criteria {
                break;
            }
            let ind = |rng: &mut Rng| rng.int(0, indicators as i64 - 1);
            let goal = |rng: &mut Rng| rng.int(100, 900) as f64 / 10.0;
            match k % 10 {
                0 | 5 => {
                    let _ = writeln!(s, "    target c{k} \"Tiêu chí {k}\": all {{");
                    for _ in 0..(2 + k % 2) {
                        let (a, g) = (ind(&mut rng), goal(&mut rng));
                        let _ = writeln!(s, "      i{a} >= {g}%");
                    }
                    s.push_str("    } { points 1 }\n");
                }
                3 => {
                    let (a, g) = (ind(&mut rng), goal(&mut rng));
                    let _ = writeln!(
                        s,
                        "    target c{k} \"Tiêu chí {k}\": i{a} <= {g}% {{ points 1 }}"
                    );
                }
                7 => {
                    let (a, g) = (ind(&mut rng), goal(&mut rng));
                    let _ = writeln!(
                        s,
                        "    target c{k} \"Tiêu chí {k}\": i{a} >= {g} .. {}% {{ points 1 }}",
                        g + 5.0
                    );
                }
                _ => {
                    let (a, g) = (ind(&mut rng), goal(&mut rng));
                    let _ = writeln!(
                        s,
                        "    target c{k} \"Tiêu chí {k}\": i{a} >= {g}% {{ points 1 }}"
                    );
                }
            }
            k += 1;
        }
        s.push_str("  }\n");
    }
    let _ = writeln!(s, "\n  scoring {{ total {criteria} precision 2 }}");
    s.push_str("}\n");
    s
}

/// `n` units for a plan made by [`large_plan`]: every indicator a percent
/// uniform in 0..100.
pub fn large_plan_csv(indicators: usize, n: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut s = String::from("id");
    for j in 0..indicators {
        let _ = write!(s, ",i{j}");
    }
    s.push('\n');
    for i in 0..n {
        let _ = write!(s, "u{i:07}");
        for _ in 0..indicators {
            let _ = write!(s, ",{:.1}", rng.uniform(0.0, 100.0));
        }
        s.push('\n');
    }
    s
}
