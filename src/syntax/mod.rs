//! Source text → spanned syntax tree. The only module that sees pest's `Rule`.

pub mod ast;
mod lex;

use crate::diag::{codes, Diag, Span};
use ast::*;
use pest::iterators::Pair;
use pest::Parser as _;
use rust_decimal::Decimal;

pub use lex::{prescan, LIMIT_DEPTH};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/thidua.pest"]
struct ThiduaParser;

/// Longest chain of binary operators in one expression.
pub const LIMIT_CHAIN: usize = 2_000;

/// Parse one source file (already NFC-normalised).
pub fn parse(text: &str, file: u32) -> Result<File, Vec<Diag>> {
    prescan(text, file)?;
    if let Some(f) = parse_split(text, file) {
        return Ok(f);
    }
    parse_whole(text, file)
}

/// [`parse`] in one piece, on this thread (the text already prescanned).
fn parse_whole(text: &str, file: u32) -> Result<File, Vec<Diag>> {
    let pairs = ThiduaParser::parse(Rule::file, text)
        .map_err(|e| vec![syntax_error(text, file, e, Rule::file, true)])?;
    let mut b = Builder {
        depth: 0,
        file,
        text,
        offset: 0,
        errors: Vec::new(),
    };
    let mut items = Vec::new();
    for pair in pairs {
        if pair.as_rule() == Rule::file {
            for p in pair.into_inner() {
                if p.as_rule() == Rule::EOI {
                    continue;
                }
                if let Some(item) = b.top_item(p) {
                    items.push(item);
                }
            }
        }
    }
    if b.errors.is_empty() {
        Ok(File { items })
    } else {
        Err(b.errors)
    }
}

/// Files at least this long are parsed on two cores when they hold a
/// campaign whose items can be split.
const SPLIT_AT: usize = 256 * 1024;

/// Parse a large file in two pieces at once, split at an item of a
/// campaign near the middle (`lex::campaign_split`): this thread parses
/// the text before the item, another the text from it on. The pieces give
/// the tree one parse would; when either has an error, `None`, and the
/// file is parsed in one piece, so that every message is the one a single
/// parse gives.
fn parse_split(text: &str, file: u32) -> Option<File> {
    if text.len() < SPLIT_AT
        || std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            < 2
    {
        return None;
    }
    let at = lex::campaign_split(text)?;
    let (head_text, tail_text) = (text.get(..at)?, text.get(at..)?);
    std::thread::scope(|scope| {
        // The same stack as the thread that checks (src/main.rs).
        let tail = std::thread::Builder::new()
            .stack_size(256 * 1024 * 1024)
            .spawn_scoped(scope, || {
                let root = ThiduaParser::parse(Rule::split_tail, tail_text)
                    .ok()?
                    .next()?;
                let mut b = Builder {
                    depth: 0,
                    file,
                    text,
                    offset: at,
                    errors: Vec::new(),
                };
                let mut items = Vec::new();
                let mut close = None;
                let mut after = Vec::new();
                for p in root.into_inner() {
                    match p.as_rule() {
                        Rule::campaign_close => close = Some(b.span(&p).end),
                        Rule::EOI => {}
                        _ if close.is_none() => items.push(b.campaign_item(p)?),
                        _ => after.push(b.top_item(p)?),
                    }
                }
                b.errors.is_empty().then_some((items, close?, after))
            })
            .ok()?;
        let head = (|| {
            let root = ThiduaParser::parse(Rule::split_head, head_text)
                .ok()?
                .next()?;
            let mut b = Builder {
                depth: 0,
                file,
                text,
                offset: 0,
                errors: Vec::new(),
            };
            let mut before = Vec::new();
            let mut campaign = None;
            for p in root.into_inner() {
                match p.as_rule() {
                    Rule::campaign_head => campaign = Some(b.campaign(p)),
                    Rule::EOI => {}
                    _ => before.push(b.top_item(p)?),
                }
            }
            b.errors.is_empty().then_some((before, campaign?))
        })();
        let (items, close, after) = tail.join().ok()??;
        let (mut before, mut campaign) = head?;
        campaign.items.extend(items);
        campaign.span = Span::new(file, campaign.span.start, close);
        before.push(Item::Campaign(campaign));
        before.extend(after);
        Some(File { items: before })
    })
}

/// Parse a standalone expression (the REPL, `:type`).
pub fn parse_expr(text: &str, file: u32) -> Result<Expr, Vec<Diag>> {
    prescan(text, file)?;
    let pairs = ThiduaParser::parse(Rule::repl_expr, text)
        .map_err(|e| vec![syntax_error(text, file, e, Rule::repl_expr, false)])?;
    let mut b = Builder {
        depth: 0,
        file,
        text,
        offset: 0,
        errors: Vec::new(),
    };
    let mut out = None;
    for p in pairs.flatten() {
        if p.as_rule() == Rule::expr {
            out = Some(b.expr(p));
            break;
        }
    }
    match out {
        Some(e) if b.errors.is_empty() => Ok(e),
        _ => Err(if b.errors.is_empty() {
            vec![
                Diag::error(codes::SYNTAX, "expected an expression").at(Span::new(
                    file,
                    0,
                    text.len(),
                )),
            ]
        } else {
            b.errors
        }),
    }
}

/// Parse campaign-level declarations (the REPL).
pub fn parse_decls(text: &str, file: u32) -> Result<Vec<CampaignItem>, Vec<Diag>> {
    prescan(text, file)?;
    let pairs = ThiduaParser::parse(Rule::repl_decls, text)
        .map_err(|e| vec![syntax_error(text, file, e, Rule::repl_decls, false)])?;
    let mut b = Builder {
        depth: 0,
        file,
        text,
        offset: 0,
        errors: Vec::new(),
    };
    let mut items = Vec::new();
    for pair in pairs {
        for p in pair.into_inner() {
            if p.as_rule() == Rule::EOI {
                continue;
            }
            if let Some(it) = b.campaign_item(p) {
                items.push(it);
            }
        }
    }
    if b.errors.is_empty() {
        Ok(items)
    } else {
        Err(b.errors)
    }
}

fn rule_words(r: &Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match r {
        EOI => "end of file",
        ident => "a name",
        name => "a name",
        string => "a quoted label",
        number | signed_number => "a number",
        percent => "a percent like `14.5%`",
        date => "a date like `31/01/2024`",
        quantity => "a quantity like `16_068 tỷ đồng`",
        expr | clause | arith | operand | negated | target_body => "an expression",
        cmp_op | comparison => "a comparison (`>=`, `<=`, …)",
        kw_by => "`by`",
        due => "`by` or `before` and the due date",
        kw_before => "`before`",
        kw_use | use_decl => "`use`",
        unit_decl | kw_unit => "`unit`",
        levels_decl | kw_levels => "`levels`",
        checklist_decl | kw_checklist => "`checklist`",
        indicator_decl | kw_indicator => "`indicator`",
        award_decl | kw_award => "`award`",
        test_decl | kw_test => "`test`",
        campaign_decl | kw_campaign => "`campaign`",
        issuer => "`issuer`",
        theme => "`theme`",
        period_decl => "`period`",
        basis => "`basis`",
        let_decl => "`let`",
        section => "`section`",
        target => "`target`",
        deadline => "`deadline`",
        adjust => "`adjust`",
        scoring => "`scoring`",
        rank_decl => "`rank`",
        rating => "`rating`",
        options => "an options block `{ points … }`",
        points_opt => "`points`",
        bonus_opt => "`bonus`",
        penalty_opt => "`penalty`",
        require_opt => "`require`",
        blank_opt => "`blank`",
        item_decl => "`item`",
        level_entry => "a level: a name and its label",
        branch => "a rating branch: a name, a label and `when …` or `otherwise`",
        award_when => "`when`",
        limit => "`limit`",
        type_expr => "a type (`percent`, `bool`, `date`, `tỷ đồng`, …)",
        unit_ref => "a unit of measure",
        scale | scale_word => "a scale word (`nghìn`, `triệu`, `tỷ`)",
        step => "a step (`1%`, `50 tỷ đồng`, `day`)",
        direction => "`above` or `below`",
        late_word => "`late`",
        max_clause => "`, max N`",
        group | group_kind => "`all {`, `any {` or `at_least N of {`",
        child => "a condition",
        field => "a field `name = value`",
        given_value => "a value",
        given => "`given`",
        expect => "`expect`",
        test_data => "`data`",
        status_word => "a status (`met`, `exceeded`, `not_met`, `late`, `missing`)",
        kw_then => "`then`",
        kw_else => "`else`",
        kw_of => "`of`",
        kw_per => "`per`",
        kw_when => "`when`",
        kw_otherwise => "`otherwise`",
        kw_item => "`item`",
        kw_max => "`max`",
        kw_within => "`within`",
        kw_where => "`where`",
        kw_is => "`is`",
        kw_has => "`has`",
        kw_in => "`in`",
        kw_and => "`and`",
        kw_or => "`or`",
        kw_proportional | kw_relative | points_mode => "`proportional`, `relative` or `per item`",
        then_by => "`then by`",
        scoring_opt => "`total`, `precision` or `normalize`",
        for_cond => "`for` and a condition",
        limit_share => "a percent",
        module_path => "a module name like `std.units`",
        arg | members_arg => "an argument",
        call => "a function call",
        call_head => "a function name",
        bool_lit | kw_true | kw_false => "`true` or `false`",
        at_period => "`@` and a year",
        interval => "`in a .. b`",
        is_test => "`is STATUS`",
        has_test => "`has AWARD`",
        add_op => "`+` or `-`",
        mul_op => "`*` or `/`",
        paren => "`(`",
        if_expr => "`if`",
        all_met => "`all targets met`",
        _ => return None,
    })
}

