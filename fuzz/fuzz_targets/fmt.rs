//! The formatter: it must be idempotent and must never change what a file
//! means (LANGUAGE/CLI: `fmt` changes layout only). Syntax trees compare
//! without spans (`Span: PartialEq` is always true).
#![no_main]
use libfuzzer_sys::fuzz_target;
use thidua::fmt::format_source;
use thidua::syntax;

fn parse(raw: &str) -> Result<thidua::syntax::ast::File, ()> {
    let text = thidua::check::normalize(raw.strip_prefix('\u{FEFF}').unwrap_or(raw));
    syntax::parse(&text, 0).map_err(|_| ())
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    thidua_fuzz::with_stack(|| {
        let once = format_source(raw);
        let twice = format_source(&once);
        assert_eq!(once, twice, "fmt is not idempotent");
        match (parse(raw), parse(&once)) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "fmt changed the syntax tree"),
            (Ok(_), Err(_)) => panic!("fmt turned a file that parses into one that does not"),
            (Err(_), Ok(_)) => panic!("fmt turned a file that does not parse into one that does"),
            (Err(_), Err(_)) => {}
        }
    });
});
