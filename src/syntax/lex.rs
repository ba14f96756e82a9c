//! A light lexical pass that runs before the grammar: it catches what the
//! grammar cannot explain well (a decimal comma, runaway nesting) and finds
//! doc comments and unclosed braces for diagnostics.

use crate::diag::{codes, Diag, Span};

/// Deepest nesting of brackets and braces accepted.
pub const LIMIT_DEPTH: usize = 64;

pub(crate) const RESERVED: &[&str] = &[
    "use",
    "unit",
    "levels",
    "alias",
    "campaign",
    "indicator",
    "let",
    "section",
    "for",
    "target",
    "deadline",
    "by",
    "before",
    "checklist",
    "item",
    "require",
    "at_least",
    "of",
    "all",
    "any",
    "adjust",
    "when",
    "points",
    "proportional",
    "relative",
    "per",
    "bonus",
    "penalty",
    "above",
    "below",
    "scoring",
    "total",
    "precision",
    "normalize",
    "rank",
    "within",
    "then",
    "ascending",
    "descending",
    "rating",
    "otherwise",
    "award",
    "limit",
    "test",
    "data",
    "given",
    "expect",
    "is",
    "has",
    "and",
    "or",
    "not",
    "in",
    "if",
    "else",
    "true",
    "false",
    "members",
    "descendants",
    "where",
    "issuer",
    "theme",
    "period",
    "basis",
    "exceeded",
    "met",
    "not_met",
    "late",
    "missing",
    "not_applicable",
    "nghìn",
    "ngàn",
    "triệu",
    "tỷ",
    "tỉ",
    "thousand",
    "million",
    "billion",
];

pub fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

/// Walk the text outside strings and comments, calling `f(offset, byte)`.
#[allow(
    clippy::indexing_slicing,
    reason = "every byte index is checked against the length in its loop condition"
)]
fn walk_code(text: &str, mut f: impl FnMut(usize, u8) -> bool) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i += 2;
            continue;
        }
        if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            continue;
        }
        if !f(i, c) {
            return;
        }
        i += 1;
    }
}

