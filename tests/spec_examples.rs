//! LANGUAGE.md sections 1–8: every example must be accepted as written and
//! mean what the text says.
//!
//! The first part embeds every fenced code block of sections 1–8 verbatim
//! (`spec_blocks_are_all_embedded` keeps the copies honest when the spec is
//! at hand) in the smallest project that gives its names a meaning, and runs
//! `thidua check`. The second part evaluates small CSVs with
//! `thidua eval --format json` and checks the rules of sections 4, 5 and 6.

mod common;

use common::*;
use serde_json::Value;

// ---------------------------------------------------------------------------
// The code blocks of LANGUAGE.md, verbatim.
// ---------------------------------------------------------------------------

/// §2 Declarations.
const BLOCK_DECLARATIONS: &str = r#"use std.units                // a stdlib module (embedded in the binary)
use "common/khoi.thidua"     // a file, relative to this file, inside the project root

unit đồng "đồng (VND)"       // a base unit
unit VND = 1 đồng            // an alias/scaled unit of the same dimension
unit USD "đô la Mỹ"          // another dimension: never converts to đồng

levels xep_loai_nhiem_vu {   // an ordered enumeration, lowest first
  khong_hoan_thanh "Không hoàn thành nhiệm vụ" alias "KHTNV"
  hoan_thanh "Hoàn thành nhiệm vụ" alias "HTNV"
  hoan_thanh_tot "Hoàn thành tốt nhiệm vụ" alias "HTTNV"
  hoan_thanh_xuat_sac "Hoàn thành xuất sắc nhiệm vụ" alias "HTXSNV"
}

campaign bac_giang_2024 "Phát động các phong trào thi đua năm 2024" {
  issuer "UBND tỉnh Bắc Giang"
  theme  "Đoàn kết, kỷ cương, đổi mới, sáng tạo …"
  period 2024-01-01 .. 2024-12-31
  basis  "Luật Thi đua, khen thưởng 2022", "Chỉ thị số 26-CT/TU ngày 02/6/2023"
  … indicators, lets, sections, criteria, scoring, ratings, awards, tests …
}
"#;
/// The omission of the §2 block (`…` marks an omission).
const OMISSION: &str =
    "  … indicators, lets, sections, criteria, scoring, ratings, awards, tests …\n";

/// §2.1 Indicators.
const BLOCK_INDICATORS: &str = r#"indicator grdp_growth "Tốc độ tăng GRDP" : percent
indicator grdp_per_capita "GRDP bình quân đầu người" : USD
indicator budget_revenue "Thu ngân sách nhà nước" : tỷ đồng
indicator tourists "Khách du lịch" : triệu lượt
indicator admin_reorg_done "Hoàn thành sắp xếp ĐVHC" : bool
indicator plan_submitted "Ngày gửi văn bản phát động" : date
indicator task_rating "Xếp loại" : xep_loai_nhiem_vu
indicator note "Ghi chú" : text
"#;

/// §4.1 Targets.
const BLOCK_TARGETS: &str = r#"target t1 "(1) Tốc độ tăng GRDP đạt 14,5%": grdp_growth >= 14.5%
target t13 "(13) Tỷ lệ hộ nghèo còn 1,82%": poverty_rate <= 1.82%
target t6 "(6) Giá trị sản xuất/ha đạt 138-140 triệu đồng": agri_value_per_ha >= 138 .. 140 triệu đồng
target t19 "(19) Hoàn thành sắp xếp ĐVHC": admin_reorg_done
target t15 "(15) Nước sạch 63,8% (thành thị 94%, nông thôn 57,5%)": all {
  clean_water >= 63.8%
  clean_water_urban >= 94%
  clean_water_rural >= 57.5%
}
target pci "PCI cao hơn năm trước": pci > previous(pci)
"#;

/// §4.3 Checklists.
const BLOCK_CHECKLIST: &str = r#"checklist nam_ro "5 rõ" {
  item ro_nguoi "Rõ người"
  item ro_viec "Rõ việc"
  item ro_trach_nhiem "Rõ trách nhiệm"
  item ro_thoi_gian "Rõ thời gian"
  item ro_ket_qua "Rõ kết quả"
  require all                 // or: require at_least 4 (the default is all)
}
"#;

/// §4.3 A target whose expression ends with a block.
const BLOCK_TARGET_OPTIONS: &str = r#"target t7 "Nước sạch": all {
  clean_water_urban >= 94%
  clean_water_rural >= 57.5%
} { points 10 }
"#;

/// §4.5 Adjustments.
const BLOCK_ADJUSTMENTS: &str = r#"adjust sk "Có sáng kiến cấp tỉnh được công nhận": +2 when sang_kien_cap_tinh
adjust kl "Có cá nhân bị kỷ luật": -5 when co_ky_luat
adjust th "Tập huấn (5 điểm/buổi, tối đa 20)": +5 per so_buoi_tap_huan, max 20
adjust vp "Vi phạm (trừ 2 điểm/lần)": -2 per so_lan_vi_pham, max 10
"#;

/// §5 Scoring.
const BLOCK_SCORING: &str = r#"target t1 "…": grdp_growth >= 14.5% {
  points 10 proportional          // 10 when met; else 10 × achievement, clamped to 0..1
  bonus 0.5 per 1% above, max 2   // whole steps beyond the goal
}
deadline d1 "…": plan_submitted by 2024-01-31 {
  points 5
  penalty 1 per day late, max 5
}
checklist nam_ro { points 10 per item }   // 2 points per item that holds
scoring { total 100  precision 2 }
"#;

/// §6 Ranking, ratings and awards.
const BLOCK_RANKING: &str = r#"rank by score within bloc then by grdp_growth   // default: by score, within bloc
rating xep_loai "Xếp loại thi đua" {
  xuat_sac "Xuất sắc" when score >= 90 and all targets met
  tot "Tốt" when score >= 80
  kha "Khá" when score >= 65
  trung_binh "Trung bình" otherwise
}
award co_thi_dua "Cờ thi đua của UBND tỉnh" {
  when rating == xuat_sac
  limit 1 per bloc
}
award bang_khen "Bằng khen của Chủ tịch UBND tỉnh" {
  when score >= 85 and not awarded(co_thi_dua)
  limit 2 per bloc
}
"#;

/// §8 Tests inside criteria files.
const BLOCK_TEST: &str = r#"test "Huyện đạt toàn bộ chỉ tiêu" {
  data "testdata/khoi-huyen.csv"                 // relative to this file, or inline:
  given hiep_hoa { bloc = "Khối huyện", grdp_growth = 15.2%, plan_submitted = 20/01/2024 }
  given viet_yen { bloc = "Khối huyện", grdp_growth = 13.1% }
  expect hiep_hoa.t1 is exceeded
  expect viet_yen.t1 is not_met
  expect viet_yen.d1 is missing
  expect hiep_hoa.score == 92.5
  expect hiep_hoa.rank == 1
  expect hiep_hoa.rating == xuat_sac
  expect hiep_hoa has co_thi_dua
  expect not (viet_yen has co_thi_dua)
}
"#;