/// The diagnostic of a parse that failed. `braced`: the items parsed
/// stand between braces (a file's campaigns), not alone (the REPL).
fn syntax_error(
    text: &str,
    file: u32,
    e: pest::error::Error<Rule>,
    top: Rule,
    braced: bool,
) -> Diag {
    use pest::error::{ErrorVariant, InputLocation};
    let (start, end) = match e.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((a, b)) => (a, b),
    };
    let mut expected: Vec<&str> = Vec::new();
    let mut unexpected: Vec<&str> = Vec::new();
    // Whether an item of a campaign or section could start here: named
    // once for all of them, rather than as whichever keywords the parser
    // tried last.
    let mut item = false;
    // Whether an item only a campaign holds could start here (so this is
    // not inside a section).
    let mut campaign_level = false;
    match &e.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => {
            for r in positives {
                if campaign_only(r) {
                    campaign_level = true;
                }
                if *r == Rule::file {
                    // Nothing of the file could be read: what may start it.
                    expected.extend(TOP_WORDS);
                } else if starts_item(r) {
                    item = true;
                } else if let Some(w) = rule_words(r) {
                    if !expected.contains(&w) {
                        expected.push(w);
                    }
                }
            }
            for r in negatives {
                if let Some(w) = rule_words(r) {
                    if !unexpected.contains(&w) {
                        unexpected.push(w);
                    }
                }
            }
        }
        ErrorVariant::CustomError { message } => {
            return Diag::error(codes::SYNTAX, message.clone()).at(Span::new(
                file,
                start,
                end.max(start),
            ));
        }
    }
    // Operator continuations are always possible after a complete
    // expression; naming them hides what the drafter most likely missed.
    const CONTINUATIONS: &[&str] = &[
        "`and`",
        "`or`",
        "`+` or `-`",
        "`*` or `/`",
        "`@` and a year",
        "`??`",
        "a comparison (`>=`, `<=`, …)",
        "`in a .. b`",
        "`is STATUS`",
        "`has AWARD`",
        "`is`",
        "`has`",
        "`in`",
    ];
    if item || expected.iter().any(|w| !CONTINUATIONS.contains(w)) {
        expected.retain(|w| !CONTINUATIONS.contains(w));
    }
    if item {
        // The items a file's top also holds are named with the others.
        expected.retain(|w| !["`indicator`", "`checklist`", "`award`", "`test`"].contains(w));
        expected.push("another item (`target`, `indicator`, `section`, …)");
        // Inside a campaign or a section an item can be followed by the
        // closing brace; the REPL's declarations end at the end of input.
        if braced && !expected.contains(&"end of file") {
            expected.push("`}`");
        }
    }
    // What is actually there: the next token, in backticks.
    let stop = start;
    let start = past_space(text, start);
    let rest = text.get(start..).unwrap_or("");
    let found = next_token(rest);
    let found_words = token_words(found);
    let mut message = if expected.is_empty() {
        format!("unexpected {found_words}")
    } else {
        let list = match expected.len() {
            1 => expected.first().copied().unwrap_or_default().to_string(),
            _ => {
                let (last, init) = expected
                    .split_last()
                    .map(|(l, i)| (*l, i.to_vec()))
                    .unwrap_or(("", vec![]));
                format!("{} or {}", init.join(", "), last)
            }
        };
        format!("expected {list}, found {found_words}")
    };
    if !unexpected.is_empty() && expected.is_empty() {
        message = format!("unexpected {}", unexpected.join(", "));
    }
    // Whether a name may stand here (so a reserved word may have been
    // meant as one).
    let mut name_here = expected.is_empty() || expected.contains(&"a name");
    // Nothing named: what was expected there is a literal (`{`, `:`, `=`,
    // …), which only a tracked parse names.
    if expected.is_empty() {
        if let Some((_, words)) = tracked(top, text).filter(|(at, _)| *at == stop) {
            message = format!("expected {}, found {found_words}", one_of(&words));
            name_here = words.iter().any(|w| w == "a name");
        }
    }
    // The first word of an item that may stand here, and the parser
    // stopped on it: the item itself is broken further on. Say where.
    let may_stand_here = if item {
        item_words(campaign_level).any(|w| w == found)
    } else {
        TOP_WORDS.contains(&format!("`{found}`").as_str()) && expected.contains(&"`campaign`")
    };
    if may_stand_here {
        if let Some(d) = inside_item(text, found, file, start) {
            return d;
        }
    }
    let tok_end = (start + found.len()).max(start);
    let mut d = Diag::error(codes::SYNTAX, message)
        .at(Span::new(file, start, tok_end))
        .label("here");
    if found.is_empty() {
        if let Some(open) = lex::unclosed_brace(text) {
            let (with, help) = unclosed(d, text, file, open);
            d = with.help(help);
        }
    } else if let Some(open) = unclosed_before_item(text, start, found) {
        // An item's first word where the parser was still inside a group,
        // a points block or a checklist: its `{` was left open.
        d = d
            .related(
                Span::new(file, open, open + 1),
                format!("this `{{` is not closed before the `{found}`"),
            )
            .help(format!("close it with `}}` before the `{found}`"));
    } else if item && !campaign_level && CAMPAIGN_ONLY.contains(&found) {
        d = d.help(format!(
            "`{found}` belongs directly in the campaign, not inside a section: move it after the section's closing `}}`"
        ));
    } else if let Some(n) = number_before_space(text, start).filter(|_| found == "%") {
        d = d.help(format!(
            "write the percent sign right after the number, without a space: `{n}%`"
        ));
    } else if let Some(k) = keyword_near(found, item, campaign_level, &expected) {
        d = d.help(format!("did you mean `{k}`?"));
    } else if lex::is_reserved(found) && name_here {
        d = d.help(format!(
            "`{found}` is a reserved word; to use it as a name, choose another (e.g. `{found}_`)"
        ));
    } else if rest.starts_with('=') && !rest.starts_with("==") {
        d = d.help("to compare, write `==` (equal), `>=` or `<=`; `=` alone gives a value a name (`let`, `given`)");
    } else if ["<", ">", "==", "!="].iter().any(|op| rest.starts_with(op))
        && !expected.contains(&"an expression")
        && after_operand(text, start)
    {
        d = d.help(
            "comparisons do not chain: join two with `and` (`g > 1 and g < 3`), or write an interval (`g in 1 .. 3`)",
        );
    } else if found.starts_with(',') {
        d = d
            .help("a `,` separates parts only inside `all { … }`, `any { … }` and `given … { … }`");
    }
    d
}

/// The rule of the item a word starts, and how the item is written.
fn item_rule(word: &str) -> Option<(Rule, &'static str)> {
    Some(match word {
        "use" => (Rule::use_decl, "use std.units"),
        "unit" => (Rule::unit_decl, "unit name \"Label\" = 1_000 đồng"),
        "levels" => (Rule::levels_decl, "levels name \"Label\" { … }"),
        "campaign" => (Rule::campaign_decl, "campaign name \"Label\" { … }"),
        "indicator" => (Rule::indicator_decl, "indicator name \"Label\" : type"),
        "checklist" => (Rule::checklist_decl, "checklist name \"Label\" { item … }"),
        "award" => (Rule::award_decl, "award name \"Label\" { when … }"),
        "test" => (Rule::test_decl, "test \"what it checks\" { … }"),
        "target" => (Rule::target, "target name \"Label\": condition"),
        "section" => (Rule::section, "section name \"Label\" { … }"),
        "deadline" => (
            Rule::deadline,
            "deadline name \"Label\": date by 31/01/2024",
        ),
        "let" => (Rule::let_decl, "let name = expression"),
        "adjust" => (Rule::adjust, "adjust name \"Label\": -1 when condition"),
        "issuer" => (Rule::issuer, "issuer \"Name\""),
        "theme" => (Rule::theme, "theme \"Theme\""),
        "period" => (Rule::period_decl, "period 2024-01-01 .. 2024-12-31"),
        "basis" => (Rule::basis, "basis \"Document\", \"Document\""),
        "scoring" => (Rule::scoring, "scoring { precision 2 }"),
        "rank" => (Rule::rank_decl, "rank by score within bloc"),
        "rating" => (Rule::rating, "rating name \"Label\" { … }"),
        _ => return None,
    })
}

/// Parse `input` as `rule` again, tracking what the parser expected where
/// it stopped (the literals, such as `=` or `{`, which a plain parse does
/// not name): that place, as an offset into `input`, and the words for
/// what was expected there. `None` when `input` parses, or nothing is
/// named.
fn tracked(rule: Rule, input: &str) -> Option<(usize, Vec<String>)> {
    use pest::error::InputLocation;
    use pest::Parser;
    use std::sync::Mutex;
    // What pest tracks is set for the whole process and read when a parse
    // starts: one tracked parse at a time, so none starts without it.
    static DETAIL: Mutex<()> = Mutex::new(());
    /// Switches tracking off again however the parse ends.
    struct Tracking;
    impl Drop for Tracking {
        fn drop(&mut self) {
            pest::set_error_detail(false);
        }
    }
    let err = {
        let _one = DETAIL.lock().unwrap_or_else(|p| p.into_inner());
        pest::set_error_detail(true);
        let _off = Tracking;
        ThiduaParser::parse(rule, input).err()?
    };
    let attempts = err.parse_attempts()?;
    let at = match err.location {
        InputLocation::Pos(p) | InputLocation::Span((p, _)) => p,
    }
    .max(attempts.max_position);
    let mut expected: Vec<String> = Vec::new();
    for t in attempts.expected_tokens() {
        // Literals show as themselves; character ranges (whitespace and
        // comments, tried everywhere) as `a..b`, built-in rules by name.
        let token = t.to_string();
        let chars: Vec<char> = token.chars().collect();
        let range = chars.len() == 4 && chars.get(1..3) == Some(&['.', '.'][..]);
        if token.is_empty() || range || token == "BUILTIN_RULE" {
            continue;
        }
        // `_` is the one character of a name's start that is a literal
        // (letters are a built-in class): a name may stand here.
        let w = if token == "_" {
            "a name".to_string()
        } else {
            format!("`{token}`")
        };
        if !expected.contains(&w) {
            expected.push(w);
        }
    }
    // Punctuation first: `{` or `:` is what a drafter most often left out,
    // an optional `for …` rarely.
    expected.sort_by_key(|w| w.trim_matches('`').starts_with(char::is_alphanumeric));
    for stack in attempts.call_stacks() {
        let deepest = stack.deepest.get_rule().filter(|r| **r != rule);
        if let Some(w) = deepest.and_then(rule_words) {
            if !expected.iter().any(|e| e == w) {
                expected.push(w.to_string());
            }
        }
    }
    // Right after a name, "a name" only says the name could go on.
    let after_name = input
        .get(..at)
        .and_then(|before| before.chars().next_back())
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    if after_name {
        expected.retain(|w| w != "a name");
    }
    (!expected.is_empty()).then_some((at, expected))
}

