//! Where a data diagnostic's cell is in its CSV file, so that a report can
//! show the line and point at the cell (and give its column in JSON).
//!
//! The reader names a bad cell by row and column header only: it keeps no
//! bytes of the rows it has read. When diagnostics are shown, the files
//! they name are read again, once each, as far as the last row named.

use crate::diag::Diag;
use std::collections::HashMap;
use std::io::BufRead;

/// The longest line read again (bytes): past it, the cells of the rest of
/// the file are not looked for.
const LONGEST_LINE: u64 = 1 << 20;

/// Longest slice of a data line a report shows (characters, before the
/// cell and after its start).
const WINDOW: usize = 100;

/// Where a cell is in its line: the text to show (the line, or a window of
/// it around the cell, with control characters made visible) and the
/// cell's byte range in that text, and its 1-based columns (in
/// characters) in the whole line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub column: usize,
    pub end_column: usize,
}

impl Cell {
    /// The 1-based columns (in characters) where the cell starts and ends.
    pub fn columns(&self) -> (usize, usize) {
        (self.column, self.end_column)
    }

    /// The cell at bytes `a..b` of `line`.
    fn new(line: &str, a: usize, b: usize) -> Cell {
        let before = line.get(..a).unwrap_or_default();
        let inside = line.get(a..b).unwrap_or_default();
        let column = before.chars().count() + 1;
        let end_column = column + inside.chars().count();
        // The window: WINDOW characters before the cell, and the cell with
        // what follows it to WINDOW characters from its start (the cell
        // alone, up to four times that).
        let w0 = before
            .char_indices()
            .rev()
            .nth(WINDOW - 1)
            .map_or(0, |(i, _)| i);
        let after = line.get(a..).unwrap_or_default();
        let shown = WINDOW.max(inside.chars().count().min(WINDOW * 4));
        let w1 = after
            .char_indices()
            .nth(shown)
            .map_or(line.len(), |(i, _)| a + i);
        let mut text = String::new();
        if w0 > 0 {
            text.push('…');
        }
        let (mut start, mut end) = (None, None);
        for (i, ch) in line.get(w0..w1).unwrap_or_default().char_indices() {
            if w0 + i == a {
                start = Some(text.len());
            }
            if w0 + i == b {
                end = Some(text.len());
            }
            // A data line may hold anything: controls are shown, not sent
            // to the terminal.
            text.push(if ch.is_control() && ch != '\t' {
                '\u{FFFD}'
            } else {
                ch
            });
        }
        let start = start.unwrap_or(text.len());
        let end = end.unwrap_or(text.len()).max(start);
        if w1 < line.len() {
            text.push('…');
        }
        Cell {
            text,
            start,
            end,
            column,
            end_column,
        }
    }
}

/// The cell of each diagnostic that names a row and a column of a CSV file
/// (by the diagnostic's position in `diags`). Files that cannot be read
/// again, JSON data and cells that cannot be found have none.
pub fn locate(diags: &[Diag]) -> HashMap<usize, Cell> {
    let mut wanted: HashMap<&str, Wanted<'_>> = HashMap::new();
    for (k, d) in diags.iter().enumerate() {
        let Some(loc) = d.location.as_ref().filter(|_| d.span.is_none()) else {
            continue;
        };
        let Some(column) = loc.column.as_deref() else {
            continue;
        };
        if loc.row > 0 && !loc.file.to_ascii_lowercase().ends_with(".json") {
            wanted
                .entry(loc.file.as_str())
                .or_default()
                .entry(loc.row)
                .or_default()
                .push((k, column));
        }
    }
    let mut out = HashMap::new();
    for (file, rows) in wanted {
        if let Ok(input) = reopen(file) {
            find(input, &rows, &mut out);
        }
    }
    out
}

/// The diagnostics wanted in one file: by row, each diagnostic's position
/// and the column it names.
type Wanted<'a> = HashMap<usize, Vec<(usize, &'a str)>>;

/// A data file read again as the reader reads it ([`super::text_input`]).
fn reopen(file: &str) -> std::io::Result<Box<dyn BufRead>> {
    super::text_input(std::fs::File::open(file)?)
}