/// Checks that need no grammar: decimal commas, nesting depth, NUL bytes.
#[allow(
    clippy::indexing_slicing,
    reason = "every byte index is checked against the length in its loop condition"
)]
pub fn prescan(text: &str, file: u32) -> Result<(), Vec<Diag>> {
    let mut errors = Vec::new();
    if let Some(pos) = text.find('\0') {
        errors.push(
            Diag::error(codes::SYNTAX, "the file contains a NUL byte")
                .at(Span::new(file, pos, pos + 1))
                .help("criteria files are plain UTF-8 text; remove the NUL byte"),
        );
        return Err(errors);
    }
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut depth_reported = false;
    // Unbracketed nesting counts too: `if … then if … then …` and runs of
    // `not` nest as deeply as parentheses do.
    let mut word_start: Option<usize> = None;
    let mut if_depth = 0usize;
    let mut not_run = 0usize;
    walk_code(text, |i, c| {
        let in_word = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        if in_word {
            if word_start.is_none() {
                word_start = Some(i);
            }
        } else if let Some(ws) = word_start.take() {
            match text.get(ws..i) {
                Some("if") => if_depth += 1,
                Some("else") => if_depth = if_depth.saturating_sub(1),
                Some("not") => not_run += 1,
                _ => not_run = 0,
            }
            if depth + if_depth + not_run > LIMIT_DEPTH && !depth_reported {
                depth_reported = true;
                errors.push(
                    Diag::error(
                        codes::LIMIT,
                        format!("nesting deeper than {LIMIT_DEPTH} levels"),
                    )
                    .at(Span::new(file, ws, i))
                    .help("split the expression into `let`s"),
                );
            }
        }
        match c {
            b'(' | b'{' | b'[' => {
                depth += 1;
                if depth + if_depth + not_run > LIMIT_DEPTH && !depth_reported {
                    depth_reported = true;
                    errors.push(
                        Diag::error(
                            codes::LIMIT,
                            format!("nesting deeper than {LIMIT_DEPTH} levels"),
                        )
                        .at(Span::new(file, i, i + 1))
                        .help("split the expression into `let`s"),
                    );
                }
            }
            b')' | b'}' | b']' => depth = depth.saturating_sub(1),
            b',' => {
                let before = i > 0 && b[i - 1].is_ascii_digit();
                let after = b.get(i + 1).map(|x| x.is_ascii_digit()).unwrap_or(false);
                if before && after && errors.len() < 20 {
                    let mut s = i - 1;
                    while s > 0
                        && (b[s - 1].is_ascii_digit() || b[s - 1] == b'_' || b[s - 1] == b'.')
                    {
                        s -= 1;
                    }
                    let mut e = i + 1;
                    while e < b.len() && (b[e].is_ascii_digit() || b[e] == b'_') {
                        e += 1;
                    }
                    let written = text.get(s..e).unwrap_or("");
                    let fixed = written.replace(',', ".");
                    errors.push(
                        Diag::error(codes::SYNTAX, format!("decimal comma in `{written}`"))
                            .at(Span::new(file, s, e))
                            .label("a `,` between two digits")
                            .help(format!(
                                "write `{fixed}`: the decimal separator is `.`; to separate two numbers, put a space after the comma"
                            )),
                    );
                }
            }
            _ => {}
        }
        true
    });
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The `{` most likely left open when some `{` is never closed: its
/// offset, and the offset of the `}` that shows it, if one does. That is a
/// `}` starting its line less indented than the line of the `{` it closes
/// (it lines up with an outer block, whose own `}` is then missing);
/// without one, the last `{` never closed.
pub fn unclosed_brace(text: &str) -> Option<(usize, Option<usize>)> {
    // Where each line starts, found once: a long line with many braces
    // must not be scanned for each of them.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // The indentation of the line holding `pos`, and where its text starts.
    let indent = |pos: usize| {
        let k = starts.partition_point(|&s| s <= pos);
        let start = starts.get(k.wrapping_sub(1)).copied().unwrap_or(0);
        let ws: &[u8] = text.as_bytes().get(start..).unwrap_or_default();
        let width = ws.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        (width, start + width, ws.get(..width).unwrap_or_default())
    };
    // A `}` that begins its line, less indented than its `{` with the same
    // kind of whitespace (a tab and spaces cannot be compared).
    let outdented = |open: usize, close: usize| {
        let (wc, text_at, kc) = indent(close);
        let (wo, _, ko) = indent(open);
        let all = |c: u8| kc.iter().chain(ko).all(|&x| x == c);
        text_at == close && wc < wo && (all(b' ') || all(b'\t'))
    };
    let mut stack = Vec::new();
    let mut shown = None;
    walk_code(text, |i, c| {
        match c {
            b'{' => stack.push(i),
            b'}' => {
                if let Some(open) = stack.pop() {
                    if shown.is_none() && outdented(open, i) {
                        shown = Some((open, i));
                    }
                }
            }
            _ => {}
        }
        true
    });
    let last = *stack.last()?;
    Some(match shown {
        Some((open, close)) => (open, Some(close)),
        None => (last, None),
    })
}

/// The offset of the innermost `{` still open at `pos`.
pub fn open_brace_before(text: &str, pos: usize) -> Option<usize> {
    let mut stack = Vec::new();
    walk_code(text.get(..pos)?, |i, c| {
        match c {
            b'{' => stack.push(i),
            b'}' => {
                stack.pop();
            }
            _ => {}
        }
        true
    });
    stack.last().copied()
}

/// The `///` doc comment lines directly above `start`, joined.
pub fn doc_before(text: &str, start: usize) -> Option<String> {
    let before = text.get(..start)?;
    let mut lines: Vec<&str> = Vec::new();
    // The declaration's own line may hold indentation only.
    let mut rest = match before.rfind('\n') {
        Some(i) => {
            if !before[i + 1..].trim().is_empty() {
                return None;
            }
            &before[..i]
        }
        None => return None,
    };
    loop {
        let (line, head) = match rest.rfind('\n') {
            Some(i) => (&rest[i + 1..], Some(&rest[..i])),
            None => (rest, None),
        };
        let t = line.trim();
        if let Some(d) = t.strip_prefix("///") {
            lines.push(d.strip_prefix(' ').unwrap_or(d));
        } else {
            break;
        }
        match head {
            Some(h) => rest = h,
            None => break,
        }
    }
    if lines.is_empty() {
        return None;
    }
    lines.reverse();
    Some(lines.join("\n"))
}

/// The words that start an item of a section (and of a campaign).
pub const SECTION_ITEM_WORDS: &[&str] = &[
    "target",
    "indicator",
    "section",
    "deadline",
    "checklist",
    "let",
    "adjust",
];

/// Where a large file may be cut in two for parsing on two cores: the
/// start of an item of the file's first `campaign` block — the first word
/// of a line, at brace depth 1, outside strings and comments — near the
/// middle of the text. A wrong guess costs only time: the pieces are parsed
/// separately and, if either fails, the file is parsed whole.
pub fn campaign_split(text: &str) -> Option<usize> {
    let middle = text.len() / 2;
    let mut depth = 0usize;
    let mut in_campaign = false;
    let mut campaigns = 0usize;
    let mut line_start = true;
    let mut found = None;
    walk_code(text, |i, c| {
        match c {
            b'{' => {
                if depth == 0 {
                    // The block's owner: the first word of its line.
                    let before = text.get(..i).unwrap_or("");
                    let line = before.rfind('\n').map(|n| n + 1).unwrap_or(0);
                    in_campaign = before
                        .get(line..)
                        .is_some_and(|l| l.trim_start().starts_with("campaign"));
                    if in_campaign {
                        campaigns += 1;
                        if campaigns > 1 {
                            return false;
                        }
                    }
                }
                depth += 1;
            }
            b'}' => depth = depth.saturating_sub(1),
            b'\n' => {
                line_start = true;
                return true;
            }
            b' ' | b'\t' | b'\r' => return true,
            _ => {
                if line_start && depth == 1 && in_campaign && i >= middle {
                    let rest = text.get(i..).unwrap_or("");
                    let word_end = rest
                        .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                        .unwrap_or(rest.len());
                    if SECTION_ITEM_WORDS.contains(&rest.get(..word_end).unwrap_or("")) {
                        found = Some(i);
                        return false;
                    }
                }
            }
        }
        line_start = false;
        true
    });
    found
}

#[cfg(test)]
mod tests {
    use super::unclosed_brace;

    #[test]
    fn the_brace_left_open_is_found_by_indentation() {
        // The group's `}` is missing: the campaign's, at column 0, closes it.
        let t = "campaign c {\n  target t: all {\n    a >= 1\n}\n";
        let group = t.find("all {").map(|i| i + 4);
        let close = t.rfind('}');
        assert_eq!(unclosed_brace(t), group.map(|g| (g, close)));
        // Inline blocks and braces in strings and comments do not mislead.
        let t = "campaign c {\n  target t: a >= 1 { points 10 }\n  // }\n  let s = \"}\"\n";
        assert_eq!(unclosed_brace(t), t.find('{').map(|o| (o, None)));
        // Nothing open.
        assert_eq!(unclosed_brace("campaign c {\n}\n"), None);
        // Tabs count as indentation.
        let t = "campaign c {\n\tsection s {\n\t\ttarget t: a >= 1\n\t}\n";
        assert_eq!(unclosed_brace(t), t.find('{').map(|o| (o, None)));
        // A tab and spaces are not compared.
        let t = "campaign c {\n    section s {\n        target t: a >= 1\n\t}\n";
        assert_eq!(unclosed_brace(t), t.find('{').map(|o| (o, None)));
    }
}