/// `a, b or c`.
fn one_of(words: &[String]) -> String {
    match words.split_last() {
        Some((last, init)) if !init.is_empty() => format!("{} or {last}", init.join(", ")),
        _ => words.join(""),
    }
}

/// The number that ends the text before `at`, when a space separates
/// them (`14.5 %`).
fn number_before_space(text: &str, at: usize) -> Option<&str> {
    let before = text.get(..at)?;
    let trimmed = before.trim_end();
    if trimmed.len() == before.len() {
        return None;
    }
    let start = trimmed
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit() || matches!(c, '.' | '_' | ','))
        .last()
        .map(|(i, _)| i)?;
    let n = trimmed.get(start..)?;
    n.starts_with(|c: char| c.is_ascii_digit()).then_some(n)
}

/// Whether the text before `at` (past any space) ends an operand: a
/// name, a number, a percent, a closing bracket or quote.
fn after_operand(text: &str, at: usize) -> bool {
    text.get(..at)
        .and_then(|before| before.trim_end().chars().next_back())
        .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ')' | '%' | '"'))
}

/// Where the parser stopped (`at`), moved past any space to the token a
/// message names and marks; left where it is when only space follows.
fn past_space(text: &str, at: usize) -> usize {
    let rest = text.get(at..).unwrap_or("");
    match rest.trim_start() {
        "" => at,
        t => at + rest.len() - t.len(),
    }
}

/// The next token of `rest`, as a message names it.
fn token_words(token: &str) -> String {
    if token.is_empty() {
        "the end of the file".to_string()
    } else if token.chars().any(char::is_control) {
        // An invisible character: name it by its code point.
        let c = token.chars().next().unwrap_or_default();
        format!("the control character U+{:04X}", u32::from(c))
    } else {
        format!("`{token}`")
    }
}

/// The item that starts at `start` in `text`, parsed on its own, and
/// reported where it goes wrong: `let y x * 2` is missing the `=` after
/// `y`, not the `let`. `None` when the item parses, or stops at its first
/// word.
fn inside_item(text: &str, word: &str, file: u32, start: usize) -> Option<Diag> {
    let (rule, form) = item_rule(word)?;
    let rest = text.get(start..)?;
    let (at, expected) = tracked(rule, rest).filter(|(at, _)| *at > 0)?;
    let pos = past_space(text, start + at);
    let found = next_token(text.get(pos..).unwrap_or(""));
    let article = if word.starts_with(['a', 'e', 'i', 'o']) {
        "an"
    } else {
        "a"
    };
    let mut d = Diag::error(
        codes::SYNTAX,
        format!(
            "expected {} in this `{word}`, found {}",
            one_of(&expected),
            token_words(found)
        ),
    )
    .at(Span::new(file, pos, pos + found.len()))
    .label("here")
    .related(
        Span::new(file, start, start + word.len()),
        format!("the `{word}` starts here"),
    );
    if found.is_empty() {
        if let Some(open) = lex::unclosed_brace(text) {
            d = unclosed(d, text, file, open).0;
        }
    }
    Some(d.help(format!("{article} `{word}` is written `{form}`")))
}

/// The file ended with a `{` open: point at it, and at the `}` that, by
/// its indentation, closed an outer block instead; and the help to give.
fn unclosed(
    d: Diag,
    text: &str,
    file: u32,
    (open, shown): (usize, Option<usize>),
) -> (Diag, String) {
    let d = d.related(Span::new(file, open, open + 1), "this `{` is never closed");
    match shown {
        Some(close) => {
            let line_of = |pos: usize| text.get(..pos).map_or(0, |t| t.matches('\n').count()) + 1;
            let d = d.related(
                Span::new(file, close, close + 1),
                "this `}` closes it, but lines up with an outer block",
            );
            (
                d,
                format!(
                    "close the block opened on line {} before the `}}` on line {}, which lines up with an outer block",
                    line_of(open),
                    line_of(close)
                ),
            )
        }
        None => (d, "add the closing `}`".into()),
    }
}

/// When `found` (at `pos`) starts an item and the innermost `{` open there
/// is not a campaign's, a section's or a test's (which hold items or
/// expectations), that `{`: the parser reached the item still inside it.
fn unclosed_before_item(text: &str, pos: usize, found: &str) -> Option<usize> {
    if !item_words(true).any(|w| w == found) {
        return None;
    }
    let open = lex::open_brace_before(text, pos)?;
    // What opens the block: the words since the brace before it, over as
    // many lines as they take (`campaign c` may have its label and `{` on
    // the next line).
    let head_start = text.get(..open)?.rfind(['{', '}']).map_or(0, |i| i + 1);
    let head = text.get(head_start..open)?;
    let holds_items = head
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| ["campaign", "section", "test"].contains(&w));
    (!holds_items).then_some(open)
}

/// The rules that start an item only a campaign or a section holds (the
/// top of a file also holds `indicator`, `checklist`, `award` and `test`).
fn starts_item(r: &Rule) -> bool {
    use Rule::*;
    let top_too = matches!(r, kw_award | kw_test | award_decl | test_decl);
    starts_section_item(r) || (campaign_only(r) && !top_too)
}

/// The rules that start an item of a section other than `indicator` and
/// `checklist`.
fn starts_section_item(r: &Rule) -> bool {
    use Rule::*;
    matches!(
        r,
        kw_target
            | kw_section
            | kw_deadline
            | kw_let
            | kw_adjust
            | target
            | section
            | deadline
            | let_decl
            | adjust
    )
}

/// The rules that start an item a campaign holds but a section does not.
fn campaign_only(r: &Rule) -> bool {
    use Rule::*;
    matches!(
        r,
        kw_issuer
            | kw_theme
            | kw_period
            | kw_basis
            | kw_scoring
            | kw_rank
            | kw_rating
            | kw_award
            | kw_test
            | issuer
            | theme
            | period_decl
            | basis
            | scoring
            | rank_decl
            | rating
            | award_decl
            | test_decl
    )
}

/// The words that start an item at the top of a file, as named in a
/// message.
const TOP_WORDS: &[&str] = &[
    "`use`",
    "`unit`",
    "`levels`",
    "`campaign`",
    "`indicator`",
    "`checklist`",
    "`award`",
    "`test`",
];

/// The keyword `found` is most likely a misspelling of, where an item
/// could start (`item`: of a campaign or section; otherwise at the top of
/// a file, when `campaign` is among the words expected).
fn keyword_near(
    found: &str,
    item: bool,
    campaign_level: bool,
    expected: &[&str],
) -> Option<&'static str> {
    if lex::is_reserved(found) {
        return None;
    }
    let near = if item {
        crate::diag::nearest(found, item_words(campaign_level))
    } else if expected.contains(&"`campaign`") {
        crate::diag::nearest(found, TOP_WORDS.iter().map(|w| w.trim_matches('`')))
    } else {
        None
    };
    near.filter(|k| *k != found)
}

/// The words that start an item here: a section's items, and inside a
/// campaign (`campaign_level`) the campaign's own too.
fn item_words(campaign_level: bool) -> impl Iterator<Item = &'static str> {
    let campaign: &[&str] = if campaign_level { CAMPAIGN_ONLY } else { &[] };
    lex::SECTION_ITEM_WORDS.iter().chain(campaign).copied()
}

/// The items a campaign holds but a section does not.
const CAMPAIGN_ONLY: &[&str] = &[
    "issuer", "theme", "period", "basis", "scoring", "rank", "rating", "award", "test",
];

/// The token `rest` starts with, as a message quotes it: a word (letters,
/// digits, `_`, `.`, at most 40 bytes) up to the first other character,
/// or that one character.
fn next_token(rest: &str) -> &str {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut end = 0;
    for (i, c) in rest.char_indices() {
        if c.is_whitespace() || (i > 0 && !word(c)) {
            break;
        }
        end = i + c.len_utf8();
        if !word(c) || end >= 40 {
            break;
        }
    }
    &rest[..end]
}

struct Builder<'a> {
    file: u32,
    /// The whole file (the pairs may be of a piece of it).
    text: &'a str,
    /// Where the parsed piece starts in `text`: added to every position.
    offset: usize,
    errors: Vec<Diag>,
    /// How deep the tree being built is, in grammar levels.
    depth: usize,
}

/// Deepest expression tree built, in grammar levels (about a dozen per
/// nesting level): `else if` chains and the like nest without brackets.
const LIMIT_BUILD_DEPTH: usize = 1_200;

