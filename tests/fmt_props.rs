//! The formatter never changes meaning and is idempotent: format, re-parse
//! and compare syntax trees (spans are not part of equality), over every
//! criteria file in the tree and over generated layouts of them.

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use thidua::fmt::format_source;
use thidua::syntax::parse;

fn corpus() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut stack = vec![
        root.join("examples"),
        root.join("stdlib"),
        root.join("tests/corpus"),
    ];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "thidua") {
                if let Ok(t) = std::fs::read_to_string(&p) {
                    out.push((p, t));
                }
            }
        }
    }
    out.sort();
    out
}

fn parsed_corpus() -> &'static [(PathBuf, String)] {
    static FILES: std::sync::OnceLock<Vec<(PathBuf, String)>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        corpus()
            .into_iter()
            .filter(|(_, t)| parse(t, 0).is_ok())
            .collect()
    })
}

fn assert_same_meaning(name: &str, text: &str) {
    let once = format_source(text);
    assert_eq!(
        format_source(&once),
        once,
        "{name}: formatting is not idempotent"
    );
    match (parse(text, 0), parse(&once, 0)) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}: formatting changed the syntax tree"),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => panic!("{name}: the formatted file no longer parses: {e:?}"),
        (Err(_), Ok(_)) => panic!("{name}: the formatted file parses but the original did not"),
    }
}

#[test]
fn every_file_in_the_tree_keeps_its_meaning() {
    let files = corpus();
    assert!(files.len() > 20, "the corpus is unexpectedly small");
    let mut parsed = 0;
    for (p, t) in &files {
        if parse(t, 0).is_ok() {
            parsed += 1;
        }
        assert_same_meaning(&p.display().to_string(), t);
    }
    assert!(parsed > 10);
}

#[test]
fn the_tree_is_already_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (p, t) in corpus() {
        if p.starts_with(root.join("tests")) {
            continue;
        }
        assert_eq!(
            format_source(&t),
            t,
            "{} is not in canonical form",
            p.display()
        );
    }
}

/// A layout a careless editor might leave: each line re-indented with
/// spaces and tabs, trailing blanks, CRLF line ends.
fn relayout(text: &str, indents: &[u8], crlf: bool) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let k = indents.get(i % indents.len().max(1)).copied().unwrap_or(0) as usize;
        for j in 0..(k % 9) {
            out.push(if (j + k).is_multiple_of(3) { '\t' } else { ' ' });
        }
        out.push_str(line.trim_start());
        for _ in 0..(k / 64) {
            out.push(' ');
        }
        out.push_str(if crlf { "\r\n" } else { "\n" });
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn generated_layouts_keep_their_meaning(
        pick in 0usize..1000,
        indents in proptest::collection::vec(any::<u8>(), 1..40),
        crlf in any::<bool>(),
    ) {
        let files = parsed_corpus();
        prop_assume!(!files.is_empty());
        let (p, t) = &files[pick % files.len()];
        let messy = relayout(t, &indents, crlf);
        let original = parse(t, 0).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let formatted = format_source(&messy);
        let back = parse(&formatted, 0).map_err(|e| TestCaseError::fail(format!("{}: {e:?}", p.display())))?;
        prop_assert_eq!(&original, &back, "{}", p.display());
        prop_assert_eq!(format_source(&formatted), formatted.clone());
        // Re-indenting a canonical file's lines gives the canonical file back.
        if format_source(t) == *t {
            prop_assert_eq!(formatted, t.clone());
        }
    }
}