const ALL_BLOCKS: &[&str] = &[
    BLOCK_DECLARATIONS,
    BLOCK_INDICATORS,
    BLOCK_TARGETS,
    BLOCK_CHECKLIST,
    BLOCK_TARGET_OPTIONS,
    BLOCK_ADJUSTMENTS,
    BLOCK_SCORING,
    BLOCK_RANKING,
    BLOCK_TEST,
];

/// A campaign around a fragment of a campaign's body.
fn campaign(uses: &str, decls: &str, body: &str) -> String {
    format!(
        "{uses}\ncampaign spec \"Ví dụ của LANGUAGE.md\" {{\n  period 2024-01-01 .. 2024-12-31\n{decls}\n{body}\n}}\n"
    )
}

/// Writes `files` into a fresh project, checks `main`, and asserts that no
/// error is reported (warnings are allowed) and the exit code is 0.
#[track_caller]
fn assert_checks_clean(files: &[(&str, &str)], main: &str) -> Vec<Value> {
    let p = Project::new();
    for (name, text) in files {
        p.write(name, text);
    }
    let r = p.run(["check", "--format", "json", &format!("./{main}")]);
    let diags = r.json().as_array().cloned().unwrap_or_default();
    let errs: Vec<&Value> = errors(&diags);
    assert!(
        errs.is_empty() && r.code == 0,
        "`{main}` must check without errors (exit {}):\n{:#?}\n--- file ---\n{}",
        r.code,
        errs,
        files
            .iter()
            .find(|(n, _)| *n == main)
            .map(|(_, t)| *t)
            .unwrap_or("")
    );
    diags
}

#[test]
fn spec_blocks_are_all_embedded() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/LANGUAGE.md");
    let Ok(text) = std::fs::read_to_string(&spec) else {
        eprintln!("{} not found: skipped", spec.display());
        return;
    };
    let body = text.split("\n## 9.").next().unwrap();
    let mut blocks = Vec::new();
    let mut cur: Option<String> = None;
    for line in body.lines() {
        if line.starts_with("```") {
            match cur.take() {
                Some(b) => blocks.push(b),
                None => cur = Some(String::new()),
            }
        } else if let Some(b) = cur.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    assert!(
        blocks.len() >= 9,
        "expected at least 9 code blocks in §1–8, found {}",
        blocks.len()
    );
    for b in &blocks {
        assert!(
            ALL_BLOCKS.contains(&b.as_str()),
            "this code block of LANGUAGE.md §1–8 is not embedded verbatim in tests/spec_examples.rs:\n{b}"
        );
    }
}

#[test]
fn block_declarations_section_2() {
    let main = BLOCK_DECLARATIONS.replace(OMISSION, "");
    assert_ne!(main, BLOCK_DECLARATIONS, "the omission line was not found");
    assert_checks_clean(
        &[
            ("common/khoi.thidua", "unit lượt_khách \"lượt khách\"\n"),
            ("plan.thidua", &main),
        ],
        "plan.thidua",
    );
}

#[test]
fn block_indicators_section_2_1() {
    let src = campaign(
        "use std.units\nuse std.xep_loai",
        "",
        &format!(
            "{BLOCK_INDICATORS}\ntarget r \"đọc mọi chỉ tiêu\": present(grdp_growth) and present(grdp_per_capita) and present(budget_revenue) and present(tourists) and admin_reorg_done and present(plan_submitted) and present(task_rating) and present(note)\n"
        ),
    );
    let d = assert_checks_clean(&[("plan.thidua", &src)], "plan.thidua");
    assert!(d.is_empty(), "no warning expected: {d:#?}");
}

const TARGET_INDICATORS: &str = r#"
  indicator grdp_growth "Tốc độ tăng GRDP" : percent
  indicator poverty_rate "Tỷ lệ hộ nghèo" : percent
  indicator agri_value_per_ha "Giá trị sản xuất/ha" : triệu đồng
  indicator admin_reorg_done "Hoàn thành sắp xếp ĐVHC" : bool
  indicator clean_water "Nước sạch" : percent
  indicator clean_water_urban "Nước sạch thành thị" : percent
  indicator clean_water_rural "Nước sạch nông thôn" : percent
  indicator pci "PCI" : number
"#;

#[test]
fn block_targets_section_4_1() {
    let src = campaign("use std.units", TARGET_INDICATORS, BLOCK_TARGETS);
    let d = assert_checks_clean(&[("plan.thidua", &src)], "plan.thidua");
    assert!(d.is_empty(), "no warning expected: {d:#?}");
}

#[test]
fn block_checklist_section_4_3_at_file_level_and_used() {
    // On its own (it starts with `checklist`: a whole file) …
    assert_checks_clean(&[("nam_ro.thidua", BLOCK_CHECKLIST)], "nam_ro.thidua");
    // … inside a campaign …
    let inside = campaign("", "", BLOCK_CHECKLIST);
    assert_checks_clean(&[("plan.thidua", &inside)], "plan.thidua");
    // … and named by a campaign that imports it.
    let user = campaign(
        "use \"nam_ro.thidua\"",
        "",
        "checklist nam_ro { points 10 per item }",
    );
    assert_checks_clean(
        &[("nam_ro.thidua", BLOCK_CHECKLIST), ("plan.thidua", &user)],
        "plan.thidua",
    );
}

#[test]
fn block_target_options_section_4_3() {
    let src = campaign("use std.units", TARGET_INDICATORS, BLOCK_TARGET_OPTIONS);
    assert_checks_clean(&[("plan.thidua", &src)], "plan.thidua");
}

#[test]
fn block_adjustments_section_4_5() {
    let src = campaign(
        "",
        r#"
  indicator sang_kien_cap_tinh "Sáng kiến cấp tỉnh" : bool
  indicator co_ky_luat "Có kỷ luật" : bool
  indicator so_buoi_tap_huan "Số buổi tập huấn" : number
  indicator so_lan_vi_pham "Số lần vi phạm" : number
"#,
        BLOCK_ADJUSTMENTS,
    );
    assert_checks_clean(&[("plan.thidua", &src)], "plan.thidua");
}

#[test]
fn block_scoring_section_5() {
    let src = campaign(
        "use std.chi_thi_26",
        r#"
  indicator grdp_growth "Tốc độ tăng GRDP" : percent
  indicator plan_submitted "Ngày gửi văn bản" : date
"#,
        BLOCK_SCORING,
    );
    let d = assert_checks_clean(&[("plan.thidua", &src)], "plan.thidua");
    // 12 + 5 + 10 = 27, not 100: the warning of §5.
    assert!(
        codes(&d).iter().any(|c| c == "thidua::points-total"),
        "the declared total 100 differs from 27: expected thidua::points-total, got {d:#?}"
    );
}

#[test]
fn block_ranking_section_6() {
    let src = campaign(
        "",
        r#"
  indicator grdp_growth "Tốc độ tăng GRDP" : percent
  target t1 "GRDP": grdp_growth >= 14.5% { points 100 proportional }
"#,
        BLOCK_RANKING,
    );
    assert_checks_clean(&[("plan.thidua", &src)], "plan.thidua");
}