impl<'a> Builder<'a> {
    /// A pair's span without the whitespace the grammar skipped after it
    /// (an optional part that did not match leaves it inside), so that a
    /// diagnostic points at the text alone.
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        let start = self.offset + s.start();
        let end = start + s.as_str().trim_end().len();
        Span::new(self.file, start, end)
    }

    fn number(&mut self, p: &Pair<Rule>) -> Decimal {
        let span = self.span(p);
        self.exact_number(p.as_str(), span)
    }

    /// A number as written (`16_068`), exactly: a literal with more digits
    /// than a decimal holds is an error (0 stands in), never rounded.
    fn exact_number(&mut self, written: &str, span: Span) -> Decimal {
        let clean: String = written.chars().filter(|c| *c != '_').collect();
        match crate::value::exact_decimal(&clean) {
            Some(d) => d,
            None => {
                self.errors.push(
                    Diag::error(
                        codes::OVERFLOW,
                        format!("the number `{written}` is too large or too precise"),
                    )
                    .at(span)
                    .help("numbers have at most 28 significant digits"),
                );
                Decimal::ZERO
            }
        }
    }

    fn ident(&self, p: Pair<Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    fn name(&self, p: Pair<Rule>) -> Name {
        let span = self.span(&p);
        let parts = p
            .into_inner()
            .filter(|q| matches!(q.as_rule(), Rule::ident | Rule::member_word))
            .map(|q| self.ident(q))
            .collect();
        Name { parts, span }
    }

    fn string(&mut self, p: Pair<Rule>) -> Str {
        let span = self.span(&p);
        let inner = p.into_inner().next().map(|q| q.as_str()).unwrap_or("");
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('u') => {
                    let rest: String = chars.clone().collect();
                    let ok = if rest.starts_with('{') {
                        rest.find('}').and_then(|end| {
                            let hex = rest.get(1..end)?;
                            u32::from_str_radix(hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .map(|ch| (ch, end))
                        })
                    } else {
                        None
                    };
                    match ok {
                        Some((ch, end)) => {
                            out.push(ch);
                            for _ in 0..=end {
                                chars.next();
                            }
                        }
                        None => self.errors.push(
                            Diag::error(codes::SYNTAX, "invalid `\\u{…}` escape in a string")
                                .at(span)
                                .help("write a hexadecimal code point, e.g. `\\u{1EA1}`"),
                        ),
                    }
                }
                other => {
                    self.errors.push(
                        Diag::error(
                            codes::SYNTAX,
                            format!("unknown escape `\\{}` in a string", other.unwrap_or(' ')),
                        )
                        .at(span)
                        .help("the escapes are `\\\"`, `\\\\`, `\\n` and `\\u{…}`"),
                    );
                }
            }
        }
        Str { value: out, span }
    }

    fn doc(&self, start: usize) -> Doc {
        Doc(lex::doc_before(self.text, start))
    }

    fn opt_string(
        &mut self,
        it: &mut std::iter::Peekable<pest::iterators::Pairs<'a, Rule>>,
    ) -> Option<Str> {
        if it
            .peek()
            .map(|p| p.as_rule() == Rule::string)
            .unwrap_or(false)
        {
            it.next().map(|p| self.string(p))
        } else {
            None
        }
    }

    fn top_item(&mut self, p: Pair<'a, Rule>) -> Option<Item> {
        Some(match p.as_rule() {
            Rule::use_decl => Item::Use(self.use_decl(p)),
            Rule::unit_decl => Item::Unit(self.unit_decl(p)),
            Rule::levels_decl => Item::Levels(self.levels_decl(p)),
            Rule::checklist_decl => Item::Checklist(self.checklist(p)),
            Rule::indicator_decl => Item::Indicator(self.indicator(p)),
            Rule::award_decl => Item::Award(self.award(p)),
            Rule::test_decl => Item::Test(self.test(p)),
            Rule::campaign_decl => Item::Campaign(self.campaign(p)),
            _ => return None,
        })
    }

    fn use_decl(&mut self, p: Pair<'a, Rule>) -> Use {
        let span = self.span(&p);
        let mut target = UseTarget::Module(String::new());
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::string => target = UseTarget::File(self.string(q).value),
                Rule::module_path => target = UseTarget::Module(q.as_str().to_string()),
                _ => {}
            }
        }
        Use { target, span }
    }

    fn unit_ref(&mut self, p: Pair<'a, Rule>) -> UnitRef {
        let span = self.span(&p);
        let mut idents = Vec::new();
        let mut per_n = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::ident => idents.push(self.ident(q)),
                Rule::number => per_n = Some((self.number(&q), q.as_str().to_string())),
                _ => {}
            }
        }
        let mut it = idents.into_iter();
        let num = it.next().unwrap_or(Ident {
            name: String::new(),
            span,
        });
        let per = it.next().map(|d| Box::new((per_n, d)));
        UnitRef { num, per, span }
    }

    fn scale(&self, p: Pair<'a, Rule>) -> Vec<String> {
        p.into_inner()
            .filter(|q| q.as_rule() == Rule::scale_word)
            .map(|q| q.as_str().to_string())
            .collect()
    }

    fn quantity(&mut self, p: Pair<'a, Rule>) -> QuantityLit {
        let mut value = Decimal::ZERO;
        let mut text = String::new();
        let mut scale = Vec::new();
        let mut unit = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::number => {
                    value = self.number(&q);
                    text = q.as_str().to_string();
                }
                Rule::scale => scale = self.scale(q),
                Rule::unit_ref => unit = Some(self.unit_ref(q)),
                _ => {}
            }
        }
        let unit = unit.unwrap_or(UnitRef {
            num: Ident {
                name: String::new(),
                span: Span::default(),
            },
            per: None,
            span: Span::default(),
        });
        QuantityLit {
            value,
            text,
            scale,
            unit,
        }
    }

    fn unit_decl(&mut self, p: Pair<'a, Rule>) -> UnitDecl {
        let span = self.span(&p);
        let doc = self.doc(span.start);
        let mut it = p.into_inner().peekable();
        it.next(); // kw
        let name = it.next().map(|q| self.ident(q)).unwrap_or(Ident {
            name: String::new(),
            span,
        });
        let label = self.opt_string(&mut it);
        let def = it.next().map(|q| {
            let s = self.span(&q);
            (self.quantity(q), s)
        });
        UnitDecl {
            name,
            label,
            def,
            doc,
            span,
        }
    }

    fn levels_decl(&mut self, p: Pair<'a, Rule>) -> LevelsDecl {
        let span = self.span(&p);
        let doc = self.doc(span.start);
        let mut it = p.into_inner().peekable();
        it.next();
        let name = it.next().map(|q| self.ident(q)).unwrap_or(Ident {
            name: String::new(),
            span,
        });
        let label = self.opt_string(&mut it);
        let mut entries = Vec::new();
        for q in it {
            if q.as_rule() != Rule::level_entry {
                continue;
            }
            let espan = self.span(&q);
            let mut qi = q.into_inner().peekable();
            let ename = qi.next().map(|x| self.ident(x)).unwrap_or(Ident {
                name: String::new(),
                span: espan,
            });
            let elabel = self.opt_string(&mut qi);
            let aliases = qi
                .filter(|x| x.as_rule() == Rule::string)
                .map(|x| self.string(x))
                .collect();
            entries.push(LevelEntry {
                name: ename,
                label: elabel,
                aliases,
                span: espan,
            });
        }
        LevelsDecl {
            name,
            label,
            entries,
            doc,
            span,
        }
    }

    fn indicator(&mut self, p: Pair<'a, Rule>) -> IndicatorDecl {
        let span = self.span(&p);
        let doc = self.doc(span.start);
        let mut it = p.into_inner().peekable();
        it.next();
        let name = it.next().map(|q| self.ident(q)).unwrap_or(Ident {
            name: String::new(),
            span,
        });
        let label = self.opt_string(&mut it);
        let mut ty = TypeExpr {
            scale: vec![],
            unit: UnitRef {
                num: Ident {
                    name: String::new(),
                    span,
                },
                per: None,
                span,
            },
            span,
        };
        if let Some(t) = it.next() {
            ty.span = self.span(&t);
            for q in t.into_inner() {
                match q.as_rule() {
                    Rule::scale => ty.scale = self.scale(q),
                    Rule::unit_ref => ty.unit = self.unit_ref(q),
                    _ => {}
                }
            }
        }
        IndicatorDecl {
            name,
            label,
            ty,
            doc,
            span,
        }
    }

    fn campaign(&mut self, p: Pair<'a, Rule>) -> Campaign {
        let span = self.span(&p);
        let doc = self.doc(span.start);
        let mut it = p.into_inner().peekable();
        it.next();
        let name = it.next().map(|q| self.ident(q)).unwrap_or(Ident {
            name: String::new(),
            span,
        });
        let label = self.opt_string(&mut it);
        let items = it.filter_map(|q| self.campaign_item(q)).collect();
        Campaign {
            name,
            label,
            items,
            doc,
            span,
        }
    }

    fn campaign_item(&mut self, p: Pair<'a, Rule>) -> Option<CampaignItem> {
        let span = self.span(&p);
        Some(match p.as_rule() {
            Rule::issuer => CampaignItem::Issuer(self.first_string(p)?),
            Rule::theme => CampaignItem::Theme(self.first_string(p)?),
            Rule::period_decl => {
                let dates: Vec<DateLit> = p
                    .into_inner()
                    .filter(|q| q.as_rule() == Rule::date)
                    .map(|q| self.date(q))
                    .collect();
                let mut d = dates.into_iter();
                let (a, b) = (d.next()?, d.next()?);
                CampaignItem::Period(a, b, span)
            }
            Rule::basis => {
                let v = p
                    .into_inner()
                    .filter(|q| q.as_rule() == Rule::string)
                    .map(|q| self.string(q))
                    .collect();
                CampaignItem::Basis(v, span)
            }
            Rule::indicator_decl => CampaignItem::Indicator(self.indicator(p)),
            Rule::let_decl => {
                let doc = self.doc(span.start);
                let mut it = p.into_inner();
                it.next();
                let name = self.ident(it.next()?);
                let expr = self.expr(it.next()?);
                CampaignItem::Let(LetDecl {
                    name,
                    expr,
                    doc,
                    span,
                })
            }
            Rule::section => {
                let doc = self.doc(span.start);
                let mut it = p.into_inner().peekable();
                it.next();
                let name = self.ident(it.next()?);
                let label = self.opt_string(&mut it);
                let mut cond = None;
                let mut items = Vec::new();
                for q in it {
                    if q.as_rule() == Rule::for_cond {
                        cond = self.for_cond(q);
                    } else if let Some(i) = self.campaign_item(q) {
                        items.push(i);
                    }
                }
                CampaignItem::Section(Section {
                    name,
                    label,
                    cond,
                    items,
                    doc,
                    span,
                })
            }
            Rule::target => {
                let (head, rest) = self.head(p)?;
                let mut body = None;
                let mut options = Vec::new();
                for q in rest {
                    match q.as_rule() {
                        Rule::target_body => body = Some(self.target_body(q)),
                        Rule::options => options = self.options(q),
                        _ => {}
                    }
                }
                CampaignItem::Target(Target {
                    head,
                    body: body?,
                    options,
                })
            }
            Rule::deadline => {
                let (head, rest) = self.head(p)?;
                let mut date = None;
                let mut due = None;
                let mut before = false;
                let mut options = Vec::new();
                for q in rest {
                    match q.as_rule() {
                        Rule::expr => date = Some(self.expr(q)),
                        Rule::due => {
                            for r in q.into_inner() {
                                match r.as_rule() {
                                    Rule::kw_before => before = true,
                                    Rule::expr => due = Some(self.expr(r)),
                                    _ => {}
                                }
                            }
                        }
                        Rule::options => options = self.options(q),
                        _ => {}
                    }
                }
                CampaignItem::Deadline(Deadline {
                    head,
                    date: date?,
                    before,
                    due: due?,
                    options,
                })
            }
            Rule::checklist_decl => CampaignItem::Checklist(self.checklist(p)),
            Rule::adjust => {
                let (head, rest) = self.head(p)?;
                let mut amount = Decimal::ZERO;
                let mut amount_text = String::new();
                let mut kind = None;
                let mut options = Vec::new();
                for q in rest {
                    match q.as_rule() {
                        Rule::signed_number => {
                            amount_text = q.as_str().to_string();
                            let neg = q.as_str().starts_with('-');
                            if let Some(n) = q.into_inner().find(|r| r.as_rule() == Rule::number) {
                                let v = self.number(&n);
                                amount = if neg { -v } else { v };
                            }
                        }
                        Rule::adjust_when => {
                            let e = q.into_inner().find(|r| r.as_rule() == Rule::expr)?;
                            kind = Some(AdjustKind::When(self.expr(e)));
                        }
                        Rule::adjust_per => {
                            let mut e = None;
                            let mut max = None;
                            for r in q.into_inner() {
                                match r.as_rule() {
                                    Rule::expr => e = Some(self.expr(r)),
                                    Rule::max_clause => max = self.max_clause(r).map(|m| m.0),
                                    _ => {}
                                }
                            }
                            kind = Some(AdjustKind::Per(e?, max));
                        }
                        Rule::options => options = self.options(q),
                        _ => {}
                    }
                }
                CampaignItem::Adjust(Adjust {
                    head,
                    amount,
                    amount_text,
                    kind: kind?,
                    options,
                })
            }
            Rule::scoring => {
                let mut s = Scoring {
                    total: None,
                    precision: None,
                    normalize: None,
                    span,
                };
                for q in p.into_inner() {
                    if q.as_rule() != Rule::scoring_opt {
                        continue;
                    }
                    let mut it = q.into_inner();
                    let kw = it.next()?;
                    let n = it.next()?;
                    let v = (self.number(&n), n.as_str().to_string());
                    match kw.as_rule() {
                        Rule::kw_total => s.total = Some(v),
                        Rule::kw_precision => s.precision = Some(v),
                        _ => s.normalize = Some(v),
                    }
                }
                CampaignItem::Scoring(s)
            }
            Rule::rank_decl => {
                let mut key = None;
                let mut within = None;
                let mut then = Vec::new();
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::expr => key = Some(self.expr(q)),
                        Rule::name => within = Some(self.name(q)),
                        Rule::then_by => {
                            let mut e = None;
                            let mut asc = None;
                            for r in q.into_inner() {
                                match r.as_rule() {
                                    Rule::expr => e = Some(self.expr(r)),
                                    Rule::order => {
                                        asc = Some(
                                            r.into_inner().next().map(|x| x.as_rule())
                                                == Some(Rule::kw_ascending),
                                        )
                                    }
                                    _ => {}
                                }
                            }
                            then.push((e?, asc));
                        }
                        _ => {}
                    }
                }
                CampaignItem::Rank(Rank {
                    key: key?,
                    within,
                    then,
                    span,
                })
            }
            Rule::rating => {
                let doc = self.doc(span.start);
                let mut it = p.into_inner().peekable();
                it.next();
                let name = self.ident(it.next()?);
                let label = self.opt_string(&mut it);
                let mut branches = Vec::new();
                for q in it {
                    if q.as_rule() != Rule::branch {
                        continue;
                    }
                    let bspan = self.span(&q);
                    let mut bi = q.into_inner().peekable();
                    let bname = self.ident(bi.next()?);
                    let blabel = self.opt_string(&mut bi);
                    let mut cond = None;
                    for r in bi {
                        if r.as_rule() == Rule::expr {
                            cond = Some(self.expr(r));
                        }
                    }
                    branches.push(Branch {
                        name: bname,
                        label: blabel,
                        cond,
                        span: bspan,
                    });
                }
                CampaignItem::Rating(Rating {
                    name,
                    label,
                    branches,
                    doc,
                    span,
                })
            }
            Rule::award_decl => CampaignItem::Award(self.award(p)),
            Rule::test_decl => CampaignItem::Test(self.test(p)),
            _ => return None,
        })
    }

    fn first_string(&mut self, p: Pair<'a, Rule>) -> Option<Str> {
        p.into_inner()
            .find(|q| q.as_rule() == Rule::string)
            .map(|q| self.string(q))
    }

    fn for_cond(&mut self, p: Pair<'a, Rule>) -> Option<Expr> {
        p.into_inner()
            .find(|q| q.as_rule() == Rule::expr)
            .map(|q| self.expr(q))
    }

    fn head(&mut self, p: Pair<'a, Rule>) -> Option<(CritHead, Vec<Pair<'a, Rule>>)> {
        let span = self.span(&p);
        let doc = self.doc(span.start);
        let mut it = p.into_inner().peekable();
        it.next();
        let name = self.ident(it.next()?);
        let label = self.opt_string(&mut it);
        let mut cond = None;
        if it
            .peek()
            .map(|q| q.as_rule() == Rule::for_cond)
            .unwrap_or(false)
        {
            cond = it.next().and_then(|q| self.for_cond(q));
        }
        Some((
            CritHead {
                name,
                label,
                cond,
                doc,
                span,
            },
            it.collect(),
        ))
    }

    fn checklist(&mut self, p: Pair<'a, Rule>) -> ChecklistDecl {
        let span = self.span(&p);
        let block = p.as_str().trim_end().ends_with('}');
        let fallback = CritHead {
            name: Ident {
                name: String::new(),
                span,
            },
            label: None,
            cond: None,
            doc: Doc(None),
            span,
        };
        let (head, rest) = self.head(p).unwrap_or((fallback, Vec::new()));
        let mut items = Vec::new();
        let mut options = Vec::new();
        for q in rest {
            match q.as_rule() {
                Rule::item_decl => {
                    let ispan = self.span(&q);
                    let mut it = q.into_inner().peekable();
                    it.next();
                    if let Some(n) = it.next() {
                        let name = self.ident(n);
                        let label = self.opt_string(&mut it);
                        items.push(ItemDecl {
                            name,
                            label,
                            span: ispan,
                        });
                    }
                }
                _ => {
                    if let Some(o) = self.option(q) {
                        options.push(o)
                    }
                }
            }
        }
        ChecklistDecl {
            head,
            block,
            items,
            options,
        }
    }

    fn award(&mut self, p: Pair<'a, Rule>) -> AwardDecl {
        let span = self.span(&p);
        let doc = self.doc(span.start);
        let block = p.as_str().trim_end().ends_with('}');
        let mut it = p.into_inner().peekable();
        it.next();
        let name = it.next().map(|q| self.ident(q)).unwrap_or(Ident {
            name: String::new(),
            span,
        });
        let label = self.opt_string(&mut it);
        let mut when = None;
        let mut limit = None;
        for q in it {
            match q.as_rule() {
                Rule::award_when => {
                    when = q
                        .into_inner()
                        .find(|r| r.as_rule() == Rule::expr)
                        .map(|r| self.expr(r))
                }
                Rule::limit => {
                    let lspan = self.span(&q);
                    let mut amount = None;
                    let mut per = None;
                    for r in q.into_inner() {
                        match r.as_rule() {
                            Rule::number => {
                                amount = Some(LimitAmount::Count(
                                    self.number(&r),
                                    r.as_str().to_string(),
                                ))
                            }
                            Rule::limit_share => {
                                let mut pct = (Decimal::ZERO, String::new());
                                let mut of = None;
                                for s in r.into_inner() {
                                    match s.as_rule() {
                                        Rule::percent => pct = self.percent(s),
                                        Rule::expr => of = Some(self.expr(s)),
                                        _ => {}
                                    }
                                }
                                amount = Some(LimitAmount::Share(pct.0, pct.1, of));
                            }
                            Rule::name => per = Some(self.name(r)),
                            _ => {}
                        }
                    }
                    if let (Some(amount), Some(per)) = (amount, per) {
                        limit = Some(Limit {
                            amount,
                            per,
                            span: lspan,
                        });
                    }
                }
                _ => {}
            }
        }
        AwardDecl {
            name,
            label,
            block,
            when,
            limit,
            doc,
            span,
        }
    }

    fn test(&mut self, p: Pair<'a, Rule>) -> TestDecl {
        let span = self.span(&p);
        let mut it = p.into_inner();
        it.next();
        let name = it.next().map(|q| self.string(q)).unwrap_or(Str {
            value: String::new(),
            span,
        });
        let mut parts = Vec::new();
        for q in it {
            match q.as_rule() {
                Rule::test_data => {
                    if let Some(s) = self.first_string(q) {
                        parts.push(TestPart::Data(s));
                    }
                }
                Rule::given => {
                    let gspan = self.span(&q);
                    let mut gi = q.into_inner();
                    gi.next();
                    let Some(u) = gi.next() else { continue };
                    let unit = self.ident(u);
                    let mut fields = Vec::new();
                    for f in gi {
                        if f.as_rule() != Rule::field {
                            continue;
                        }
                        let fspan = self.span(&f);
                        let mut fi = f.into_inner();
                        let Some(n) = fi.next() else { continue };
                        let name = if n.as_rule() == Rule::field_period {
                            let span = self.span(&n);
                            Name {
                                parts: vec![self.ident(n)],
                                span,
                            }
                        } else {
                            self.name(n)
                        };
                        let Some(v) = fi.next() else { continue };
                        let mut neg = false;
                        let mut value = None;
                        for r in v.into_inner() {
                            match r.as_rule() {
                                Rule::neg => neg = true,
                                Rule::name => value = Some(GivenValue::Name(self.name(r))),
                                _ => value = self.literal(r).map(GivenValue::Lit),
                            }
                        }
                        if let Some(value) = value {
                            fields.push(Field {
                                name,
                                neg,
                                value,
                                span: fspan,
                            });
                        }
                    }
                    parts.push(TestPart::Given {
                        unit,
                        fields,
                        span: gspan,
                    });
                }
                Rule::expect => {
                    if let Some(e) = q.into_inner().find(|r| r.as_rule() == Rule::expr) {
                        parts.push(TestPart::Expect(self.expr(e)));
                    }
                }
                _ => {}
            }
        }
        TestDecl { name, parts, span }
    }

    fn target_body(&mut self, p: Pair<'a, Rule>) -> TargetBody {
        let span = self.span(&p);
        match p.into_inner().next() {
            Some(q) if q.as_rule() == Rule::group => TargetBody::Group(self.group(q)),
            Some(q) => TargetBody::Expr(self.expr(q)),
            None => TargetBody::Expr(Expr {
                kind: ExprKind::Lit(Literal::Bool(false)),
                span,
            }),
        }
    }

    fn group(&mut self, p: Pair<'a, Rule>) -> Group {
        let span = self.span(&p);
        let mut kind = GroupKind::All;
        let mut children = Vec::new();
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::group_kind => {
                    let mut it = q.into_inner();
                    match it.next().map(|x| x.as_rule()) {
                        Some(Rule::kw_any) => kind = GroupKind::Any,
                        Some(Rule::kw_at_least) => {
                            let n = it.next().map(|x| self.number(&x)).unwrap_or_default();
                            kind = GroupKind::AtLeast(
                                u32::try_from(n.trunc().mantissa()).unwrap_or(u32::MAX),
                            );
                        }
                        _ => kind = GroupKind::All,
                    }
                }
                Rule::child => {
                    let cspan = self.span(&q);
                    let mut label = None;
                    let mut body = None;
                    for r in q.into_inner() {
                        match r.as_rule() {
                            Rule::string => label = Some(self.string(r)),
                            Rule::group => body = Some(TargetBody::Group(self.group(r))),
                            Rule::expr => body = Some(TargetBody::Expr(self.expr(r))),
                            _ => {}
                        }
                    }
                    if let Some(body) = body {
                        children.push(Child {
                            label,
                            body,
                            span: cspan,
                        });
                    }
                }
                _ => {}
            }
        }
        Group {
            kind,
            children,
            span,
        }
    }

    fn max_clause(&mut self, p: Pair<'a, Rule>) -> Option<(Decimal, String)> {
        p.into_inner()
            .find(|q| q.as_rule() == Rule::number)
            .map(|q| (self.number(&q), q.as_str().to_string()))
    }

    fn options(&mut self, p: Pair<'a, Rule>) -> Vec<Opt> {
        p.into_inner().filter_map(|q| self.option(q)).collect()
    }

    fn step(&mut self, p: Pair<'a, Rule>) -> Step {
        let span = self.span(&p);
        match p.into_inner().next() {
            Some(q) => match q.as_rule() {
                Rule::percent => {
                    let (v, t) = self.percent(q);
                    Step::Percent(v, t)
                }
                Rule::quantity => Step::Quantity(self.quantity(q)),
                Rule::number => Step::Number(self.number(&q), q.as_str().to_string()),
                _ => Step::Unit(self.unit_ref(q)),
            },
            None => Step::Number(Decimal::ONE, format!("{span:?}")),
        }
    }

    fn option(&mut self, p: Pair<'a, Rule>) -> Option<Opt> {
        let span = self.span(&p);
        Some(match p.as_rule() {
            Rule::points_opt => {
                let mut n = (Decimal::ZERO, String::new());
                let mut mode = PointsMode::Plain;
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::number => n = (self.number(&q), q.as_str().to_string()),
                        Rule::points_mode => {
                            mode = match q.into_inner().next().map(|x| x.as_rule()) {
                                Some(Rule::kw_proportional) => PointsMode::Proportional,
                                Some(Rule::kw_relative) => PointsMode::Relative,
                                _ => PointsMode::PerItem,
                            }
                        }
                        _ => {}
                    }
                }
                Opt::Points {
                    n: n.0,
                    text: n.1,
                    mode,
                    span,
                }
            }
            Rule::bonus_opt | Rule::penalty_opt => {
                let is_bonus = p.as_rule() == Rule::bonus_opt;
                let mut amount = (Decimal::ZERO, String::new());
                let mut step = None;
                let mut dir = Direction::Above;
                let mut max = None;
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::number => amount = (self.number(&q), q.as_str().to_string()),
                        Rule::step => step = Some(self.step(q)),
                        Rule::late_word => dir = Direction::Late,
                        Rule::direction => {
                            dir = if q.into_inner().next().map(|x| x.as_rule())
                                == Some(Rule::kw_below)
                            {
                                Direction::Below
                            } else {
                                Direction::Above
                            }
                        }
                        Rule::max_clause => max = self.max_clause(q),
                        _ => {}
                    }
                }
                let step = step?;
                if is_bonus {
                    Opt::Bonus {
                        amount: amount.0,
                        text: amount.1,
                        step,
                        dir,
                        max,
                        span,
                    }
                } else {
                    Opt::Penalty {
                        amount: amount.0,
                        text: amount.1,
                        step,
                        dir,
                        max,
                        span,
                    }
                }
            }
            Rule::require_opt => {
                let mut it = p.into_inner();
                it.next();
                match it.next() {
                    Some(q) if q.as_rule() == Rule::kw_at_least => {
                        let n = it.next().map(|x| self.number(&x)).unwrap_or_default();
                        Opt::Require(
                            Require::AtLeast(
                                u32::try_from(n.trunc().mantissa()).unwrap_or(u32::MAX),
                            ),
                            span,
                        )
                    }
                    _ => Opt::Require(Require::All, span),
                }
            }
            Rule::blank_opt => {
                let v = p
                    .into_inner()
                    .find(|q| q.as_rule() == Rule::bool_lit)
                    .map(|q| q.as_str() == "true");
                Opt::Blank(v.unwrap_or(false), span)
            }
            _ => return None,
        })
    }

    fn percent(&mut self, p: Pair<'a, Rule>) -> (Decimal, String) {
        let text = p.as_str().to_string();
        let span = self.span(&p);
        let n = p
            .into_inner()
            .next()
            .map(|q| self.number(&q))
            .unwrap_or_default();
        (self.hundredth(n, &text, span), text)
    }

    /// A percent's number as a fraction (`14.5%` is 0.145), exactly: a
    /// percent with more digits than a decimal holds once divided by 100
    /// is an error, not rounded.
    fn hundredth(&mut self, n: Decimal, text: &str, span: Span) -> Decimal {
        match crate::value::mul_exact(n, Decimal::new(1, 2)) {
            Some(v) => v,
            None => {
                self.errors.push(
                    Diag::error(
                        codes::OVERFLOW,
                        format!("the percent `{text}` is too precise"),
                    )
                    .at(span)
                    .help("numbers have at most 28 significant digits"),
                );
                Decimal::ZERO
            }
        }
    }

    fn date(&mut self, p: Pair<'a, Rule>) -> DateLit {
        date_lit(p.as_str(), self.span(&p))
    }
}

