//! Diagnostics for people (miette), for programs (JSON) and for GitHub.

use crate::data::cells::{self, Cell};
use crate::diag::{Diag, SourceMap, Span};
use miette::{LabeledSpan, SourceSpan};
use serde_json::json;
use std::fmt;

/// Longest slice of one source line a report shows.
const LINE_WINDOW: usize = 200;

/// An excerpt of a source that reports the lines of the whole file.
struct Excerpt {
    name: String,
    text: String,
    line_offset: usize,
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.line_offset,
            inner.column(),
            inner.line_count(),
        )))
    }
}

struct Shown {
    d: Diag,
    src: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    header: String,
}

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.d.message)
    }
}
impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.header, self.d.message)
    }
}
impl std::error::Error for Shown {}

impl miette::Diagnostic for Shown {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.d.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(if self.d.is_error() {
            miette::Severity::Error
        } else {
            miette::Severity::Warning
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.src.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.src.is_none() || self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.clone().into_iter()))
    }
}

/// Cut a source to the lines a report needs, and long lines to a window
/// around the span: hostile files have megabyte lines.
fn excerpt(file: &crate::diag::SourceFile, span: Span) -> (String, usize, usize, usize) {
    let text: &str = &file.text;
    let start = crate::diag::floor_char_boundary(text, span.start.min(text.len()));
    let end = crate::diag::floor_char_boundary(text, span.end.min(text.len()).max(start));
    let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[end..]
        .find('\n')
        .map(|i| end + i)
        .unwrap_or(text.len());
    let first_line = file.line_of(start);
    if line_end - line_start <= LINE_WINDOW * 4 && end - start <= LINE_WINDOW * 4 {
        // Keep a couple of lines of context before.
        let mut ctx_start = line_start;
        for _ in 0..2 {
            if ctx_start == 0 {
                break;
            }
            ctx_start = text[..ctx_start - 1]
                .rfind('\n')
                .map(|i| i + 1)
                .unwrap_or(0);
        }
        let ctx_first = file.line_of(ctx_start);
        return (
            text[ctx_start..line_end].to_string(),
            start - ctx_start,
            end - ctx_start,
            ctx_first,
        );
    }
    let w0 = crate::diag::floor_char_boundary(
        text,
        start.saturating_sub(LINE_WINDOW / 2).max(line_start),
    );
    let w1 = crate::diag::floor_char_boundary(text, (start + LINE_WINDOW / 2).min(line_end));
    let mut s = String::new();
    if w0 > line_start {
        s.push('…');
    }
    let off = s.len();
    s.push_str(&text[w0..w1]);
    if w1 < line_end {
        s.push('…');
    }
    let a = start - w0 + off;
    let b = (end.min(w1) - w0 + off).max(a);
    (s, a, b, first_line)
}

fn shown(d: &Diag, sources: &SourceMap, cell: Option<&Cell>) -> Shown {
    let mut header = String::new();
    let mut d = std::borrow::Cow::Borrowed(d);
    if let Some(l) = &d.location {
        header = match &l.column {
            Some(c) if l.row > 0 => format!(
                "{}:{} (column `{}`): ",
                l.file,
                l.row,
                crate::diag::clip_words(c)
            ),
            _ if l.row > 0 => format!("{}:{}: ", l.file, l.row),
            _ => format!("{}: ", l.file),
        };
        // The header names the column: the message need not say it again
        // (it does for JSON, where the message stands alone).
        let named = l
            .column
            .as_ref()
            .filter(|_| l.row > 0)
            .map(|c| format!("column `{c}`: "));
        if let Some(rest) =
            named.and_then(|n| d.message.strip_prefix(n.as_str()).map(str::to_string))
        {
            d.to_mut().message = rest;
        }
    }
    let d = d.as_ref();
    let Some(span) = d.span else {
        let (src, labels) = match (cell, &d.location) {
            (Some(c), Some(loc)) => {
                let (a, b) = (c.start, c.end);
                let excerpt = Excerpt {
                    name: loc.file.clone(),
                    text: c.text.clone(),
                    line_offset: loc.row.saturating_sub(1),
                };
                let label = LabeledSpan::new_with_span(
                    Some(d.label.clone().unwrap_or_else(|| "this cell".into())),
                    SourceSpan::from(a..b),
                );
                (Some(excerpt), vec![label])
            }
            _ => (None, vec![]),
        };
        return Shown {
            d: d.clone(),
            src,
            labels,
            header,
        };
    };
    let Some(file) = sources.get(span.file) else {
        return Shown {
            d: d.clone(),
            src: None,
            labels: vec![],
            header,
        };
    };
    let (text, a, b, first_line) = excerpt(file, span);
    // Related spans in the same excerpt only.
    let name = file.name.clone();
    let mk = |text: String| Excerpt {
        name: name.clone(),
        text,
        line_offset: first_line.saturating_sub(1),
    };
    let mut labels = vec![LabeledSpan::new_with_span(
        Some(d.label.clone().unwrap_or_else(|| "here".into())),
        SourceSpan::from(a..b),
    )];
    let base = span.start - a;
    for (rs, rl) in &d.related {
        if rs.file == span.file && rs.start >= base && rs.end <= base + text.len() {
            labels.push(LabeledSpan::new_with_span(
                Some(rl.clone()),
                SourceSpan::from((rs.start - base)..(rs.end - base)),
            ));
        } else {
            let (l, c) = sources.line_col(rs.file, rs.start);
            let fname = sources
                .get(rs.file)
                .map(|f| f.name.clone())
                .unwrap_or_default();
            let extra = format!(" ({rl}: {fname}:{l}:{c})");
            let mut dd = d.clone();
            dd.message.push_str(&extra);
            return Shown {
                d: dd,
                src: Some(mk(text)),
                labels,
                header,
            };
        }
    }
    Shown {
        d: d.clone(),
        src: Some(mk(text)),
        labels,
        header,
    }
}