/// Reads lines as far as the last row wanted: the header (the first line
/// that is neither blank nor a comment) gives the separator and the
/// columns, each wanted row its cells.
fn find(mut input: impl BufRead, wanted: &Wanted<'_>, out: &mut HashMap<usize, Cell>) {
    let last = wanted.keys().copied().max().unwrap_or(0);
    let mut header: Option<(u8, Vec<String>)> = None;
    let mut buf = Vec::new();
    for row in 1..=last {
        buf.clear();
        match std::io::Read::take(&mut input, LONGEST_LINE).read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            // A line this long is not shown: the rest of the file is left.
            Ok(n) if n as u64 >= LONGEST_LINE && !buf.ends_with(b"\n") => break,
            Ok(_) => {}
        }
        let mut bytes = buf.as_slice();
        while let Some(b) = bytes
            .strip_suffix(b"\n")
            .or_else(|| bytes.strip_suffix(b"\r"))
        {
            bytes = b;
        }
        let Ok(line) = std::str::from_utf8(bytes) else {
            continue;
        };
        let is_header = header.is_none() && !line.starts_with('#') && !line.trim().is_empty();
        if is_header {
            let sep = super::separator(line.as_bytes());
            let names = fields(line, sep)
                .into_iter()
                .map(|(a, b)| header_name(line.get(a..b).unwrap_or_default()))
                .collect();
            header = Some((sep, names));
        }
        let (Some((sep, names)), Some(cells)) = (&header, wanted.get(&row)) else {
            continue;
        };
        let at = fields(line, *sep);
        // On the header's line, the n-th diagnostic naming a column named
        // more than once is about its (n+1)-th place ("appears twice").
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for &(k, column) in cells {
            let mut places = names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.as_str() == column)
                .map(|(i, _)| i);
            let index = if is_header {
                let n = seen.entry(column).or_insert(0);
                *n += 1;
                let all: Vec<usize> = places.collect();
                all.get(*n).or(all.first()).copied()
            } else {
                places.next()
            };
            if let Some(&(a, b)) = index.and_then(|i| at.get(i)) {
                let (a, b) = trimmed(line.as_bytes(), a, b);
                out.insert(k, Cell::new(line, a, b));
            }
        }
    }
}

/// The byte range of each field of one line, as the CSV reader splits it:
/// a field is quoted only when its first byte is `"` (and then `""` is a
/// quote and a separator does not split it); a `"` elsewhere is a
/// character.
fn fields(line: &str, sep: u8) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    // Inside a quoted field, before its closing quote.
    let mut quoted = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if quoted {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else if b == b'"' && i == start {
            quoted = true;
        } else if b == sep {
            out.push((start, i));
            start = i + 1;
        }
        i += 1;
    }
    out.push((start, bytes.len()));
    out
}

fn trimmed(bytes: &[u8], mut a: usize, mut b: usize) -> (usize, usize) {
    while a < b && bytes.get(a).is_some_and(|c| *c == b' ' || *c == b'\t') {
        a += 1;
    }
    while b > a && bytes.get(b - 1).is_some_and(|c| *c == b' ' || *c == b'\t') {
        b -= 1;
    }
    (a, b)
}