fn date_lit(text: &str, span: Span) -> DateLit {
    {
        let text = text.to_string();
        let (year, month, day) = if text.contains('-') {
            let v: Vec<&str> = text.split('-').collect();
            (
                v.first().and_then(|s| s.parse().ok()).unwrap_or(0),
                v.get(1).and_then(|s| s.parse().ok()).unwrap_or(0),
                v.get(2).and_then(|s| s.parse().ok()).unwrap_or(0),
            )
        } else {
            let v: Vec<&str> = text.split('/').collect();
            (
                v.get(2).and_then(|s| s.parse().ok()).unwrap_or(0),
                v.get(1).and_then(|s| s.parse().ok()).unwrap_or(0),
                v.first().and_then(|s| s.parse().ok()).unwrap_or(0),
            )
        };
        DateLit {
            text,
            year,
            month,
            day,
            span,
        }
    }
}

impl<'a> Builder<'a> {
    fn literal(&mut self, p: Pair<'a, Rule>) -> Option<Literal> {
        Some(match p.as_rule() {
            Rule::date => Literal::Date(self.date(p)),
            Rule::percent => {
                let (v, t) = self.percent(p);
                Literal::Percent(v, t)
            }
            Rule::quantity => Literal::Quantity(self.quantity(p)),
            Rule::number => Literal::Number(self.number(&p), p.as_str().to_string()),
            Rule::string => Literal::String(self.string(p).value),
            Rule::bool_lit => Literal::Bool(p.as_str() == "true"),
            _ => return None,
        })
    }