/// miette's graphical report.
pub fn human(diags: &[Diag], sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let cells = cells::locate(diags);
    let mut out = String::new();
    for (k, d) in diags.iter().enumerate() {
        let d = &tidy(d);
        let s = shown(d, sources, cells.get(&k));
        let mut buf = String::new();
        if handler.render_report(&mut buf, &s).is_err() {
            buf = format!("{}: {}\n", d.code, d.message);
        }
        out.push_str(&buf);
        out.push('\n');
    }
    out
}

fn position(
    d: &Diag,
    sources: &SourceMap,
    cell: Option<&Cell>,
) -> (String, usize, usize, usize, usize) {
    if let Some(span) = d.span {
        let file = sources
            .get(span.file)
            .map(|f| f.name.clone())
            .unwrap_or_default();
        let (l, c) = sources.line_col(span.file, span.start);
        let (el, ec) = sources.line_col(span.file, span.end);
        return (file, l, c, el, ec);
    }
    if let Some(loc) = &d.location {
        let (c, ec) = cell.map_or((1, 1), Cell::columns);
        return (loc.file.clone(), loc.row.max(1), c, loc.row.max(1), ec);
    }
    (String::new(), 1, 1, 1, 1)
}

/// One JSON object per diagnostic, the shape of `check --format json`
/// (`cell`: where a data diagnostic's cell is in its file).
fn json_value(d: &Diag, sources: &SourceMap, cell: Option<&Cell>) -> serde_json::Value {
    let d = &tidy(d);
    let (file, line, column, end_line, end_column) = position(d, sources, cell);
    let mut v = json!({
        "severity": d.severity.as_str(),
        "code": d.code,
        "message": d.message,
        "file": file,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "help": d.help,
    });
    if let (Some(loc), Some(obj)) = (&d.location, v.as_object_mut()) {
        obj.insert("row".into(), json!(loc.row));
        obj.insert("data_column".into(), json!(loc.column));
    }
    if let Some(obj) = v.as_object_mut() {
        if !d.related.is_empty() {
            obj.insert(
                "related".into(),
                serde_json::Value::Array(
                    d.related
                        .iter()
                        .map(|(s, l)| related_json(s, l, sources))
                        .collect(),
                ),
            );
        }
    }
    v
}

pub fn json(diags: &[Diag], sources: &SourceMap) -> serde_json::Value {
    let cells = cells::locate(diags);
    serde_json::Value::Array(
        diags
            .iter()
            .enumerate()
            .map(|(k, d)| json_value(d, sources, cells.get(&k)))
            .collect(),
    )
}

fn related_json(s: &Span, label: &str, sources: &SourceMap) -> serde_json::Value {
    let (line, column) = sources.line_col(s.file, s.start);
    let file = sources
        .get(s.file)
        .map(|f| f.name.clone())
        .unwrap_or_default();
    json!({"message": label, "file": file, "line": line, "column": column})
}

/// Messages and help lines with hostile long tokens cut short.
fn tidy(d: &Diag) -> Diag {
    let mut d = d.clone();
    d.message = crate::diag::clip_words(&d.message);
    d.help = d.help.as_deref().map(crate::diag::clip_words);
    for (_, l) in d.related.iter_mut() {
        *l = crate::diag::clip_words(l);
    }
    d
}

fn esc_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
fn esc_prop(s: &str) -> String {
    esc_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub workflow commands.
pub fn github(diags: &[Diag], sources: &SourceMap) -> String {
    let cells = cells::locate(diags);
    let mut out = String::new();
    for (k, d) in diags.iter().enumerate() {
        let d = &tidy(d);
        let (file, l, c, el, ec) = position(d, sources, cells.get(&k));
        let kind = if d.is_error() { "error" } else { "warning" };
        // The message alone, as CLI.md writes it (`title=CODE::MESSAGE`):
        // the same text as `message` in `--format json`.
        let msg = &d.message;
        out.push_str(&format!(
            "::{kind} file={},line={l},col={c},endLine={el},endColumn={ec},title={}::{}\n",
            esc_prop(&file),
            esc_prop(d.code),
            esc_data(msg)
        ));
    }
    out
}
