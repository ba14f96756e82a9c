//! Canonical layout of criteria files. Only whitespace between lines and at
//! their ends changes: indentation follows brace and parenthesis depth (two
//! spaces a level, one more for a line that continues an expression),
//! trailing spaces go, runs of blank lines become one, the file ends with
//! one newline. Comments, doc comments, keyword spellings and literal forms
//! stay exactly as written.

/// The whitespace the grammar accepts between tokens on a line; the
/// formatter changes nothing else, so a file that does not parse never
/// starts parsing.
fn is_layout(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\u{FEFF}' | '\u{A0}')
}

/// Format a whole file.
pub fn format_source(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len());
    let mut depth: usize = 0;
    let mut in_block_comment = false;
    let mut blank_run = 0;
    let mut continues = false;
    for raw in text.lines() {
        let line = raw.trim_end_matches(is_layout);
        if in_block_comment {
            // Inside `/* … */` the text is the drafter's: keep it.
            out.push_str(line);
            out.push('\n');
            let (_, still) = scan(line, true);
            in_block_comment = still.1;
            continue;
        }
        let body = line.trim_start_matches(is_layout);
        if body.is_empty() {
            blank_run += 1;
            if blank_run == 1 && !out.is_empty() {
                out.push('\n');
            }
            continue;
        }
        blank_run = 0;
        let leading_close = body.chars().take_while(|c| *c == '}' || *c == ')').count();
        let indent = depth.saturating_sub(leading_close);
        let continuation = (starts_with_operator(body) || continues) && leading_close == 0;
        for _ in 0..indent {
            out.push_str("  ");
        }
        if continuation {
            out.push_str("  ");
        }
        out.push_str(body);
        out.push('\n');
        let ((opens, closes), (_, block)) = scan(body, false);
        depth = (depth + opens).saturating_sub(closes);
        in_block_comment = block;
        continues = opens == 0 && ends_open(&code_part(body));
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out.trim_matches(|c| is_layout(c) || c == '\n').is_empty() {
        return String::new();
    }
    align_indicators(&out)
}