    fn expr(&mut self, p: Pair<'a, Rule>) -> Expr {
        if self.depth >= LIMIT_BUILD_DEPTH {
            let span = self.span(&p);
            if !self.errors.iter().any(|d| d.code == codes::LIMIT) {
                self.errors.push(
                    Diag::error(
                        codes::LIMIT,
                        format!("nesting deeper than {LIMIT_DEPTH} levels"),
                    )
                    .at(Span::new(span.file, span.start, span.start))
                    .help("split the expression into `let`s"),
                );
            }
            return Expr {
                kind: ExprKind::Lit(Literal::Bool(false)),
                span,
            };
        }
        self.depth += 1;
        let e = self.expr_inner(p);
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self, p: Pair<'a, Rule>) -> Expr {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut inner: Vec<Pair<'a, Rule>> = p.into_inner().collect();
        match rule {
            Rule::expr => self.logic(span, inner),
            Rule::clause => self.clause(span, inner),
            Rule::arith => self.arith(span, inner),
            Rule::operand => self.operand(span, inner),
            Rule::paren => match inner.pop() {
                Some(q) => {
                    let e = self.expr(q);
                    Expr {
                        kind: ExprKind::Paren(Box::new(e)),
                        span,
                    }
                }
                None => self.bad(span),
            },
            Rule::if_expr => {
                let es: Vec<Expr> = inner
                    .into_iter()
                    .filter(|q| q.as_rule() == Rule::expr)
                    .map(|q| self.expr(q))
                    .collect();
                let mut it = es.into_iter();
                match (it.next(), it.next(), it.next()) {
                    (Some(c), Some(a), Some(b)) => Expr {
                        kind: ExprKind::If(Box::new(c), Box::new(a), Box::new(b)),
                        span,
                    },
                    _ => self.bad(span),
                }
            }
            Rule::all_met => {
                let criteria = inner.iter().any(|q| q.as_rule() == Rule::kw_criteria);
                Expr {
                    kind: ExprKind::AllMet { criteria },
                    span,
                }
            }
            Rule::call => {
                let mut it = inner.into_iter();
                let Some(head) = it.next() else {
                    return self.bad(span);
                };
                let Some(fname) = head.into_inner().next() else {
                    return self.bad(span);
                };
                let fname = self.ident(fname);
                let mut args = Vec::new();
                for a in it {
                    let aspan = self.span(&a);
                    let Some(x) = a.into_inner().next() else {
                        continue;
                    };
                    if x.as_rule() == Rule::members_arg {
                        let mut descendants = false;
                        let mut cond = None;
                        for r in x.into_inner() {
                            match r.as_rule() {
                                Rule::kw_descendants => descendants = true,
                                Rule::expr => cond = Some(Box::new(self.expr(r))),
                                _ => {}
                            }
                        }
                        args.push(Arg::Members {
                            descendants,
                            cond,
                            span: aspan,
                        });
                    } else {
                        args.push(Arg::Expr(self.expr(x)));
                    }
                }
                Expr {
                    kind: ExprKind::Call(fname, args),
                    span,
                }
            }
            Rule::rating_word | Rule::rank_word => {
                let word = if rule == Rule::rank_word {
                    "rank"
                } else {
                    "rating"
                };
                let part = Ident {
                    name: word.into(),
                    span,
                };
                Expr {
                    kind: ExprKind::Name(Name {
                        parts: vec![part],
                        span,
                    }),
                    span,
                }
            }
            Rule::status_word => {
                match StatusWord::parse(self.text.get(span.start..span.end).unwrap_or("")) {
                    Some(s) => Expr {
                        kind: ExprKind::Status(s),
                        span,
                    },
                    None => self.bad(span),
                }
            }
            Rule::name => {
                // Rebuild the pair's name from its inner idents.
                let parts = inner
                    .into_iter()
                    .filter(|q| matches!(q.as_rule(), Rule::ident | Rule::member_word))
                    .map(|q| self.ident(q))
                    .collect();
                Expr {
                    kind: ExprKind::Name(Name { parts, span }),
                    span,
                }
            }
            _ => {
                // Literals: rebuild a pair-free literal from the rule.
                let text = self.text.get(span.start..span.end).unwrap_or("");
                let _ = text;
                self.literal_from(rule, inner, span)
            }
        }
    }

