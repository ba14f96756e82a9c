//! A large period is evaluated on several cores: the results must be the
//! same, unit by unit and in data order, as for the units evaluated alone.

use std::path::Path;
use thidua::data::{read_files, Locale};
use thidua::diag::SourceMap;

#[test]
fn many_units_give_the_same_results_as_few() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bac_giang_2024");
    let mut sources = SourceMap::default();
    let checked =
        thidua::check::check_file(&root.join("plan.thidua"), &mut sources).expect("plan readable");
    let prog = checked.program.expect("plan checks");
    let ds = read_files(&prog, &[root.join("data.csv")], Locale::En, false).expect("data");
    assert!(ds.errors.is_empty());
    let small = thidua::eval::evaluate(&prog, ds.rows.clone()).expect("evaluates");
    let base: Vec<Vec<&'static str>> = small
        .units()
        .map(|(_, st)| st.criteria().map(|r| r.status().as_str()).collect())
        .collect();
    let points: Vec<Vec<Option<rust_decimal::Decimal>>> = small
        .units()
        .map(|(_, st)| st.criteria().map(|r| r.points()).collect())
        .collect();
    // 6 000 units, each a copy of one example unit in a bloc of its own.
    let mut rows = Vec::new();
    for k in 0..6_000 {
        let mut r = ds.rows[k % ds.rows.len()].clone();
        r.id = format!("u{k}");
        r.bloc = Some(format!("b{k}"));
        rows.push(r);
    }
    let big = thidua::eval::evaluate(&prog, rows).expect("evaluates");
    let mut n = 0;
    for (k, (row, st)) in big.units().enumerate() {
        assert_eq!(row.id, format!("u{k}"), "data order is kept");
        let want = &base[k % base.len()];
        let got: Vec<&str> = st.criteria().map(|r| r.status().as_str()).collect();
        assert_eq!(&got, want, "unit {k}");
        let pts: Vec<_> = st.criteria().map(|r| r.points()).collect();
        assert_eq!(pts, points[k % points.len()], "unit {k}");
        n += 1;
    }
    assert_eq!(n, 6_000);
}