/// A campaign in which the §8 example holds: hiep_hoa scores 10 + 5 + 77.5.
fn section_8_campaign(test_block: &str) -> String {
    campaign(
        "",
        r#"
  indicator grdp_growth "Tốc độ tăng GRDP" : percent
  indicator plan_submitted "Ngày gửi văn bản" : date
  target t1 "(1) GRDP 14,5%": grdp_growth >= 14.5% {
    points 10 proportional
    bonus 0.5 per 1% above, max 2
  }
  deadline d1 "Gửi văn bản": plan_submitted by 2024-01-31 {
    points 5
    penalty 1 per day late, max 5
  }
  target t2 "Thuộc khối huyện": bloc == "Khối huyện" { points 77.5 }
  rank by score within bloc then by grdp_growth
  rating xep_loai "Xếp loại thi đua" {
    xuat_sac "Xuất sắc" when score >= 90 and all targets met
    tot "Tốt" when score >= 80
    trung_binh "Trung bình" otherwise
  }
  award co_thi_dua "Cờ thi đua của UBND tỉnh" {
    when rating == xuat_sac
    limit 1 per bloc
  }
"#,
        test_block,
    )
}

const SECTION_8_DATA: &str = "id,bloc,grdp_growth,plan_submitted\nyen_dung,Khối sở,20,2024-01-01\n";

#[test]
fn block_test_section_8_checks_and_passes() {
    let src = section_8_campaign(BLOCK_TEST);
    let files = [
        ("plan.thidua", src.as_str()),
        ("testdata/khoi-huyen.csv", SECTION_8_DATA),
    ];
    assert_checks_clean(&files, "plan.thidua");
    let p = Project::new();
    for (n, t) in files {
        p.write(n, t);
    }
    let r = p.run(["test", "./plan.thidua"]);
    r.expect_code(0);
    assert!(r.stdout.contains("1 passed, 0 failed"), "{}", r.stdout);

    // The same expectations fail when they are wrong.
    let wrong = section_8_campaign(&BLOCK_TEST.replace("== 92.5", "== 92.4"));
    p.write("plan.thidua", &wrong);
    let r = p.run(["test", "./plan.thidua"]);
    r.expect_code(1);
    assert!(r.stdout.contains("0 passed, 1 failed"), "{}", r.stdout);
    assert!(
        r.stdout.contains("92.4") && r.stdout.contains("92.5"),
        "a failing expect reports expected and actual:\n{}",
        r.stdout
    );
}