    /// `clause (and|or clause)*`: `and` binds tighter than `or`; both
    /// group to the left.
    fn logic(&mut self, span: Span, mut inner: Vec<Pair<'a, Rule>>) -> Expr {
        if inner.len() == 1 {
            return match inner.pop() {
                Some(q) => self.expr(q),
                None => self.bad(span),
            };
        }
        let mut ors: Vec<Vec<Pair<'a, Rule>>> = vec![Vec::new()];
        for q in inner {
            match q.as_rule() {
                Rule::kw_or => ors.push(Vec::new()),
                Rule::kw_and => {}
                _ => {
                    if let Some(last) = ors.last_mut() {
                        last.push(q);
                    }
                }
            }
        }
        // The limits count as when each level was a rule of its own: its
        // operands and operators.
        if (2 * ors.len()).saturating_sub(1) > 2 * LIMIT_CHAIN {
            return self.too_long(span);
        }
        let mut acc: Option<Expr> = None;
        for ands in ors {
            let Some(first) = ands.first() else {
                return self.bad(span);
            };
            // An over-long group is reported alone; the others are still
            // built, so their own errors are reported too.
            let mut term: Option<Expr> = None;
            if (2 * ands.len()).saturating_sub(1) > 2 * LIMIT_CHAIN {
                let s = self.span(first);
                term = Some(self.too_long(s));
            } else {
                for q in ands {
                    let r = self.expr(q);
                    term = Some(match term {
                        None => r,
                        Some(l) => Expr {
                            span: l.span.to(r.span),
                            kind: ExprKind::And(Box::new(l), Box::new(r)),
                        },
                    });
                }
            }
            let Some(r) = term else {
                return self.bad(span);
            };
            acc = Some(match acc {
                None => r,
                Some(l) => Expr {
                    span: l.span.to(r.span),
                    kind: ExprKind::Or(Box::new(l), Box::new(r)),
                },
            });
        }
        acc.unwrap_or_else(|| self.bad(span))
    }

    /// `not* arith tail?`: each `not` covers the rest of the clause.
    fn clause(&mut self, span: Span, inner: Vec<Pair<'a, Rule>>) -> Expr {
        let nots: Vec<usize> = inner
            .iter()
            .take_while(|q| q.as_rule() == Rule::kw_not)
            .map(|q| self.offset + q.as_span().start())
            .collect();
        if nots.len() > LIMIT_DEPTH {
            return self.too_long(span);
        }
        let mut it = inner.into_iter().skip(nots.len());
        let Some(first) = it.next() else {
            return self.bad(span);
        };
        let start = self.offset + first.as_span().start();
        let lhs = self.expr(first);
        let mut e = match it.next() {
            None => lhs,
            Some(tail) => {
                let cmp_span = Span::new(self.file, start, span.end.max(start));
                self.comparison(cmp_span, lhs, tail)
            }
        };
        for &at in nots.iter().rev() {
            e = Expr {
                kind: ExprKind::Not(Box::new(e)),
                span: Span::new(self.file, at, span.end.max(at)),
            };
        }
        e
    }

    /// `lhs` and a comparison, interval, `is` or `has` after it.
    fn comparison(&mut self, span: Span, lhs: Expr, tail: Pair<'a, Rule>) -> Expr {
        let trule = tail.as_rule();
        let mut parts: Vec<Pair<'a, Rule>> = tail.into_inner().collect();
        let l = Box::new(lhs);
        let kind = match trule {
            Rule::comparison if parts.last().map(|q| q.as_rule()) == Some(Rule::band_high) => {
                let high = parts.pop();
                let op = parts.first().map(|q| q.as_str());
                let lo = parts.pop().map(|q| self.expr(q));
                let hi = high
                    .and_then(|h| h.into_inner().next())
                    .map(|q| self.expr(q));
                if op != Some(">=") {
                    self.errors.push(
                        Diag::error(
                            codes::SYNTAX,
                            format!(
                                "a band goal `low .. high` follows `>=`, not `{}`",
                                op.unwrap_or("")
                            ),
                        )
                        .at(span)
                        .help("write `actual >= 138 .. 140` (met from 138, exceeded above 140), or compare with one goal"),
                    );
                    return Expr {
                        kind: ExprKind::Lit(Literal::Bool(false)),
                        span,
                    };
                }
                match (lo, hi) {
                    (Some(lo), Some(hi)) => ExprKind::Band(l, Box::new(lo), Box::new(hi)),
                    _ => return self.bad(span),
                }
            }
            Rule::comparison => {
                let r = parts.pop().map(|q| self.expr(q));
                let op = match parts.first().map(|q| q.as_str()) {
                    Some(">=") => CmpOp::Ge,
                    Some(">") => CmpOp::Gt,
                    Some("<=") => CmpOp::Le,
                    Some("<") => CmpOp::Lt,
                    Some("==") => CmpOp::Eq,
                    _ => CmpOp::Ne,
                };
                match r {
                    Some(r) => ExprKind::Cmp(op, l, Box::new(r)),
                    None => return self.bad(span),
                }
            }
            Rule::interval => {
                let hi = parts.pop().map(|q| self.expr(q));
                let lo = parts.pop().map(|q| self.expr(q));
                match (lo, hi) {
                    (Some(lo), Some(hi)) => ExprKind::In(l, Box::new(lo), Box::new(hi)),
                    _ => return self.bad(span),
                }
            }
            Rule::is_test => {
                let negated = parts.iter().any(|q| q.as_rule() == Rule::kw_not);
                let st = parts
                    .iter()
                    .find(|q| q.as_rule() == Rule::status_word)
                    .and_then(|q| StatusWord::parse(q.as_str()))
                    .unwrap_or(StatusWord::Met);
                ExprKind::Is(l, negated, st)
            }
            Rule::has_test => match parts.pop() {
                Some(n) => ExprKind::Has(l, self.name(n)),
                None => return self.bad(span),
            },
            _ => return self.bad(span),
        };
        Expr { kind, span }
    }

