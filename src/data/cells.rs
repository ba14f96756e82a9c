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

/// One physical line of a data file and the byte range of a cell in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The line, without its line break.
    pub line: String,
    pub start: usize,
    pub end: usize,
}

impl Cell {
    /// The 1-based columns (in characters) where the cell starts and ends.
    pub fn columns(&self) -> (usize, usize) {
        let chars = |to: usize| self.line.get(..to).map_or(0, |s| s.chars().count()) + 1;
        (chars(self.start), chars(self.end))
    }
}

/// The cell of each diagnostic that names a row and a column of a CSV file
/// (by the diagnostic's position in `diags`). Files that cannot be read
/// again, JSON data and cells that cannot be found have none.
pub fn locate(diags: &[Diag]) -> HashMap<usize, Cell> {
    let mut wanted: HashMap<&str, Vec<(usize, usize, &str)>> = HashMap::new();
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
                .push((k, loc.row, column));
        }
    }
    let mut out = HashMap::new();
    for (file, cells) in wanted {
        if let Ok(f) = std::fs::File::open(file) {
            find(std::io::BufReader::new(f), &cells, &mut out);
        }
    }
    out
}

/// Reads lines as far as the last row wanted: the header (the first line
/// that is neither blank nor a comment) gives the separator and the
/// columns, each wanted row its cell.
fn find(mut input: impl BufRead, wanted: &[(usize, usize, &str)], out: &mut HashMap<usize, Cell>) {
    let last = wanted.iter().map(|w| w.1).max().unwrap_or(0);
    let mut header: Option<(u8, usize, Vec<String>)> = None;
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
        if row == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        while let Some(b) = bytes
            .strip_suffix(b"\n")
            .or_else(|| bytes.strip_suffix(b"\r"))
        {
            bytes = b;
        }
        let Ok(line) = std::str::from_utf8(bytes) else {
            continue;
        };
        if header.is_none() && !line.starts_with('#') && !line.trim().is_empty() {
            let sep = if line.matches(';').count() > line.matches(',').count() {
                b';'
            } else {
                b','
            };
            let names = fields(line, sep)
                .into_iter()
                .map(|(a, b)| unquote(line.get(a..b).unwrap_or_default()))
                .collect();
            header = Some((sep, row, names));
        }
        let Some((sep, header_row, names)) = &header else {
            continue;
        };
        for &(k, _, column) in wanted.iter().filter(|w| w.1 == row) {
            let mut at = names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.as_str() == column);
            // A column named twice is reported at its second place.
            let first = at.next().map(|(i, _)| i);
            let index = if row == *header_row {
                at.next().map(|(i, _)| i).or(first)
            } else {
                first
            };
            let Some((a, b)) = index.and_then(|i| fields(line, *sep).get(i).copied()) else {
                continue;
            };
            out.insert(
                k,
                Cell {
                    line: line.to_string(),
                    start: a,
                    end: b,
                },
            );
        }
    }
}

/// The byte range of each field of one line, without the blanks around
/// it (quotes included). A quoted separator does not split.
fn fields(line: &str, sep: u8) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == sep && !quoted {
            out.push(trimmed(bytes, start, i));
            start = i + 1;
        }
    }
    out.push(trimmed(bytes, start, bytes.len()));
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

fn unquote(field: &str) -> String {
    let inner = field
        .strip_prefix('"')
        .and_then(|f| f.strip_suffix('"'))
        .map_or_else(|| field.to_string(), |f| f.replace("\"\"", "\""));
    inner.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{codes, DataLocation};

    fn at(text: &str, row: usize, column: &str) -> Option<Cell> {
        let d = Diag::error(codes::DATA, "bad").located(DataLocation {
            file: "d.csv".into(),
            row,
            column: Some(column.into()),
        });
        let mut out = HashMap::new();
        find(
            text.as_bytes(),
            &[(0, d.location.as_ref()?.row, column)],
            &mut out,
        );
        out.remove(&0)
    }

    fn cell_text(c: &Cell) -> &str {
        c.line.get(c.start..c.end).unwrap_or("?")
    }

    #[test]
    fn finds_a_cell_by_row_and_header() {
        let text = "\u{feff}# comment\nid,name,x\na,\"Đơn vị, A\",7\nb,B, abc \n";
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

    #[test]
    fn a_very_long_line_ends_the_search() {
        let long = "x".repeat(LONGEST_LINE as usize);
        let text = format!("id,x\na,1\nb,{long}\nc,2\n");
        assert!(at(&text, 2, "x").is_some());
        assert_eq!(at(&text, 4, "x"), None);
    }

    #[test]
    fn semicolons_crlf_and_a_twice_named_column() {
        let text = "id;x;x\r\na;1,5;2\r\n";
        let c = at(text, 1, "x").expect("found");
        assert_eq!((c.start, c.end), (5, 6), "the second `x` of the header");
        assert_eq!(cell_text(&at(text, 2, "x").expect("found")), "1,5");
        assert_eq!(at(text, 2, "y"), None);
        assert_eq!(at(text, 9, "x"), None);
    }
}