/// A header cell's name as the reader takes it: unquoted when it begins
/// with a quote, trimmed, in NFC.
fn header_name(raw: &str) -> String {
    let text = match raw.strip_prefix('"') {
        Some(inner) => {
            let inner = inner.strip_suffix('"').unwrap_or(inner);
            std::borrow::Cow::Owned(inner.replace("\"\"", "\""))
        }
        None => std::borrow::Cow::Borrowed(raw),
    };
    super::nfc(text.trim()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cells of `column` at each of `rows`, as `locate` finds them.
    fn all(text: &str, rows: &[usize], column: &str) -> Vec<Option<Cell>> {
        let mut wanted: Wanted<'_> = HashMap::new();
        for (k, &row) in rows.iter().enumerate() {
            wanted.entry(row).or_default().push((k, column));
        }
        let mut out = HashMap::new();
        find(text.as_bytes(), &wanted, &mut out);
        (0..rows.len()).map(|k| out.remove(&k)).collect()
    }

    fn at(text: &str, row: usize, column: &str) -> Option<Cell> {
        all(text, &[row], column).pop().flatten()
    }

    fn cell_text(c: &Cell) -> &str {
        c.text.get(c.start..c.end).unwrap_or("?")
    }

    #[test]
    fn finds_a_cell_by_row_and_header() {
        let text = "# comment\nid,name,x\na,\"Đơn vị, A\",7\nb,B, abc \n";
        let c = at(text, 4, "x").expect("found");
        assert_eq!(cell_text(&c), "abc");
        assert_eq!(c.columns(), (6, 9));
        let c = at(text, 3, "x").expect("found");
        assert_eq!(cell_text(&c), "7");
        // Characters, not bytes: `Đ` and `ơ` are two bytes each.
        assert_eq!(c.columns(), (15, 16));
        assert_eq!(
            cell_text(&at(text, 3, "name").expect("found")),
            "\"Đơn vị, A\""
        );
    }

    /// A quote opens a quoted field only as its first byte, as the CSV
    /// reader has it.
    #[test]
    fn a_quote_inside_a_field_is_a_character() {
        let text = "id,name,x,w\na, \"Hà Nội, VN\",abc,2\nb,5\" tall,6\" wide,3\nc,\"say \"\"hi\"\", x\",7,8\n";
        assert_eq!(cell_text(&at(text, 2, "x").expect("found")), "VN\"");
        assert_eq!(cell_text(&at(text, 2, "w").expect("found")), "abc");
        assert_eq!(cell_text(&at(text, 3, "x").expect("found")), "6\" wide");
        assert_eq!(cell_text(&at(text, 4, "x").expect("found")), "7");
    }

    #[test]
    fn semicolons_crlf_and_a_column_named_three_times() {
        let text = "id;x;x;w;x\r\na;1,5;2;3;4\r\n";
        let twice = all(text, &[1, 1], "x");
        let places: Vec<_> = twice.iter().flatten().map(|c| c.column).collect();
        assert_eq!(places, [6, 10], "the second and third `x` of the header");
        assert_eq!(cell_text(&at(text, 2, "x").expect("found")), "1,5");
        assert_eq!(at(text, 2, "y"), None);
        assert_eq!(at(text, 9, "x"), None);
    }

    #[test]
    fn a_header_in_nfd_is_found_by_its_nfc_name() {
        let text = "id,nga\u{300}y\na,2024-01-01\n";
        assert_eq!(
            cell_text(&at(text, 2, "ngày").expect("found")),
            "2024-01-01"
        );
    }

    #[test]
    fn a_long_line_is_cut_around_the_cell_and_controls_are_shown() {
        let long = "x".repeat(5000);
        let text = format!("id,name,x\na,{long}\u{1b}[31m,abc\n");
        let c = at(&text, 2, "x").expect("found");
        assert_eq!(cell_text(&c), "abc");
        assert_eq!(c.columns(), (5009, 5012));
        assert!(
            c.text.starts_with('…') && c.text.chars().count() < 2 * WINDOW + 10,
            "{}",
            c.text
        );
        assert!(c.text.contains("\u{FFFD}[31m,abc"), "{}", c.text);
    }

    #[test]
    fn many_cells_of_one_line() {
        let text = format!(
            "id,x\n{}\n",
            (0..1000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let cells = all(&text, &[2; 3], "x");
        assert!(cells.iter().all(|c| c.as_ref().map(cell_text) == Some("1")));
    }

    #[test]
    fn lone_carriage_returns_end_lines_as_for_the_reader() {
        let dir = std::env::temp_dir().join(format!("thidua-cells-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("mac.csv");
        std::fs::write(&path, "id,x\r# note\ra,1\rb,abc\r").expect("write");
        let file = path.to_string_lossy().into_owned();
        let mut wanted: Wanted<'_> = HashMap::new();
        wanted.entry(4).or_default().push((0, "x"));
        let mut out = HashMap::new();
        find(reopen(&file).expect("opens"), &wanted, &mut out);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(out.get(&0).map(cell_text), Some("abc"));
    }

    #[test]
    fn a_very_long_line_ends_the_search() {
        let long = "x".repeat(LONGEST_LINE as usize);
        let text = format!("id,x\na,1\nb,{long}\nc,2\n");
        assert!(at(&text, 2, "x").is_some());
        assert_eq!(at(&text, 4, "x"), None);
    }
}
