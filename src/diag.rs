//! Sources, spans and diagnostics shared by every stage.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A byte range in one source file. Spans never take part in equality, so
/// two trees that differ only in layout compare equal.
#[derive(Clone, Copy, Default)]
pub struct Span {
    pub file: u32,
    pub start: usize,
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Span {}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl Span {
    pub fn new(file: u32, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One loaded source text (already normalised to NFC).
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub path: Option<PathBuf>,
    pub text: Arc<str>,
    /// Byte offset of the start of each line, for fast line numbers.
    pub line_starts: Arc<[usize]>,
}

impl SourceFile {
    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i.max(1),
        }
    }
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.line_of(offset);
        let start = self
            .line_starts
            .get(line - 1)
            .copied()
            .unwrap_or(0)
            .min(offset);
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (line, col)
    }
}

/// Every source text a run has read, addressed by `Span::file`.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    pub files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, path: Option<PathBuf>, text: &str) -> u32 {
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.files.push(SourceFile {
            name: name.into(),
            path,
            text: Arc::from(text),
            line_starts: Arc::from(line_starts),
        });
        (self.files.len() - 1) as u32
    }
    pub fn get(&self, id: u32) -> Option<&SourceFile> {
        self.files.get(id as usize)
    }
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: u32, offset: usize) -> (usize, usize) {
        let Some(f) = self.get(file) else {
            return (1, 1);
        };
        f.line_col(offset)
    }
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.start..span.end))
            .unwrap_or("")
    }
}

pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

pub fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    if i >= text.len() {
        return text.len();
    }
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A diagnostic: a stable code, a one-line message, a span and a fix.
#[derive(Debug, Clone)]
pub struct Diag {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub span: Option<Span>,
    pub label: Option<String>,
    pub help: Option<String>,
    pub related: Vec<(Span, String)>,
    /// For data errors that point into a file that is not a source: the
    /// file, row and column in words.
    pub location: Option<DataLocation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLocation {
    pub file: String,
    pub row: usize,
    pub column: Option<String>,
}

impl Diag {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diag {
            code,
            severity: Severity::Error,
            message: message.into(),
            span: None,
            label: None,
            help: None,
            related: Vec::new(),
            location: None,
        }
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(code, message)
        }
    }
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }
    pub fn located(mut self, loc: DataLocation) -> Self {
        self.location = Some(loc);
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Stable diagnostic codes.
pub mod codes {
    pub const SYNTAX: &str = "thidua::syntax";
    pub const UNKNOWN_NAME: &str = "thidua::unknown-name";
    pub const DUPLICATE: &str = "thidua::duplicate";
    pub const TYPE_MISMATCH: &str = "thidua::type-mismatch";
    pub const UNIT_MISMATCH: &str = "thidua::unit-mismatch";
    pub const BAD_DATE: &str = "thidua::bad-date";
    pub const IMPORT: &str = "thidua::import";
    pub const CYCLE: &str = "thidua::cycle";
    pub const PERCENT_BARE_NUMBER: &str = "thidua::percent-bare-number";
    pub const AMBIGUOUS_THOUSANDS: &str = "thidua::ambiguous-thousands";
    pub const UNUSED_INDICATOR: &str = "thidua::unused-indicator";
    pub const DEADLINE_OUTSIDE_PERIOD: &str = "thidua::deadline-outside-period";
    pub const POINTS_TOTAL: &str = "thidua::points-total";
    pub const TIE_AT_LIMIT: &str = "thidua::tie-at-limit";
    pub const DATA: &str = "thidua::data";
    pub const MISSING_COLUMN: &str = "thidua::missing-column";
    pub const UNKNOWN_COLUMN: &str = "thidua::unknown-column";
    pub const INVALID: &str = "thidua::invalid";
    pub const LIMIT: &str = "thidua::limit";
    pub const OVERFLOW: &str = "thidua::overflow";
    pub const NO_CAMPAIGN: &str = "thidua::no-campaign";
    /// A range whose ends are constants written high end first.
    pub const BACKWARDS_RANGE: &str = "thidua::backwards-range";
}

/// Cut every word longer than 60 characters, so a message never quotes a
/// hostile megabyte token whole.
pub fn clip_words(s: &str) -> String {
    const MAX: usize = 60;
    let mut out = String::with_capacity(s.len().min(1024));
    let mut run = 0usize;
    let mut clipped = false;
    for c in s.chars() {
        if c.is_whitespace() || c == '`' {
            run = 0;
            clipped = false;
            out.push(c);
            continue;
        }
        run += 1;
        if run <= MAX {
            out.push(c);
        } else if !clipped {
            out.push('…');
            clipped = true;
        }
    }
    out
}

/// The nearest of `candidates` to `name`, for "did you mean" help.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Distances over megabyte names cost seconds and help nobody.
    if name.chars().count() > 64 {
        return None;
    }
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let score = strsim::normalized_damerau_levenshtein(&name.to_lowercase(), &c.to_lowercase());
        if score >= 0.5 && best.map(|(_, s)| score > s).unwrap_or(true) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::clip_words;

    #[test]
    fn long_words_are_clipped() {
        let long = "a".repeat(10_000);
        let s = clip_words(&format!("unknown name `{long}` here"));
        assert!(s.len() < 100, "{s}");
        assert!(s.starts_with("unknown name `aaaa"));
        assert!(s.ends_with("…` here"));
        assert_eq!(clip_words("short words stay"), "short words stay");
    }
}