#[test]
fn block_test_section_8_in_a_test_file_that_imports_the_plan() {
    let plan = section_8_campaign("");
    let tests = format!("use \"plan.thidua\"\n\n{BLOCK_TEST}");
    let p = Project::new();
    p.write("plan.thidua", &plan);
    p.write("tests.thidua", &tests);
    p.write("testdata/khoi-huyen.csv", SECTION_8_DATA);
    let r = p.run(["test", "."]);
    r.expect_code(0);
    assert!(r.stdout.contains("1 passed, 0 failed"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------
// Inline examples of the running text of §1–§7.
// ---------------------------------------------------------------------------

#[test]
fn inline_examples_sections_1_to_3() {
    let src = campaign(
        "use std.units\nuse std.xep_loai",
        r#"
  /// Doc comment on an indicator.
  indicator tăng_trưởng_GRDP "Tăng trưởng GRDP" : percent
  indicator grdp_per_capita "GRDP/người" : USD/người
  indicator budget_revenue "Thu ngân sách" : tỷ đồng
  indicator tourists "Khách du lịch" : triệu lượt
  indicator agri "Giá trị/ha" : triệu đồng/ha
  indicator beds "Giường bệnh" : giường/10_000 người
  indicator insured "BHYT" : percent
  indicator gdp "GDP" : tỷ đồng
  indicator workers "Lao động" : người
  indicator sent "Ngày gửi" : date
  indicator approved "Ngày duyệt" : date
  indicator xep_loai "Xếp loại" : xep_loai_nhiem_vu
  indicator wait "Thời gian chờ" : duration
"#,
        r#"
  /* block comment */
  target n1 "Số: 12, 14.5, 4_500, 16_068": 12 + 14.5 + 4_500 + 16_068 > 0
  target n2 "Percent": tăng_trưởng_GRDP >= 14.5%
  target n3 "Ngày": sent <= 31/01/2024 and sent >= 2024-01-01
  target n4 "Khoảng thời gian": wait <= 7 days + 2 weeks and approved - sent <= 30 days
  target n5 "Tháng và năm": 3 months + 1 year >= 1 month
  target n6 "Lịch": 31/01/2024 + 1 month == 29/02/2024
  target q1 "USD/người": grdp_per_capita >= 4_500 USD/người
  target q2 "tỷ đồng": budget_revenue >= 16_068 tỷ đồng
  target q3 "triệu lượt": tourists >= 2.3 triệu lượt
  target q4 "triệu đồng/ha": agri >= 138 triệu đồng/ha
  target q5 "giường/10.000 người": beds >= 34.4 giường/10_000 người
  target q6 "scale words": budget_revenue >= 1 nghìn tỷ đồng + 2 ngàn đồng + 3 tỉ đồng + 1 thousand đồng + 1 million đồng + 1 billion đồng
  target l1 "hai dòng": all {
    beds >= 34.4 giường/10_000 người
    insured >= 99%
  }
  let productivity_growth = (gdp / workers) / previous(gdp / workers) - 1
  target l2 "Năng suất": productivity_growth >= 5%
  target e1 "??": (insured ?? 0%) >= 50% and present(insured)
  target e2 "hàm": min(insured, 1) >= 0 and max(insured, 0) >= 0 and abs(-1) == 1
    and round(insured, 2) >= 0 and floor(1.5) == 1 and ceil(1.5) == 2
    and year(sent) == 2024 and month(sent) >= 1 and day(sent) >= 1
    and days_between(sent, approved) >= 0
  target e3 "if": (if insured >= 50% then 1 else 0) == 1
  target e4 "levels": xep_loai >= hoan_thanh_tot
  target e5 "in": insured in 90% .. 100%
  target e6 "not": not (insured < 50%)
  target e7 "strings": "a\"b\\c\n\u{1EA1}" != ""
"#,
    );
    let d = assert_checks_clean(&[("plan.thidua", &src)], "plan.thidua");
    assert!(d.is_empty(), "no warning expected: {d:#?}");
}

#[test]
fn inline_examples_sections_4_to_7() {
    let src = campaign(
        "use std.units\nuse std.chi_thi_26\nuse std.xep_loai",
        r#"
  indicator grdp_growth "Tốc độ tăng GRDP" : percent
  indicator plan_submitted "Ngày gửi" : date
  indicator clean_water_urban "Nước sạch thành thị" : percent
  indicator xep_loai "Xếp loại" : xep_loai_nhiem_vu
  indicator pci "PCI" : number
"#,
        r#"
  deadline d1 "Gửi văn bản phát động về Hội đồng TĐKT tỉnh": plan_submitted by 2024-01-31
  deadline d2 "trước ngày 30/5/2024": plan_submitted before 30/05/2024
  section kinh_te "Kinh tế" {
    target t1 "GRDP": grdp_growth >= 14.5% { points 10 }
    section con "Mục con" {
      target t2 "PCI năm 2022": pci > pci@2022 { points 5 }
    }
  }
  section khoi_huyen "Chỉ tiêu khối huyện" for bloc == "Khối huyện" {
    target t3 "Nước sạch": any {
      "Thành thị": clean_water_urban >= 94%
      xep_loai >= hoan_thanh_tot
    } { points 5 }
  }
  target t4 "Chỉ cá nhân" for kind == "ca_nhan": xep_loai >= hoan_thanh_tot
  target t5 "3 năm liền": streak(grdp_growth >= 14.5%) >= 3
  section tap_the "Tập thể" for kind == "tap_the" {
    target m1 "Thành viên": count(members) >= 1 and count(members where xep_loai >= hoan_thanh) >= 1
    target m2 "Tỷ lệ": share(members where present(pci) and pci >= 1) >= 70%
    target m3 "Tổng": sum(members, pci) >= 0 and avg(members, pci) >= 0
      and min(members, pci) >= 0 and max(members, pci) >= 0
    target m4 "Toàn bộ": count(descendants where kind == "ca_nhan") >= 1
  }
  checklist ba_dam { require at_least 2 }
  checklist nam_ro { blank false }
  rank by score within bloc then by grdp_growth ascending
  rating xep_loai_thi_dua "Xếp loại" {
    xuat_sac "Xuất sắc" when all criteria met and count(not_met) == 0 and count(missing) == 0
    tot "Tốt" when status(t1) == met
    kha "Khá" otherwise
  }
  award lao_dong_tien_tien "Lao động tiên tiến" {
    when kind == "ca_nhan" and xep_loai >= hoan_thanh_tot
    limit 30% per bloc
  }
  award chien_si "Chiến sĩ thi đua cơ sở" {
    when awarded(lao_dong_tien_tien) and xep_loai == hoan_thanh_xuat_sac
    limit 15% of awarded(lao_dong_tien_tien) per parent
  }
  award tap_the_xuat_sac "Tập thể lao động xuất sắc" {
    when kind == "tap_the" and share(members where awarded(lao_dong_tien_tien)) >= 70%
  }
"#,
    );
    assert_checks_clean(&[("plan.thidua", &src)], "plan.thidua");
}

/// §6: "In rating and award conditions these are available: `score`, `rank`,
/// …". `rank` is a reserved word, and the parser does not read it as a value.
#[test]
fn rank_in_rating_and_award_conditions() {
    let src = campaign(
        "",
        "  indicator x \"X\" : number",
        r#"
  target t1 "T1": x >= 1 { points 10 proportional }
  rating r "R" {
    dau "Dẫn đầu" when rank == 1
    khac "Khác" otherwise
  }
  award top2 "Top 2" {
    when rank <= 2
  }
"#,
    );
    assert_checks_clean(&[("plan.thidua", &src)], "plan.thidua");
    let r = eval_json(
        &src,
        "id,x
a,1
b,0.5
c,0.2
",
    );
    assert_eq!(unit(&r, "a")["rating"], "dau");
    assert_eq!(unit(&r, "b")["rating"], "khac");
    assert_eq!(unit(&r, "b")["awards"], serde_json::json!(["top2"]));
    assert_eq!(unit(&r, "c")["awards"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------
// Behaviour: §4 statuses, §5 points, §6 ranks and awards.
// ---------------------------------------------------------------------------

#[test]
fn band_goal_138_140() {
    let plan = campaign(
        "use std.units",
        "  indicator agri_value_per_ha \"Giá trị/ha\" : triệu đồng",
        "  target t6 \"(6) 138-140 triệu đồng\": agri_value_per_ha >= 138 .. 140 triệu đồng",
    );
    let r = eval_json(
        &plan,
        "id,agri_value_per_ha\nu137,137\nu138,138\nu140,140\nu141,141\n",
    );
    for (u, s) in [
        ("u137", "not_met"),
        ("u138", "met"),
        ("u140", "met"),
        ("u141", "exceeded"),
    ] {
        assert_eq!(status(&r, u, "t6"), s, "{u}: band 138 .. 140");
        // The goal reported is `low`, in the declared scale and unit.
        let g = &crit(&r, u, "t6")["goal"];
        assert_eq!(value_of(g).as_deref(), Some("138"), "{u}: goal");
        assert_eq!(g["unit"], "triệu đồng", "{u}: goal unit");
    }
    assert_eq!(
        value_of(&crit(&r, "u137", "t6")["gap"]).as_deref(),
        Some("-1")
    );
    assert_eq!(
        value_of(&crit(&r, "u141", "t6")["gap"]).as_deref(),
        Some("3")
    );
}

#[test]
fn band_goal_bonus_counts_from_high() {
    let plan = campaign(
        "use std.units",
        "  indicator v \"V\" : triệu đồng",
        "  target t6 \"T6\": v >= 138 .. 140 triệu đồng {\n    points 4\n    bonus 0.5 per 2 triệu đồng above, max 2\n  }",
    );
    let r = eval_json(&plan, "id,v\na,141\nb,142\nc,145.9\nd,150\n");
    // (141-140)/2 → 0 steps; (142-140)/2 → 1; 5.9/2 → 2; 10/2 → 5 capped at 2 points.
    for (u, p) in [("a", "4"), ("b", "4.5"), ("c", "5"), ("d", "6")] {
        assert_eq!(crit(&r, u, "t6")["points"], p, "{u}");
    }
    assert_eq!(crit(&r, "a", "t6")["max_points"], "6");
}

#[test]
fn lower_is_better_reports_goal_over_actual() {
    let plan = campaign(
        "",
        "  indicator poverty_rate \"Hộ nghèo\" : percent",
        "  target t13 \"(13) còn 1,82%\": poverty_rate <= 1.82%",
    );
    let r = eval_json(&plan, "id,poverty_rate\nlow,0.91\non,1.82\nhigh,3.64\n");
    assert_eq!(status(&r, "low", "t13"), "exceeded");
    assert_eq!(status(&r, "on", "t13"), "met");
    assert_eq!(status(&r, "high", "t13"), "not_met");
    // achievement = goal / actual for lower-is-better.
    assert_eq!(crit(&r, "low", "t13")["achievement"], "2");
    assert_eq!(crit(&r, "on", "t13")["achievement"], "1");
    assert_eq!(crit(&r, "high", "t13")["achievement"], "0.5");
    let c = crit(&r, "high", "t13");
    assert_eq!(value_of(&c["actual"]).as_deref(), Some("3.64"));
    assert_eq!(value_of(&c["goal"]).as_deref(), Some("1.82"));
    assert_eq!(value_of(&c["gap"]).as_deref(), Some("1.82"));
    assert_eq!(c["actual"]["unit"], "%");
}

#[test]
fn strict_comparison_is_met_or_not_met() {
    let plan = campaign(
        "",
        "  indicator pci \"PCI\" : number\n  indicator chi_so \"Chỉ số\" : number",
        "  target t1 \"cao hơn 60\": pci > 60\n  target t2 \"thấp hơn 5\": chi_so < 5",
    );
    let r = eval_json(
        &plan,
        "id,pci,chi_so\nabove,61,4\nequal,60,5\nbelow,59,6\nfar,90,1\n",
    );
    assert_eq!(status(&r, "above", "t1"), "met");
    assert_eq!(
        status(&r, "far", "t1"),
        "met",
        "strict `>` is never exceeded"
    );
    assert_eq!(status(&r, "equal", "t1"), "not_met");
    assert_eq!(status(&r, "below", "t1"), "not_met");
    assert_eq!(status(&r, "above", "t2"), "met");
    assert_eq!(
        status(&r, "far", "t2"),
        "met",
        "strict `<` is never exceeded"
    );
    assert_eq!(status(&r, "equal", "t2"), "not_met");
}

#[test]
fn missing_datum_is_missing_with_null_actual() {
    let plan = campaign(
        "",
        "  indicator g \"G\" : percent\n  indicator ok \"OK\" : bool\n  indicator s \"S\" : date",
        "  target t1 \"T1\": g >= 14.5%\n  target t2 \"T2\": ok\n  deadline d1 \"D1\": s by 2024-01-31",
    );
    let r = eval_json(&plan, "id,g,ok,s\nu,,,\n");
    for c in ["t1", "t2", "d1"] {
        assert_eq!(status(&r, "u", c), "missing", "{c}: missing is not false");
    }
    let c = crit(&r, "u", "t1");
    assert!(
        c["actual"].is_null(),
        "actual must be null when missing: {c}"
    );
    assert_eq!(value_of(&c["goal"]).as_deref(), Some("14.5"));
}

#[test]
fn group_statuses_all_any_at_least() {
    let plan = campaign(
        "",
        "  indicator a \"A\" : number\n  indicator b \"B\" : number\n  indicator c \"C\" : number",
        r#"
  target g_all "all": all {
    a >= 10
    b >= 10
    c >= 10
  }
  target g_any "any": any { a >= 10, b >= 10, c >= 10 }
  target g_two "at_least 2": at_least 2 of { a >= 10, b >= 10, c >= 10 }
"#,
    );
    let r = eval_json(
        &plan,
        "id,a,b,c\nex_met_no,11,10,9\nex_miss_no,11,,9\nmet_met_miss,10,10,\nno_no_miss,1,2,\nall_ex,11,12,13\n",
    );
    let expect = [
        ("ex_met_no", ["not_met", "exceeded", "met"]),
        ("ex_miss_no", ["not_met", "exceeded", "missing"]),
        ("met_met_miss", ["missing", "met", "met"]),
        ("no_no_miss", ["not_met", "missing", "not_met"]),
        ("all_ex", ["exceeded", "exceeded", "exceeded"]),
    ];
    for (u, [all, any, two]) in expect {
        assert_eq!(
            status(&r, u, "g_all"),
            all,
            "{u}: all takes the worst child"
        );
        assert_eq!(status(&r, u, "g_any"), any, "{u}: any takes the best child");
        assert_eq!(
            status(&r, u, "g_two"),
            two,
            "{u}: at_least 2 takes the 2nd best child"
        );
    }
    let children: Vec<&str> = crit(&r, "ex_met_no", "g_all")["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["exceeded", "met", "not_met"]);
}

#[test]
fn deadline_by_versus_before_on_the_due_date() {
    let plan = campaign(
        "",
        "  indicator sent \"Ngày gửi\" : date",
        "  deadline d_by \"chậm nhất 30/05/2024\": sent by 30/05/2024\n  deadline d_before \"trước ngày 30/5/2024\": sent before 30/05/2024",
    );
    let r = eval_json(
        &plan,
        "id,sent\nday_before,29/05/2024\non_day,30/05/2024\nafter,2024-06-02\n",
    );
    assert_eq!(status(&r, "day_before", "d_by"), "met");
    assert_eq!(status(&r, "day_before", "d_before"), "met");
    assert_eq!(status(&r, "on_day", "d_by"), "met");
    assert_eq!(
        status(&r, "on_day", "d_before"),
        "late",
        "`before` makes the due date itself late"
    );
    assert_eq!(status(&r, "after", "d_by"), "late");
    let c = crit(&r, "after", "d_by");
    assert_eq!(c["days_late"], 3);
    assert_eq!(
        value_of(&c["goal"]).as_deref(),
        Some("2024-05-30"),
        "the goal is the due date"
    );
    assert_eq!(
        value_of(&c["gap"]).as_deref(),
        Some("3"),
        "the gap is in days"
    );
    // docs/language-notes.md: met up to the day before; on the day, one day late.
    assert_eq!(crit(&r, "on_day", "d_before")["days_late"], 1);
}

#[test]
fn checklist_at_least_4_with_a_blank_cell() {
    let plan = campaign(
        "",
        "",
        r#"
  checklist nam_ro "5 rõ" {
    item ro_nguoi "Rõ người"
    item ro_viec "Rõ việc"
    item ro_trach_nhiem "Rõ trách nhiệm"
    item ro_thoi_gian "Rõ thời gian"
    item ro_ket_qua "Rõ kết quả"
    require at_least 4
  }
"#,
    );
    let csv = "id,nam_ro.ro_nguoi,nam_ro.ro_viec,nam_ro.ro_trach_nhiem,nam_ro.ro_thoi_gian,nam_ro.ro_ket_qua\n\
               four,x,x,x,x,\n\
               three_blank_one_false,x,x,x,,false\n\
               three_two_false,x,x,x,false,false\n\
               all_true,x,x,x,x,x\n";
    let r = eval_json(&plan, csv);
    // 4 true and a blank: met (never exceeded, even with 5).
    assert_eq!(status(&r, "four", "nam_ro"), "met");
    assert_eq!(status(&r, "all_true", "nam_ro"), "met");
    // 3 true, 1 blank, 1 false: the blank could make it 4 → missing.
    assert_eq!(status(&r, "three_blank_one_false", "nam_ro"), "missing");
    // 3 true, 2 false: fewer than 4 can be true → not_met.
    assert_eq!(status(&r, "three_two_false", "nam_ro"), "not_met");
    assert_eq!(crit(&r, "four", "nam_ro")["items_met"], 4);
    assert_eq!(crit(&r, "four", "nam_ro")["items_total"], 5);

    // `blank false` reads the empty cell as false.
    let plan_blank = plan.replace("require at_least 4", "require at_least 4\n    blank false");
    let r = eval_json(&plan_blank, csv);
    assert_eq!(status(&r, "three_blank_one_false", "nam_ro"), "not_met");
    assert_eq!(status(&r, "four", "nam_ro"), "met");
}

#[test]
fn decimals_are_exact_0_1_plus_0_2() {
    let plan = campaign(
        "",
        "  indicator a \"A\" : number\n  indicator b \"B\" : number",
        "  target t_lit \"literal\": 0.1 + 0.2 == 0.3\n  target t_data \"data\": a + b == 0.3\n  let s = a + b\n  target t_sum \"sum\": s >= 0.3",
    );
    let r = eval_json(&plan, "id,a,b\nu,0.1,0.2\n");
    assert_eq!(status(&r, "u", "t_lit"), "met");
    assert_eq!(status(&r, "u", "t_data"), "met");
    assert_eq!(
        status(&r, "u", "t_sum"),
        "met",
        "0.1 + 0.2 >= 0.3 is met, not exceeded or not_met"
    );
    assert_eq!(
        value_of(&crit(&r, "u", "t_sum")["actual"]).as_deref(),
        Some("0.3")
    );
}

#[test]
fn ty_dong_converts_to_trieu_dong_exactly() {
    let plan = campaign(
        "use std.units",
        "  indicator budget_revenue \"Thu ngân sách\" : tỷ đồng\n  indicator small \"Nhỏ\" : triệu đồng",
        "  target t4 \"500 triệu đồng\": budget_revenue >= 500 triệu đồng\n  target t5 \"tổng\": budget_revenue + small >= 1 tỷ đồng",
    );
    let r = eval_json(
        &plan,
        "id,budget_revenue,small\na,0.5,500\nb,0.499,1\nc,16068,0\n",
    );
    assert_eq!(status(&r, "a", "t4"), "met");
    assert_eq!(status(&r, "b", "t4"), "not_met");
    assert_eq!(status(&r, "c", "t4"), "exceeded");
    assert_eq!(status(&r, "a", "t5"), "met", "0.5 tỷ + 500 triệu = 1 tỷ");
    assert_eq!(status(&r, "b", "t5"), "not_met");
    // Goal and gap in the actual's declared scale and unit.
    let c = crit(&r, "b", "t4");
    assert_eq!(value_of(&c["goal"]).as_deref(), Some("0.5"));
    assert_eq!(c["goal"]["unit"], "tỷ đồng");
    assert_eq!(value_of(&c["gap"]).as_deref(), Some("-0.001"));
    assert_eq!(
        value_of(&crit(&r, "c", "t4")["actual"]).as_deref(),
        Some("16068")
    );
}

/// Walks the report and checks every decimal: a JSON string in plain
/// notation without trailing zeros.
fn check_decimals(v: &Value, path: &str, n: &mut usize) {
    let looks_decimal = |s: &str| {
        s.chars().any(|c| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
            && s.get(1..).is_none_or(|rest| !rest.contains('-')) // not a date
    };
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let p = format!("{path}.{k}");
                let decimal_field = matches!(
                    k.as_str(),
                    "achievement" | "points" | "max_points" | "score"
                ) || (k == "value" && o.contains_key("unit"));
                match x {
                    Value::String(s) if decimal_field && looks_decimal(s) => {
                        assert_plain_decimal(s);
                        *n += 1;
                    }
                    Value::Number(num) if decimal_field => {
                        panic!("{p}: the decimal {num} is a JSON number, not a string")
                    }
                    _ => check_decimals(x, &p, n),
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_decimals(x, &format!("{path}[{i}]"), n);
            }
        }
        _ => {}
    }
}

#[test]
fn json_decimals_are_strings_without_trailing_zeros() {
    let plan = campaign(
        "use std.units",
        "  indicator g \"G\" : percent\n  indicator v \"V\" : tỷ đồng",
        "  target t1 \"T1\": g >= 14.50% { points 10.00 proportional }\n  target t2 \"T2\": v >= 2.500 tỷ đồng { points 5 }\n  scoring { precision 2 }",
    );
    let r = eval_json(&plan, "id,g,v\na,15.20,2.5000\nb,7.250,1.000\n");
    let mut n = 0;
    check_decimals(&r, "$", &mut n);
    assert!(n >= 10, "only {n} decimals seen");
    let c = crit(&r, "a", "t1");
    assert_eq!(c["actual"]["value"], "15.2");
    assert_eq!(c["goal"]["value"], "14.5");
    assert_eq!(c["points"], "10");
    assert_eq!(crit(&r, "a", "t2")["actual"]["value"], "2.5");
    assert_eq!(crit(&r, "b", "t1")["points"], "5");
    assert_eq!(crit(&r, "b", "t2")["actual"]["value"], "1");
    assert_eq!(unit(&r, "b")["score"], "5");
    assert_eq!(unit(&r, "a")["score"], "15");
}

#[test]
fn achievement_string_for_15_2_against_14_5() {
    let plan = campaign(
        "",
        "  indicator grdp_growth \"GRDP\" : percent",
        "  target t1 \"(1) 14,5%\": grdp_growth >= 14.5% {\n    points 10\n    bonus 1 per 1% above, max 2\n  }",
    );
    let r = eval_json(
        &plan,
        "id,name,bloc,grdp_growth\nhiep_hoa,Huyện Hiệp Hòa,Khối huyện,15.2\n",
    );
    let c = crit(&r, "hiep_hoa", "t1");
    assert_eq!(c["status"], "exceeded");
    assert_eq!(c["achievement"], "1.0482758620689655172413793103");
    assert_eq!(
        c["actual"],
        serde_json::json!({"value": "15.2", "unit": "%"})
    );
    assert_eq!(c["goal"], serde_json::json!({"value": "14.5", "unit": "%"}));
    assert_eq!(c["gap"], serde_json::json!({"value": "0.7", "unit": "%"}));
    assert_eq!(c["kind"], "target");
    assert_eq!(c["label"], "(1) 14,5%");
    assert!(c["section"].is_null());
    assert_eq!(c["points"], "10");
    assert_eq!(c["max_points"], "12");
    assert!(c["children"].as_array().is_some_and(|a| a.is_empty()));
    // The CLI.md shape around it.
    assert_eq!(r["campaign"]["id"], "spec");
    assert_eq!(
        r["campaign"]["period"],
        serde_json::json!({"from": "2024-01-01", "to": "2024-12-31"})
    );
    let u = unit(&r, "hiep_hoa");
    assert_eq!(u["name"], "Huyện Hiệp Hòa");
    assert_eq!(u["bloc"], "Khối huyện");
    assert!(r["skipped"].as_array().is_some_and(|a| a.is_empty()));
    assert!(r["warnings"].is_array());
}

#[test]
fn section_5_points_bonus_penalty_precision() {
    let plan = campaign(
        "use std.chi_thi_26",
        "  indicator grdp_growth \"GRDP\" : percent\n  indicator plan_submitted \"Ngày gửi\" : date",
        BLOCK_SCORING,
    );
    let items =
        "nam_ro.ro_nguoi,nam_ro.ro_viec,nam_ro.ro_tien_do,nam_ro.ro_trach_nhiem,nam_ro.ro_ket_qua";
    let csv = format!(
        "id,grdp_growth,plan_submitted,{items}\n\
         on_goal,14.5,2024-01-31,x,x,x,x,x\n\
         bonus_1_5,17.6,2024-02-02,x,x,x,x,false\n\
         capped,20,2024-02-10,x,x,,x,x\n\
         below,13,,false,false,false,false,false\n"
    );
    let r = eval_json(&plan, &csv);
    // t1: 10 proportional, bonus 0.5 per whole 1% above, max 2.
    assert_eq!(crit(&r, "on_goal", "t1")["points"], "10");
    assert_eq!(crit(&r, "bonus_1_5", "t1")["points"], "11.5"); // floor(3.1) = 3 steps
    assert_eq!(crit(&r, "capped", "t1")["points"], "12"); // 5 steps = 2.5, capped at 2
    assert_eq!(crit(&r, "below", "t1")["points"], "8.97"); // 10 × 13/14.5 = 8.9655… → 8.97
    assert_eq!(crit(&r, "on_goal", "t1")["max_points"], "12");
    // d1: 5 points, 1 per day late, max 5.
    assert_eq!(crit(&r, "on_goal", "d1")["points"], "5");
    assert_eq!(crit(&r, "bonus_1_5", "d1")["points"], "3");
    assert_eq!(crit(&r, "capped", "d1")["points"], "0"); // 10 days late, capped at 5
    assert_eq!(crit(&r, "below", "d1")["points"], "0"); // missing scores 0
                                                        // nam_ro: 10 per item = 2 per item that holds.
    assert_eq!(crit(&r, "on_goal", "nam_ro")["points"], "10");
    assert_eq!(crit(&r, "bonus_1_5", "nam_ro")["points"], "8");
    assert_eq!(crit(&r, "capped", "nam_ro")["points"], "8");
    assert_eq!(crit(&r, "below", "nam_ro")["points"], "0");
    // score = sum of points.
    assert_eq!(unit(&r, "on_goal")["score"], "25");
    assert_eq!(unit(&r, "bonus_1_5")["score"], "22.5");
    assert_eq!(unit(&r, "capped")["score"], "20");
    assert_eq!(unit(&r, "below")["score"], "8.97");
    // `total 100` differs from 12 + 5 + 10 = 27.
    let w: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(w.contains(&"thidua::points-total"), "{w:?}");
}

#[test]
fn penalty_below_the_goal_per_step() {
    // "trừ 1 điểm cho mỗi 50 tỷ đồng còn thiếu, tối đa 4 điểm"
    let plan = campaign(
        "use std.units",
        "  indicator rev \"Thu\" : tỷ đồng",
        "  target t4 \"Thu 1.000 tỷ\": rev >= 1_000 tỷ đồng {\n    points 5\n    penalty 1 per 50 tỷ đồng below, max 4\n  }",
    );
    let r = eval_json(
        &plan,
        "id,rev\nok,1000\nshort_1,999\nshort_50,950\nshort_51,949\nfar,100\n",
    );
    for (u, p) in [
        ("ok", "5"),
        ("short_1", "4"),
        ("short_50", "4"),
        ("short_51", "3"),
        ("far", "1"),
    ] {
        assert_eq!(crit(&r, u, "t4")["points"], p, "{u}: ceil(shortfall / 50)");
    }
}

#[test]
fn precision_rounds_half_away_from_zero() {
    let plan = campaign(
        "",
        "  indicator a \"A\" : percent\n  indicator b \"B\" : percent",
        "  target t1 \"T1\": a >= 8% { points 1 proportional }\n  target t2 \"T2\": b >= 8% { points 1 proportional }\n  scoring { precision 2 }",
    );
    // 1/8 = 0.125 → 0.13 (half away from zero; banker's rounding gives 0.12).
    // 3/8 = 0.375 → 0.38.
    let r = eval_json(&plan, "id,a,b\nu,1,3\n");
    assert_eq!(crit(&r, "u", "t1")["points"], "0.13");
    assert_eq!(crit(&r, "u", "t2")["points"], "0.38");
    assert_eq!(unit(&r, "u")["score"], "0.51");

    let plan0 = plan.replace("precision 2", "precision 0");
    let r = eval_json(&plan0, "id,a,b\nu,4,3\n");
    // 0.5 → 1 and 0.375 → 0.
    assert_eq!(crit(&r, "u", "t1")["points"], "1");
    assert_eq!(crit(&r, "u", "t2")["points"], "0");
}

#[test]
fn adjustments_section_4_5() {
    let plan = campaign(
        "",
        r#"
  indicator sang_kien_cap_tinh "Sáng kiến cấp tỉnh" : bool
  indicator co_ky_luat "Có kỷ luật" : bool
  indicator so_buoi_tap_huan "Số buổi tập huấn" : number
  indicator so_lan_vi_pham "Số lần vi phạm" : number
"#,
        &format!("{BLOCK_ADJUSTMENTS}\n  scoring {{ precision 2 }}"),
    );
    let r = eval_json(
        &plan,
        "id,sang_kien_cap_tinh,co_ky_luat,so_buoi_tap_huan,so_lan_vi_pham\n\
         good,true,false,3,0\n\
         bad,false,true,5,7\n\
         unknown,,,,\n",
    );
    assert_eq!(status(&r, "good", "sk"), "met");
    assert_eq!(crit(&r, "good", "sk")["points"], "2");
    assert_eq!(status(&r, "good", "kl"), "not_met");
    assert_eq!(crit(&r, "good", "kl")["points"], "0");
    assert_eq!(crit(&r, "good", "th")["points"], "15");
    assert_eq!(
        status(&r, "good", "vp"),
        "not_met",
        "a count of zero is not applied"
    );
    assert_eq!(unit(&r, "good")["score"], "17");
    assert_eq!(crit(&r, "bad", "kl")["points"], "-5");
    assert_eq!(crit(&r, "bad", "th")["points"], "20", "25 capped at 20");
    assert_eq!(
        crit(&r, "bad", "vp")["points"],
        "-10",
        "-14 capped at 10 in size"
    );
    assert_eq!(unit(&r, "bad")["score"], "5");
    assert_eq!(status(&r, "unknown", "sk"), "missing");
    assert_eq!(crit(&r, "unknown", "sk")["points"], "0");
}

#[test]
fn competition_ranking_1_2_2_4() {
    let plan = campaign(
        "",
        "  indicator x \"X\" : number",
        "  target t1 \"T1\": x >= 10 { points 10 proportional }\n  rank by score within bloc",
    );
    let r = eval_json(
        &plan,
        "id,bloc,x\na,K,10\nb,K,8\nc,K,8\nd,K,5\ne,L,1\nf,,3\ng,,4\n",
    );
    for (u, rank) in [
        ("a", 1),
        ("b", 2),
        ("c", 2),
        ("d", 4),
        ("e", 1),
        ("g", 1),
        ("f", 2),
    ] {
        assert_eq!(unit(&r, u)["rank"], rank, "{u}");
    }
    let ids: Vec<&str> = r["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["a", "b", "c", "d", "e", "f", "g"],
        "units appear in data order"
    );
}

#[test]
fn then_by_breaks_ties_missing_last() {
    let plan = campaign(
        "",
        "  indicator x \"X\" : number\n  indicator g \"G\" : percent",
        "  target t1 \"T1\": x >= 10 { points 10 }\n  rank by score within bloc then by g",
    );
    let r = eval_json(&plan, "id,x,g\na,10,5\nb,10,7\nc,10,\nd,10,7\n");
    assert_eq!(unit(&r, "b")["rank"], 1);
    assert_eq!(unit(&r, "d")["rank"], 1);
    assert_eq!(unit(&r, "a")["rank"], 3);
    assert_eq!(unit(&r, "c")["rank"], 4, "missing ranks last");
    let asc = plan.replace("then by g", "then by g ascending");
    let r = eval_json(&asc, "id,x,g\na,10,5\nb,10,7\nc,10,\n");
    assert_eq!(unit(&r, "a")["rank"], 1);
    assert_eq!(unit(&r, "b")["rank"], 2);
    assert_eq!(
        unit(&r, "c")["rank"],
        3,
        "missing ranks last, ascending too"
    );
}

#[test]
fn awards_limit_1_per_bloc_and_tie_at_limit() {
    let plan = campaign(
        "",
        "  indicator grdp_growth \"GRDP\" : percent\n  indicator x \"X\" : number",
        &format!("  target t1 \"T1\": x >= 10 {{ points 100 proportional }}\n{BLOCK_RANKING}"),
    );
    let r = eval_json(
        &plan,
        "id,bloc,x,grdp_growth\n\
         huyen_b,Khối huyện,10,5\n\
         huyen_a,Khối huyện,10,5\n\
         huyen_c,Khối huyện,9.5,1\n\
         huyen_d,Khối huyện,8,1\n\
         so_a,Khối sở,10,3\n\
         so_b,Khối sở,10,4\n",
    );
    // huyen_a and huyen_b tie on score and grdp_growth: the smallest id wins.
    assert_eq!(
        unit(&r, "huyen_a")["awards"],
        serde_json::json!(["co_thi_dua"])
    );
    assert_eq!(
        unit(&r, "huyen_a")["award_labels"],
        serde_json::json!(["Cờ thi đua của UBND tỉnh"])
    );
    assert_eq!(
        unit(&r, "huyen_b")["awards"],
        serde_json::json!(["bang_khen"])
    );
    assert_eq!(
        unit(&r, "huyen_c")["awards"],
        serde_json::json!(["bang_khen"]),
        "95 >= 85, 2nd of limit 2"
    );
    assert_eq!(unit(&r, "huyen_d")["awards"], serde_json::json!([]));
    // so_b wins on then-by; no tie there.
    assert_eq!(
        unit(&r, "so_b")["awards"],
        serde_json::json!(["co_thi_dua"])
    );
    assert_eq!(unit(&r, "so_a")["awards"], serde_json::json!(["bang_khen"]));
    assert_eq!(unit(&r, "huyen_a")["rating"], "xuat_sac");
    assert_eq!(unit(&r, "huyen_a")["rating_label"], "Xuất sắc");
    assert_eq!(
        unit(&r, "huyen_c")["rating"],
        "tot",
        "95 >= 90 but t1 is not met"
    );
    let ties: Vec<&Value> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "thidua::tie-at-limit")
        .collect();
    assert_eq!(
        ties.len(),
        1,
        "one tie straddles a limit: {:#?}",
        r["warnings"]
    );
    let m = ties[0]["message"].as_str().unwrap();
    assert!(
        m.contains("huyen_a") && m.contains("huyen_b"),
        "the warning names the tied units: {m}"
    );
    assert_eq!(ties[0]["severity"], "warning");
}

#[test]
fn rating_condition_missing_counts_as_false() {
    let plan = campaign(
        "",
        "  indicator x \"X\" : number\n  indicator q \"Q\" : bool",
        "  target t1 \"T1\": x >= 1 { points 10 }\n  rating r \"R\" {\n    cao \"Cao\" when q and score >= 5\n    thap \"Thấp\" otherwise\n  }\n  award a \"A\" {\n    when q\n  }",
    );
    let r = eval_json(&plan, "id,x,q\nyes,1,true\nunknown,1,\n");
    assert_eq!(unit(&r, "yes")["rating"], "cao");
    assert_eq!(unit(&r, "unknown")["rating"], "thap");
    assert_eq!(unit(&r, "yes")["awards"], serde_json::json!(["a"]));
    assert_eq!(unit(&r, "unknown")["awards"], serde_json::json!([]));
}

#[test]
fn exceeded_counts_as_met_in_status_and_all_targets_met() {
    let plan = campaign(
        "",
        "  indicator x \"X\" : number\n  indicator y \"Y\" : number",
        "  target t1 \"T1\": x >= 1 { points 1 }\n  target t2 \"T2\": y >= 1 { points 1 }\n  rating r \"R\" {\n    a \"A\" when all targets met and status(t1) == met\n    b \"B\" when count(not_met) == 1\n    c \"C\" when count(missing) >= 1\n    d \"D\" otherwise\n  }",
    );
    let r = eval_json(&plan, "id,x,y\nex,5,9\none_no,5,0\nmiss,5,\n");
    assert_eq!(unit(&r, "ex")["rating"], "a");
    assert_eq!(unit(&r, "one_no")["rating"], "b");
    assert_eq!(
        unit(&r, "miss")["rating"],
        "c",
        "all targets met is false (never missing) with a missing target"
    );
}

#[test]
fn unscored_campaign_has_null_score_rank_rating() {
    let plan = campaign(
        "",
        "  indicator x \"X\" : number",
        "  target t1 \"T1\": x >= 1",
    );
    let r = eval_json(&plan, "id,x\na,1\n");
    let u = unit(&r, "a");
    assert!(u["score"].is_null(), "{u}");
    assert!(u["rank"].is_null(), "{u}");
    assert!(u["rating"].is_null(), "{u}");
    assert_eq!(u["awards"], serde_json::json!([]));
    let c = crit(&r, "a", "t1");
    assert!(c["points"].is_null() && c["max_points"].is_null(), "{c}");
}

// ---------------------------------------------------------------------------
// §8: `given` rows and `expect`.
// ---------------------------------------------------------------------------

#[test]
fn given_values_take_the_declared_scale_and_expect_is_met_accepts_exceeded() {
    let src = r#"use std.units
use std.xep_loai
campaign c "C" {
  period 2024-01-01 .. 2024-12-31
  indicator per_capita "GRDP/người" : USD
  indicator rev "Thu" : tỷ đồng
  indicator delta "Chênh lệch" : number
  indicator xl "Xếp loại" : xep_loai_nhiem_vu
  indicator ok "Đạt" : bool
  indicator note "Ghi chú" : text
  indicator s "Ngày" : date
  indicator g "Tăng trưởng" : percent
  target t1 "T1": per_capita >= 4_500 USD
  target t2 "T2": rev >= 0.5 tỷ đồng
  target t3 "T3": delta < 0
  target t4 "T4": xl >= hoan_thanh_tot
  target t5 "T5": ok and note == "x y" and s <= 2024-01-31
  target t6 "T6": g >= 14.5% { points 10 }
}
test "given" {
  given a { per_capita = 4_600, rev = 500 triệu đồng, delta = -1, xl = hoan_thanh_tot, ok = true, note = "x y", s = 31/01/2024, g = 15.2% }
  given b { per_capita = 4_499 USD, rev = 499_999_999 đồng, delta = -0, xl = hoan_thanh, ok = false, g = 14.5% }
  expect a.t1 is exceeded
  expect a.t1 is met
  expect a.t2 is met
  expect a.t3 is met
  expect a.t4 is met
  expect a.t5 is met
  expect a.t6 is met
  expect a.t6 is exceeded
  expect a.score == 10
  expect b.t1 is not_met
  expect b.t2 is not_met
  expect b.t3 is not_met
  expect b.t4 is not_met
  expect b.t5 is not_met
  expect b.t6 is met
}
"#;
    let p = Project::new();
    p.write("sub/plan.thidua", src);
    let r = p.run(["test", "./sub/plan.thidua"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 passed, 0 failed"), "{}", r.stdout);

    // `is exceeded` does not accept met.
    p.write(
        "sub/plan.thidua",
        src.replace("expect b.t6 is met", "expect b.t6 is exceeded"),
    );
    let r = p.run(["test", "./sub/plan.thidua"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("0 passed, 1 failed"), "{}", r.stdout);
}

#[test]
fn test_data_path_is_relative_to_the_file() {
    let plan = section_8_campaign(BLOCK_TEST);
    let p = Project::new();
    p.write("nested/dir/plan.thidua", &plan);
    p.write("nested/dir/testdata/khoi-huyen.csv", SECTION_8_DATA);
    let r = p.run(["test", "./nested"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 passed, 0 failed"), "{}", r.stdout);
}
