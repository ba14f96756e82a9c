//! An expression typed in the REPL, checked as a condition read after the
//! evaluation (`thidua::check::check_str_probe`): the unit's results are
//! in scope, every award may be named, and its errors point into the
//! input, not the plan.

use thidua::check::{check_str_probe, Probe};
use thidua::diag::SourceMap;
use thidua::value::Type;

const PLAN: &str = r#"
campaign thu "Thử" {
  period 2024-01-01 .. 2024-12-31
  indicator growth "Tăng trưởng" : percent
  target t1 "Tăng trưởng": growth >= 7.5% { points 10 }
  scoring { total 10 }
  rank by score
  award co "Cờ" { when score >= 10 }
  award gk "Giấy khen" { when score >= 5 and not awarded(co) }
}
"#;

fn probe(src: &str) -> (Option<Probe>, Vec<String>, SourceMap) {
    let mut sources = SourceMap::default();
    let (checked, probe) = check_str_probe(PLAN, "plan.thidua", None, &mut sources, src);
    let errors = checked
        .diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let file = d.span.map(|s| s.file as usize).unwrap_or(usize::MAX);
            let name = sources.files.get(file).map(|f| f.name.clone());
            format!("{}: {}", name.unwrap_or_default(), d.message)
        })
        .collect();
    (probe, errors, sources)
}

#[test]
fn the_units_results_are_in_scope() {
    for (src, ty) in [
        ("score + 1", Type::Number),
        ("rank <= 3 and status(t1) == met", Type::Bool),
        // The last award, which no condition of the plan could name.
        ("awarded(gk)", Type::Bool),
    ] {
        let (p, errors, _) = probe(src);
        assert!(errors.is_empty(), "{src}: {errors:?}");
        assert_eq!(p.map(|p| p.ty), Some(ty), "{src}");
    }
}

#[test]
fn its_errors_point_into_the_input() {
    let (p, errors, _) = probe("scor + 1");
    assert!(p.is_none());
    assert_eq!(errors, ["<input>: unknown name `scor`"]);
    let (p, errors, _) = probe("score +");
    assert!(p.is_none());
    assert!(
        errors.len() == 1 && errors[0].starts_with("<input>: "),
        "{errors:?}"
    );
}