/// The `:` of the type, outside strings, in an `indicator` line.
#[allow(
    clippy::indexing_slicing,
    reason = "every index is within the line it was found in"
)]
fn type_colon(line: &str) -> Option<usize> {
    let body = line.trim_start_matches(is_layout);
    if !body.starts_with("indicator ") {
        return None;
    }
    let b = line.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && matches!(b.get(i + 1), Some(b'/') | Some(b'*')) => return None,
            b':' if !in_str => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Consecutive `indicator` lines of one indentation get their type
/// columns aligned: `indicator a "A"      : percent`.
#[allow(
    clippy::indexing_slicing,
    reason = "every index is within the line it was found in"
)]
fn align_indicators(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < lines.len() {
        let indent = |l: &str| l.len() - l.trim_start_matches(is_layout).len();
        if type_colon(lines[i]).is_none() {
            out.push_str(lines[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < lines.len()
            && type_colon(lines[j]).is_some()
            && indent(lines[j]) == indent(lines[i])
        {
            j += 1;
        }
        let heads: Vec<(String, String)> = lines[i..j]
            .iter()
            .map(|l| {
                let c = type_colon(l).unwrap_or(0);
                (
                    l[..c].trim_end_matches(is_layout).to_string(),
                    l[c + 1..]
                        .trim_matches(|ch| is_layout(ch) || ch == '\n')
                        .to_string(),
                )
            })
            .collect();
        let width = heads
            .iter()
            .map(|(h, _)| h.chars().count())
            .max()
            .unwrap_or(0);
        for (h, ty) in heads {
            let pad = width - h.chars().count();
            out.push_str(&h);
            out.push_str(&" ".repeat(pad));
            out.push_str(" : ");
            out.push_str(&ty);
            out.push('\n');
        }
        i = j;
    }
    out
}

/// A line whose code ends with an operator, `,`, `=` or `:` continues on
/// the next line (inside a group, a `,` separates children instead).
fn ends_open(code: &str) -> bool {
    let t = code.trim_end_matches(is_layout);
    const ENDS: &[&str] = &["=", ":", "+", "-", "*", "/", "<", ">", "??", ".."];
    const WORDS: &[&str] = &["and", "or", "not", "when"];
    if ENDS.iter().any(|e| t.ends_with(e))
        || WORDS
            .iter()
            .any(|w| t == *w || t.ends_with(&format!(" {w}")))
    {
        return true;
    }
    // A trailing comma continues a list (`basis "a",`), but not in a group.
    t.ends_with(',') && !t.contains(':')
}

/// The line without its comments (strings kept).
#[allow(
    clippy::indexing_slicing,
    reason = "every index is within the line it was found in"
)]
fn code_part(line: &str) -> String {
    let b = line.as_bytes();
    let mut out = String::new();
    let mut in_str = false;
    let mut i = 0;
    let mut start = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && b.get(i + 1) == Some(&b'/') => {
                out.push_str(&line[start..i]);
                return out;
            }
            b'/' if !in_str && b.get(i + 1) == Some(&b'*') => {
                out.push_str(&line[start..i]);
                match line[i + 2..].find("*/") {
                    Some(end) => {
                        i = i + 2 + end + 2;
                        start = i;
                        continue;
                    }
                    None => return out,
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&line[start.min(line.len())..]);
    out
}

fn starts_with_operator(body: &str) -> bool {
    const OPS: &[&str] = &[
        "and ", "or ", "==", "!=", "<=", ">=", "<", ">", "..", "??", "+", "*",
    ];
    if body.starts_with("//") || body.starts_with("/*") {
        return false;
    }
    OPS.iter().any(|op| body.starts_with(op)) || (body.starts_with('/') && !body.starts_with("//"))
}

/// Count braces and parentheses outside strings and comments; report
/// whether a block comment is still open at the end of the line.
#[allow(
    clippy::indexing_slicing,
    reason = "every index is within the line it was found in"
)]
fn scan(line: &str, mut in_block: bool) -> ((usize, usize), (bool, bool)) {
    let b = line.as_bytes();
    let mut i = 0;
    let mut opens = 0;
    let mut closes = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_block {
            if c == b'*' && b.get(i + 1) == Some(&b'/') {
                in_block = false;
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'/' if b.get(i + 1) == Some(&b'/') => break,
            b'/' if b.get(i + 1) == Some(&b'*') => {
                in_block = true;
                i += 2;
                continue;
            }
            b'{' | b'(' => opens += 1,
            b'}' | b')' => {
                if opens > 0 {
                    opens -= 1;
                } else {
                    closes += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    ((opens, closes), (in_str, in_block))
}

#[cfg(test)]
mod tests {
    use super::format_source;

    #[test]
    fn reindents_and_is_idempotent() {
        let src = "campaign x {\n      target t1: a >= 1 {\npoints 10\n   }\n\n\n\n  // note\n}\n";
        let once = format_source(src);
        assert_eq!(
            once,
            "campaign x {\n  target t1: a >= 1 {\n    points 10\n  }\n\n  // note\n}\n"
        );
        assert_eq!(format_source(&once), once);
    }

    #[test]
    fn other_unicode_spaces_are_kept() {
        // A vertical tab is not whitespace to the grammar: it must stay.
        assert_eq!(format_source("\u{b}"), "\u{b}\n");
        assert_eq!(format_source("a\u{2028}\n"), "a\u{2028}\n");
    }

    #[test]
    fn aligns_runs_of_indicators() {
        let src = "campaign c {\n  indicator a \"A\": percent\n  indicator long_name \"Long: x\" : tỷ đồng\n\n  indicator b \"B\" : bool\n}\n";
        let want = "campaign c {\n  indicator a \"A\"               : percent\n  indicator long_name \"Long: x\" : tỷ đồng\n\n  indicator b \"B\" : bool\n}\n";
        assert_eq!(format_source(src), want);
        assert_eq!(format_source(want), want);
    }

    #[test]
    fn braces_and_operators_in_comments_do_not_count() {
        let src = "campaign c {\n  /* { */\n  target t1: x >= 1 // {\n  target t2: x >= 2 /* a / */\n  target t3: x >= 3\n}\n";
        assert_eq!(format_source(src), src);
    }
}