    /// `operand (op operand)*`: `??` binds loosest, then `+ -`, then
    /// `* /`; each groups to the left.
    fn arith(&mut self, span: Span, mut inner: Vec<Pair<'a, Rule>>) -> Expr {
        if inner.len() == 1 {
            return match inner.pop() {
                Some(q) => self.expr(q),
                None => self.bad(span),
            };
        }
        // Operands with the operator before each (none before the first).
        let mut run: Vec<(Option<Rule>, Option<BinOp>, Pair<'a, Rule>)> = Vec::new();
        let mut op: Option<(Rule, Option<BinOp>)> = None;
        for q in inner {
            match q.as_rule() {
                Rule::coalesce_op => op = Some((Rule::coalesce_op, None)),
                Rule::add_op | Rule::mul_op => {
                    let b = match q.as_str().trim() {
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "*" => BinOp::Mul,
                        _ => BinOp::Div,
                    };
                    op = Some((q.as_rule(), Some(b)));
                }
                _ => {
                    let (r, b) = match op.take() {
                        Some((r, b)) => (Some(r), b),
                        None => (None, None),
                    };
                    run.push((r, b, q));
                }
            }
        }
        self.arith_level(run, 0)
    }

    /// One level of [`Builder::arith`]: split `run` at the operators of
    /// `level` (0: `??`, 1: `+ -`, 2: `* /`) and join the parts.
    fn arith_level(
        &mut self,
        run: Vec<(Option<Rule>, Option<BinOp>, Pair<'a, Rule>)>,
        level: usize,
    ) -> Expr {
        let splits = |r: Option<Rule>| match level {
            0 => r == Some(Rule::coalesce_op),
            1 => r == Some(Rule::add_op),
            _ => r.is_some(),
        };
        let mut parts: Vec<(Option<BinOp>, Vec<_>)> = Vec::new();
        for (k, (r, b, q)) in run.into_iter().enumerate() {
            if k == 0 || splits(r) {
                parts.push((b, Vec::new()));
            }
            if let Some(last) = parts.last_mut() {
                last.1.push((r, b, q));
            }
        }
        let start = parts
            .first()
            .and_then(|p| p.1.first())
            .map(|x| self.offset + x.2.as_span().start())
            .unwrap_or(self.offset);
        // The limits count as when each level was a rule of its own: its
        // operands, and its operators unless `??` (a literal then).
        let items = if level == 0 {
            parts.len()
        } else {
            (2 * parts.len()).saturating_sub(1)
        };
        if items > 2 * LIMIT_CHAIN {
            return self.too_long(Span::new(self.file, start, start));
        }
        let mut acc: Option<Expr> = None;
        for (b, part) in parts {
            let r = if level == 2 {
                match part.into_iter().next() {
                    Some((_, _, q)) => self.expr(q),
                    None => return self.bad(Span::new(self.file, start, start)),
                }
            } else {
                self.arith_level(part, level + 1)
            };
            acc = Some(match acc {
                None => r,
                Some(l) => Expr {
                    span: l.span.to(r.span),
                    kind: match b {
                        None => ExprKind::Coalesce(Box::new(l), Box::new(r)),
                        Some(op) => ExprKind::Bin(op, Box::new(l), Box::new(r)),
                    },
                },
            });
        }
        acc.unwrap_or_else(|| self.bad(Span::new(self.file, start, start)))
    }

    /// `atom (@ year)*`, or `negated`: `-+ operand`.
    fn operand(&mut self, span: Span, inner: Vec<Pair<'a, Rule>>) -> Expr {
        let mut inner = inner;
        let mut postfix = span;
        let mut negs = 0usize;
        // Signs, then the operand they apply to (one level: a sign cannot
        // follow the signs' own operand without an atom between).
        while inner.first().map(|q| q.as_rule()) == Some(Rule::negated) {
            let Some(n) = inner.pop() else { break };
            let mut parts: Vec<Pair<'a, Rule>> = n.into_inner().collect();
            let Some(op) = parts.pop() else {
                return self.bad(span);
            };
            negs += parts.len();
            postfix = self.span(&op);
            inner = op.into_inner().collect();
        }
        if negs > LIMIT_DEPTH {
            return self.too_long(span);
        }
        let mut it = inner.into_iter();
        let Some(first) = it.next() else {
            return self.bad(span);
        };
        // What the `@`s cover: the atom and every `@ year` after it.
        let rest: Vec<Pair<'a, Rule>> = it.collect();
        if rest.len() + 1 > LIMIT_DEPTH {
            return self.too_long(postfix);
        }
        let mut e = self.expr(first);
        for at in rest {
            let text = at.as_str().to_string();
            let year = at
                .into_inner()
                .next()
                .and_then(|n| n.as_str().replace('_', "").parse::<i32>().ok())
                .unwrap_or(0);
            let s = e.span.to(postfix);
            e = Expr {
                kind: ExprKind::At(Box::new(e), year, text),
                span: s,
            };
        }
        for _ in 0..negs {
            e = Expr {
                kind: ExprKind::Neg(Box::new(e)),
                span,
            };
        }
        e
    }

    fn literal_from(&mut self, rule: Rule, inner: Vec<Pair<'a, Rule>>, span: Span) -> Expr {
        let text = self
            .text
            .get(span.start..span.end)
            .unwrap_or("")
            .to_string();
        let lit = match rule {
            Rule::number => Literal::Number(self.exact_number(&text, span), text),
            Rule::percent => {
                let n = inner
                    .into_iter()
                    .next()
                    .map(|q| self.number(&q))
                    .unwrap_or_default();
                let n = self.hundredth(n, &text, span);
                Literal::Percent(n, text)
            }
            Rule::date => Literal::Date(date_lit(&text, span)),
            Rule::quantity => {
                let mut value = Decimal::ZERO;
                let mut ntext = String::new();
                let mut scale = Vec::new();
                let mut unit = None;
                for q in inner {
                    match q.as_rule() {
                        Rule::number => {
                            value = self.number(&q);
                            ntext = q.as_str().to_string();
                        }
                        Rule::scale => scale = self.scale(q),
                        Rule::unit_ref => unit = Some(self.unit_ref(q)),
                        _ => {}
                    }
                }
                let Some(unit) = unit else {
                    return self.bad(span);
                };
                Literal::Quantity(QuantityLit {
                    value,
                    text: ntext,
                    scale,
                    unit,
                })
            }
            Rule::string => {
                let raw = inner
                    .into_iter()
                    .next()
                    .map(|q| q.as_str().to_string())
                    .unwrap_or_default();
                Literal::String(unescape_simple(&raw))
            }
            Rule::bool_lit => Literal::Bool(text == "true"),
            _ => return self.bad(span),
        };
        Expr {
            kind: ExprKind::Lit(lit),
            span,
        }
    }

    fn bad(&mut self, span: Span) -> Expr {
        self.errors
            .push(Diag::error(codes::SYNTAX, "this expression could not be read").at(span));
        Expr {
            kind: ExprKind::Lit(Literal::Bool(false)),
            span,
        }
    }

    fn too_long(&mut self, span: Span) -> Expr {
        self.errors.push(
            Diag::error(
                codes::LIMIT,
                format!("this expression is longer than {LIMIT_CHAIN} operators"),
            )
            .at(Span::new(span.file, span.start, span.start))
            .help("split it into several `let`s"),
        );
        Expr {
            kind: ExprKind::Lit(Literal::Bool(false)),
            span,
        }
    }
}

fn unescape_simple(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod split_tests {
    //! A large file parsed in two pieces gives the tree, or the errors, of
    //! one parse.
    use super::*;
    use std::fmt::Write as _;

    /// A campaign of `n` sections of 20 items, with what makes a split go
    /// wrong if it is made in the wrong place: braces and item words in
    /// strings and comments, multi-line groups and expressions, and items
    /// before and after the campaign.
    fn big(n: usize) -> String {
        let mut s = String::from(
            "// Kế hoạch lớn\nunit người \"người\"\nlevels muc { a \"A\" b \"B\" }\n\n/// Tài liệu\ncampaign lon \"Lớn { }\" {\n  period 2024-01-01 .. 2024-12-31\n",
        );
        for k in 0..40 {
            let _ = writeln!(s, "  indicator i{k} \"Chỉ tiêu {k}\" : percent");
        }
        s.push_str("  indicator ngay \"Ngày nộp\" : date\n");
        for sec in 0..n {
            let _ = writeln!(
                s,
                "  /* section {{\ntarget x: 1 > 0\n}} */\n  section s{sec} \"Mục {sec} }}\" {{"
            );
            for t in 0..20 {
                let id = sec * 20 + t;
                let a = id % 40;
                let b = (id * 7) % 40;
                match t % 5 {
                    0 => {
                        let _ = writeln!(
                            s,
                            "    target c{id} \"Tiêu chí {id}\": all {{\n      i{a} >= 47.2%\n      \"con\": not i{b} < 3% and (i{a} + i{b}) * 2 ?? 0% >= 1%\n    }} {{ points 2 }}"
                        );
                    }
                    1 => {
                        let _ = writeln!(
                            s,
                            "    // target c{id}: comment\n    target c{id} \"{{ target }}\": -i{a} @2023 <= - - i{b} or\n      i{b} in 1% .. 2%\n      {{ points 1 }}"
                        );
                    }
                    2 => {
                        let _ = writeln!(s, "    let l{id} = i{a} * 2 - i{b} / 3");
                    }
                    3 => {
                        let _ = writeln!(
                            s,
                            "    deadline d{id} \"Nộp\": ngay by 31/01/2024 {{ points 1 penalty 0.5 per day late, max 1 }}"
                        );
                    }
                    _ => {
                        let _ = writeln!(s, "    target c{id}: i{a} >= 10 .. 20% {{ points 1 }}");
                    }
                }
            }
            s.push_str("  }\n");
        }
        s.push_str("  rank by score within bloc\n}\n\naward bk \"Bằng khen\"\ntest \"t\" {\n  expect true\n}\n");
        s
    }

    #[test]
    fn two_pieces_give_the_tree_of_one_parse() {
        let text = big(150);
        assert!(text.len() > SPLIT_AT, "{}", text.len());
        let at = lex::campaign_split(&text).expect("a split");
        assert!(at > text.len() / 2);
        let split = parse_split(&text, 3).expect("parses in two pieces");
        let whole = parse_whole(&text, 3).expect("parses");
        assert!(split == whole, "the trees differ");
    }

    #[test]
    fn an_error_in_either_piece_is_the_error_of_one_parse() {
        let text = big(150);
        let at = lex::campaign_split(&text).expect("a split");
        // A syntax error before the split, after it, and a builder error
        // (a band after `<=`) in the second piece.
        let cases = [
            text.replacen("i0 >= 47.2%", "i0 >= >= 47.2%", 1),
            format!(
                "{}{}",
                &text[..at],
                text[at..].replacen("points 2", "points", 1)
            ),
            format!(
                "{}{}",
                &text[..at],
                text[at..].replacen(">= 10 .. 20%", "<= 10 .. 20%", 1)
            ),
            format!(
                "{}{}",
                &text[..at],
                text[at..].replacen("}\n\naward", "\n\naward", 1)
            ),
        ];
        for (k, t) in cases.iter().enumerate() {
            assert!(t != &text, "case {k} changed nothing");
            let whole = parse_whole(t, 0);
            assert!(whole.is_err(), "case {k} parses");
            assert!(parse_split(t, 0).is_none(), "case {k}");
            assert_eq!(
                format!("{:?}", parse(t, 0)),
                format!("{whole:?}"),
                "case {k}"
            );
        }
    }

    #[test]
    fn small_files_and_later_campaigns_are_parsed_whole() {
        assert!(parse_split("campaign c {\n  target t: 1 > 0\n}\n", 0).is_none());
        // Only the first campaign is split.
        let text = format!("campaign a {{\n}}\n{}", big(150));
        assert!(lex::campaign_split(&text).is_none());
    }
}

#[cfg(test)]
mod reserved_tests {
    use super::*;

    fn plan_with_let(name: &str) -> String {
        format!("campaign c \"C\" {{\n  period 2024-01-01 .. 2024-12-31\n  let {name} = 1\n}}\n")
    }

    /// Every reserved word (LANGUAGE.md §1) is refused as a name, and a
    /// name that only begins with one is not: a word that begins another
    /// (`is` / `issuer`, `per` / `period`, `not` / `not_met`) must not
    /// hide it.
    #[test]
    fn every_reserved_word_is_refused_as_a_name() {
        for &w in lex::RESERVED {
            assert!(
                parse(&plan_with_let(w), 0).is_err(),
                "`{w}` was accepted as a name"
            );
            let longer = format!("{w}_x");
            assert!(
                parse(&plan_with_let(&longer), 0).is_ok(),
                "`{longer}` was refused as a name"
            );
        }
    }
}
