//! CSV and JSON readers: one row per unit, cells typed by the indicators.

pub mod cells;

use crate::diag::{codes, DataLocation, Diag};
use crate::eval::UnitRow;
use crate::ids::KeyTable;
use crate::ir::{LevelSet, Program};
use crate::value::{Type, Value};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use unicode_normalization::UnicodeNormalization;

/// How numbers are written in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// `1234.5`, no grouping.
    #[default]
    En,
    /// `1.234,5` or `1234,5`.
    Vi,
}

impl Locale {
    pub fn parse(s: &str) -> Option<Locale> {
        match s {
            "en" => Some(Locale::En),
            "vi" => Some(Locale::Vi),
            _ => None,
        }
    }
}

/// A row dropped by `--skip-bad-rows`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    pub file: String,
    pub row: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct DataSet {
    pub rows: Vec<UnitRow>,
    pub errors: Vec<Diag>,
    pub warnings: Vec<Diag>,
    pub skipped: Vec<Skipped>,
}

/// A data path named on the command line that cannot be opened.
#[derive(Debug)]
pub struct Unreadable(pub String);

pub const RESERVED: &[&str] = &["id", "name", "bloc", "kind", "parent", "period", "awards"];
/// Widest row accepted.
pub const LIMIT_COLUMNS: usize = 10_000;

/// Read every data file, in order. Rows of all files are concatenated.
pub fn read_files(
    prog: &Program,
    paths: &[impl AsRef<Path>],
    locale: Locale,
    skip_bad_rows: bool,
) -> Result<DataSet, Unreadable> {
    let mut rows = Vec::new();
    let mut ds = read_each(prog, paths, locale, skip_bad_rows, &mut |row, _| {
        rows.push(row)
    })?;
    ds.rows = rows;
    if skip_bad_rows && ds.errors.is_empty() {
        skip_bad_parents(prog, &mut ds);
    }
    Ok(ds)
}

/// `--skip-bad-rows` for the `parent` column: per period, the units in a
/// cycle of parent links, those whose parent is not a unit of the period,
/// and every unit below one of them are left out and listed, so that the
/// rest can be evaluated (the evaluation reports them as errors).
pub fn skip_bad_parents(prog: &Program, ds: &mut DataSet) {
    if ds.rows.iter().all(|r| r.parent.is_none()) {
        return;
    }
    let current = crate::eval::current_year(prog, &ds.rows);
    let year = |r: &UnitRow| r.period.unwrap_or(current);
    let index: HashMap<(i32, &str), usize> = (ds.rows.iter().enumerate())
        .map(|(i, r)| ((year(r), r.id.as_str()), i))
        .collect();
    let parent_of = |i: usize| -> Option<Result<usize, &str>> {
        let r = ds.rows.get(i)?;
        let p = r.parent.as_deref()?;
        Some(index.get(&(year(r), p)).copied().ok_or(p))
    };
    let n = ds.rows.len();
    let mut reason: Vec<Option<String>> = vec![None; n];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, why) in reason.iter_mut().enumerate() {
        match parent_of(i) {
            Some(Ok(p)) => {
                if let Some(c) = children.get_mut(p) {
                    c.push(i);
                }
            }
            Some(Err(p)) => {
                *why = Some(format!(
                    "the parent `{p}` is not a unit of the same period (or its row was left out)"
                ))
            }
            None => {}
        }
    }
    // Cycles: walk up from each unit; meeting the walk itself is a cycle.
    let mut state = vec![0u8; n];
    for start in 0..n {
        let cycle =
            crate::eval::parent_walk(start, &mut state, |c| parent_of(c).and_then(Result::ok));
        for u in cycle {
            if let Some(w) = reason.get_mut(u) {
                *w = Some("the unit is its own ancestor through `parent`".into());
            }
        }
    }
    // Everything below a unit left out goes too.
    let mut stack: Vec<usize> = (0..n)
        .filter(|&i| reason.get(i).is_some_and(Option::is_some))
        .collect();
    while let Some(u) = stack.pop() {
        let parent = ds.rows.get(u).map(|r| r.id.clone()).unwrap_or_default();
        for &c in children.get(u).map(Vec::as_slice).unwrap_or_default() {
            if let Some(w @ None) = reason.get_mut(c) {
                *w = Some(format!("its parent `{parent}` is left out"));
                stack.push(c);
            }
        }
    }
    if reason.iter().all(Option::is_none) {
        return;
    }
    let rows = std::mem::take(&mut ds.rows);
    for (r, why) in rows.into_iter().zip(reason) {
        match why {
            None => ds.rows.push(r),
            Some(reason) => {
                let (file, row) = r.place();
                ds.skipped.push(Skipped { file, row, reason });
            }
        }
    }
}

/// Read every data file, in order, handing each good row to `sink` as soon
/// as it is read, with whether no error has been found so far. CSV files
/// are read record by record, so memory does not grow with the file; rows
/// with an error and second rows of a unit are never handed on. The data
/// set returned holds the errors, warnings and skipped rows; its `rows` is
/// empty.
pub fn read_each(
    prog: &Program,
    paths: &[impl AsRef<Path>],
    locale: Locale,
    skip_bad_rows: bool,
    sink: &mut dyn FnMut(UnitRow, bool),
) -> Result<DataSet, Unreadable> {
    let mut ds = read_with(prog, paths, locale, Sink::Rows(sink))?;
    if skip_bad_rows {
        skip_bad(&mut ds);
    }
    Ok(ds)
}

/// A row as the reader hands it to a streaming evaluation: a CSV record to
/// be parsed on a worker thread, or a row already parsed (JSON).
pub enum Pending<'p> {
    Raw(RawRow<'p>),
    Row(UnitRow),
}

impl Pending<'_> {
    /// The parsed row, when it has no error (its errors go to `errors`).
    pub fn parse(self, errors: &mut Vec<Diag>) -> Option<UnitRow> {
        match self {
            Pending::Raw(r) => r.parse(errors),
            Pending::Row(u) => Some(u),
        }
    }
}

/// Read every data file, in order, handing each row on unparsed (CSV) or
/// parsed (JSON) as soon as it is read, so that the cells can be parsed on
/// other threads. The reader itself checks the records, the headers and
/// that no unit repeats; a row's cell errors are found by
/// [`Pending::parse`], in order after the errors the reader found before
/// the row. The data set returned holds the errors found after the last
/// row handed on, and the warnings; `--skip-bad-rows` is the caller's to
/// apply ([`skip_bad`]) once every error is known.
pub fn read_pending<'p>(
    prog: &'p Program,
    paths: &[impl AsRef<Path>],
    locale: Locale,
    pending: &mut dyn FnMut(Pending<'p>),
) -> Result<DataSet, Unreadable> {
    read_with(prog, paths, locale, Sink::Pending(pending))
}

/// Where the reader hands what it reads.
enum Sink<'r, 'p> {
    /// Parsed rows, with whether no error was found so far.
    Rows(&'r mut dyn FnMut(UnitRow, bool)),
    /// CSV records unparsed, JSON rows parsed.
    Pending(&'r mut dyn FnMut(Pending<'p>)),
}

fn read_with<'p>(
    prog: &'p Program,
    paths: &[impl AsRef<Path>],
    locale: Locale,
    mut sink: Sink<'_, 'p>,
) -> Result<DataSet, Unreadable> {
    let mut ds = DataSet::default();
    let mut seen_columns: HashSet<String> = HashSet::new();
    let mut ids = IdSet::default();
    for p in paths {
        let p = p.as_ref();
        let name = p.display().to_string();
        let unreadable =
            |e: std::io::Error| Unreadable(format!("cannot read `{}`: {e}", p.display()));
        let mut reader = Reader {
            prog,
            locale,
            origin: name.as_str().into(),
            file: name,
            ds: &mut ds,
            columns: &mut seen_columns,
            ids: &mut ids,
            sink: match &mut sink {
                Sink::Rows(f) => Sink::Rows(&mut **f),
                Sink::Pending(f) => Sink::Pending(&mut **f),
            },
            header_row: 1,
        };
        if is_json(p) {
            let bytes = std::fs::read(p).map_err(unreadable)?;
            reader.json(&bytes);
        } else {
            let file = std::fs::File::open(p).map_err(unreadable)?;
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            reader.csv(file, len);
        }
    }
    if !paths.is_empty() {
        for ind in &prog.indicators {
            if !seen_columns.contains(&ind.id) {
                ds.warnings.push(
                    Diag::warning(
                        codes::MISSING_COLUMN,
                        format!("no data column for `{}`: every unit is missing it", ind.id),
                    )
                    .help(format!("add a column named `{}` to the data", ind.id))
                    .at(ind.span),
                );
            }
        }
    }
    Ok(ds)
}

/// `--skip-bad-rows`: the rows with an error become skipped rows; errors
/// of a whole file (no row) still stop the run.
pub fn skip_bad(ds: &mut DataSet) {
    let mut bad: HashMap<(String, usize), String> = HashMap::new();
    for e in &ds.errors {
        if let Some(l) = &e.location {
            if l.row > 0 {
                bad.entry((l.file.clone(), l.row))
                    .or_insert_with(|| e.message.clone());
            }
        }
    }
    let mut skipped: Vec<Skipped> = bad
        .into_iter()
        .map(|((file, row), reason)| Skipped { file, row, reason })
        .collect();
    skipped.sort_by(|a, b| (a.file.as_str(), a.row).cmp(&(b.file.as_str(), b.row)));
    ds.skipped = skipped;
    ds.errors
        .retain(|e| e.location.as_ref().map(|l| l.row == 0).unwrap_or(true));
}

/// Whether a data path is read as JSON (by its extension) rather than CSV.
pub fn is_json(p: &Path) -> bool {
    p.extension()
        .map(|e| e.eq_ignore_ascii_case("json"))
        .unwrap_or(false)
}

/// The header of a CSV data file, NFC-normalised and trimmed, as the
/// reader sees it (`None` when the file cannot be opened or has no header).
pub fn csv_headers(p: &Path) -> Option<Vec<String>> {
    let file = std::fs::File::open(p).ok()?;
    let (mut rdr, _) = csv_reader(file).ok()?;
    let h = rdr.byte_headers().ok()?;
    Some(
        h.iter()
            .map(|c| nfc(String::from_utf8_lossy(c).trim()).into_owned())
            .collect(),
    )
}

/// The bytes a CSV reader has read and not yet passed, to give each
/// record its line: the reader's position for a record is where it began
/// looking for it, before the blank and `#` lines it skipped.
#[derive(Default)]
struct Recent {
    /// The offset of `buf[head]` in the input.
    base: u64,
    /// The bytes held are `buf[head..]`: what is forgotten is dropped
    /// from the front only once it is half the buffer (dropping it record
    /// by record moved the rest of the buffer every time).
    buf: Vec<u8>,
    head: usize,
    /// The lines skipped from the next record's position, counted as the
    /// bytes arrive, so that a long run of comments is not kept.
    scan: Option<Scan>,
}

/// A count of the lines skipped from `from`, as far as `at`.
struct Scan {
    from: u64,
    at: u64,
    lines: usize,
    comment: bool,
    done: bool,
}

/// What [`Recent`] keeps before it counts and forgets the lines it holds.
const RECENT_BYTES: usize = 1 << 18;

impl Recent {
    /// The next record is looked for from byte `from`: forget what is
    /// before it and count from there.
    fn start(&mut self, from: u64) {
        self.forget(from);
        self.scan = Some(Scan {
            from,
            at: from,
            lines: 0,
            comment: false,
            done: false,
        });
    }

    fn forget(&mut self, before: u64) {
        let k = usize::try_from(before.saturating_sub(self.base)).unwrap_or(usize::MAX);
        if k > 0 && k <= self.held() {
            self.head += k;
            self.base = before;
            if self.head > self.buf.len() / 2 {
                self.buf.drain(..self.head);
                self.head = 0;
            }
        }
    }

    /// How many bytes are held.
    fn held(&self) -> usize {
        self.buf.len() - self.head
    }

    /// Count on over the bytes held, as the CSV reader skips lines at the
    /// start of a record: blank ones (`\r` before `\n` ends nothing) and
    /// comments (to the next `\n`). What is counted is forgotten.
    fn advance(&mut self) {
        let Some(s) = self.scan.as_mut().filter(|s| !s.done) else {
            return;
        };
        let k = usize::try_from(s.at.saturating_sub(self.base)).unwrap_or(usize::MAX);
        let held = self.buf.get(self.head..).unwrap_or_default();
        for &b in held.get(k..).unwrap_or_default() {
            if s.comment {
                if b == b'\n' {
                    s.lines += 1;
                    s.comment = false;
                }
            } else {
                match b {
                    b'\n' => s.lines += 1,
                    b'\r' => {}
                    b'#' => s.comment = true,
                    _ => {
                        s.done = true;
                        break;
                    }
                }
            }
            s.at += 1;
        }
        let at = s.at;
        self.forget(at);
    }

    /// The lines skipped from byte `from` (a record's position) to the
    /// record itself.
    fn skipped_from(&mut self, from: u64) -> usize {
        if self.scan.as_ref().is_none_or(|s| s.from != from) {
            self.start(from);
        }
        self.advance();
        self.scan.take().map_or(0, |s| s.lines)
    }
}

/// The input of a CSV reader, keeping what it reads in a [`Recent`].
struct Tap<R> {
    inner: R,
    recent: std::rc::Rc<std::cell::RefCell<Recent>>,
}

impl<R: std::io::Read> std::io::Read for Tap<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        let mut r = self.recent.borrow_mut();
        r.buf.extend_from_slice(out.get(..n).unwrap_or_default());
        if r.held() > RECENT_BYTES {
            r.advance();
        }
        Ok(n)
    }
}

/// The line numbers of a CSV reader's records.
struct Lines(std::rc::Rc<std::cell::RefCell<Recent>>);

impl Lines {
    /// The next record is looked for from `p` (the reader's position).
    fn start(&self, p: &csv::Position) {
        self.0.borrow_mut().start(p.byte());
    }

    /// The 1-based line a record starts on, from its position.
    fn of(&self, p: Option<&csv::Position>) -> usize {
        let Some(p) = p else { return 0 };
        let skipped = self.0.borrow_mut().skipped_from(p.byte());
        usize::try_from(p.line())
            .unwrap_or(usize::MAX)
            .saturating_add(skipped)
    }
}

/// Carriage returns alone (the line ends of old Mac files, "CSV
/// (Macintosh)") read as line feeds, so that a `#` line ends where the
/// file's line does (the CSV reader ends a comment at `\n` only) and rows
/// are counted by the file's lines. `\r\n` is left as it is.
struct LoneCr<B>(B);

impl<B: std::io::BufRead> std::io::Read for LoneCr<B> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let buf = self.0.fill_buf()?;
        let n = buf.len().min(out.len());
        if n == 0 {
            return Ok(0);
        }
        // A `\r` that ends what is buffered is decided by the byte after
        // it: leave it for the next read, unless it is all there is.
        let last_cr = buf.get(n - 1) == Some(&b'\r') && n == buf.len();
        let take = if last_cr && n > 1 { n - 1 } else { n };
        let mut alone = Vec::new();
        for (i, (o, &b)) in out.iter_mut().zip(buf.iter()).take(take).enumerate() {
            *o = b;
            if b == b'\r' && buf.get(i + 1).is_some_and(|&x| x != b'\n') {
                *o = b'\n';
            } else if b == b'\r' && i + 1 == buf.len() {
                alone.push(i);
            }
        }
        self.0.consume(take);
        // The only byte was a `\r`: look at the next one.
        for i in alone {
            if self.0.fill_buf()?.first() != Some(&b'\n') {
                if let Some(o) = out.get_mut(i) {
                    *o = b'\n';
                }
            }
        }
        Ok(take)
    }
}

/// Whether the start of a file ends a line with a `\r` alone.
fn lone_cr(head: &[u8]) -> bool {
    head.windows(2)
        .any(|w| matches!(w, [b'\r', next] if *next != b'\n'))
        || (head.last() == Some(&b'\r') && head.len() < (1 << 16))
}

/// A data file's text as the reader reads it: the byte-order mark
/// skipped, and carriage returns alone read as line feeds when the file
/// ends its lines with them.
fn text_input<'a>(
    input: impl std::io::Read + 'a,
) -> std::io::Result<Box<dyn std::io::BufRead + 'a>> {
    use std::io::BufRead;
    let mut raw = std::io::BufReader::with_capacity(1 << 16, input);
    if raw.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        raw.consume(3);
    }
    Ok(if lone_cr(raw.fill_buf()?) {
        Box::new(std::io::BufReader::with_capacity(1 << 16, LoneCr(raw)))
    } else {
        Box::new(raw)
    })
}

/// The separator of a CSV file whose header is `line`: `;` when it holds
/// more of them than commas.
fn separator(line: &[u8]) -> u8 {
    let count = |c: u8| line.iter().filter(|&&b| b == c).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// A CSV reader over a file ([`text_input`]), the separator chosen from
/// the first line that is not a comment; and the line numbers of its
/// records.
fn csv_reader<'a>(
    input: impl std::io::Read + 'a,
) -> std::io::Result<(csv::Reader<impl std::io::Read + 'a>, Lines)> {
    use std::io::{BufRead, Read};
    let mut input = text_input(input)?;
    // Read up to the first line that is not a comment or blank, to choose
    // the separator; those lines are read again by the CSV reader.
    let mut head = Vec::new();
    let mut delim = b',';
    loop {
        let start = head.len();
        let n = input.read_until(b'\n', &mut head)?;
        if n == 0 {
            break;
        }
        let line = head.get(start..).unwrap_or_default();
        let trimmed = line.trim_ascii();
        if !line.starts_with(b"#") && !trimmed.is_empty() {
            delim = separator(line);
            break;
        }
    }
    let recent = std::rc::Rc::new(std::cell::RefCell::new(Recent::default()));
    let rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .comment(Some(b'#'))
        .flexible(true)
        .has_headers(true)
        .from_reader(Tap {
            inner: std::io::Cursor::new(head).chain(input),
            recent: recent.clone(),
        });
    Ok((rdr, Lines(recent)))
}

/// The units already read, by id and period (see [`crate::ids`]).
#[derive(Default)]
struct IdSet {
    keys: KeyTable,
    /// The data row each key was first read from.
    rows: Vec<u32>,
    /// The key being looked up, reused from row to row.
    scratch: Vec<u8>,
}

/// The most bytes of unit ids one evaluation records (4 GiB, hundreds of
/// millions of units), so that the id set's offsets fit in 32 bits.
pub const LIMIT_ID_BYTES: usize = crate::ids::LIMIT_KEY_BYTES;

/// After how many records of a CSV file the id set is sized for the rest.
const SIZE_AFTER: usize = 1024;
/// The most units the id set is sized for in advance.
const LIMIT_RESERVE: usize = 1 << 26;

impl IdSet {
    /// Make room for `more` units at once, with keys of about `key_len`
    /// bytes.
    fn reserve(&mut self, more: usize, key_len: usize) {
        self.keys.reserve(more, key_len);
        self.rows.reserve(more);
    }
    /// The average key length so far.
    fn key_len(&self) -> usize {
        self.keys.key_len()
    }
    /// Record a unit: `Ok(Some(row))` with the row it was first read from
    /// when it is there already; `Err` past [`LIMIT_ID_BYTES`].
    fn insert(&mut self, id: &str, period: Option<i32>, row: usize) -> Result<Option<usize>, ()> {
        let key = &mut self.scratch;
        key.clear();
        match period {
            Some(y) => {
                key.push(1);
                key.extend_from_slice(&y.to_le_bytes());
            }
            None => key.push(0),
        }
        key.extend_from_slice(id.as_bytes());
        let Ok(row32) = u32::try_from(row) else {
            return Err(());
        };
        match self.keys.insert(key) {
            Err(_) => Err(()),
            Ok((k, false)) => Ok(self.rows.get(k as usize).map(|&r| r as usize)),
            Ok((_, true)) => {
                self.rows.push(row32);
                Ok(None)
            }
        }
    }
}

struct Reader<'r, 'p> {
    prog: &'p Program,
    locale: Locale,
    file: String,
    /// The file's name once for all its rows ([`UnitRow::origin`]).
    origin: std::sync::Arc<str>,
    ds: &'r mut DataSet,
    columns: &'r mut HashSet<String>,
    ids: &'r mut IdSet,
    sink: Sink<'r, 'p>,
    /// The line of the file's header row (1 but for comments above it).
    header_row: usize,
}

enum Col {
    Reserved(&'static str),
    /// An indicator's cell. `factor` is the mantissa and scale of the
    /// unit's factor when the indicator is a number (or a percent, a
    /// quantity, a duration) and that mantissa is positive and fits 64
    /// bits: a plain cell then reads in the `en` locale by
    /// [`plain_number`], without the general path.
    Slot {
        slot: usize,
        factor: Option<(u64, u32)>,
    },
    Ignored,
}

/// What reading a cell needs: the campaign, the locale and the file's
/// columns. Shared by the reader and by the streaming workers, which parse
/// CSV records on other threads.
struct CellCx<'a> {
    prog: &'a Program,
    locale: Locale,
    file: &'a str,
    headers: &'a [String],
    cols: &'a [Col],
}

fn data_error(
    file: &str,
    row: usize,
    column: Option<&str>,
    msg: String,
    help: Option<String>,
) -> Diag {
    let mut d = Diag::error(codes::DATA, msg).located(DataLocation {
        file: file.to_string(),
        row,
        column: column.map(str::to_string),
    });
    d.help = help;
    d
}

fn no_id(file: &str, row: usize) -> Diag {
    data_error(
        file,
        row,
        Some("id"),
        "this row has no `id`".into(),
        Some("every row needs a unit id".into()),
    )
}

/// A CSV record with a cell that is not UTF-8 text: the error of its whole
/// file (the reading stops there).
fn not_utf8(file: &str, row: usize, rec: &csv::ByteRecord, headers: &[String]) -> Diag {
    let field = rec
        .iter()
        .position(|c| std::str::from_utf8(c).is_err())
        .unwrap_or(0);
    let col = headers.get(field).cloned().unwrap_or_default();
    let mut d = Diag::error(
        codes::DATA,
        format!("`{file}` is not UTF-8 text (an invalid byte in row {row}, column `{col}`)"),
    )
    .located(DataLocation {
        file: file.to_string(),
        row: 0,
        column: None,
    });
    d.help = Some("save the file as CSV UTF-8".into());
    d
}

/// The record just read, handed on whole; `rec` gets a new record with
/// room for one like it, to read the next into. (Copying the fields one by
/// one cost more than reading them; a clone would copy the whole buffer,
/// which keeps the size of the longest record read.)
fn take_record(rec: &mut csv::ByteRecord) -> csv::ByteRecord {
    let room = csv::ByteRecord::with_capacity(rec.as_slice().len() + 64, rec.len());
    std::mem::replace(rec, room)
}

fn begin_row(prog: &Program) -> UnitRow {
    UnitRow {
        // Made, not cloned: `vec![Value::Missing; n]` clones a `Value`
        // (a match on its kind) for every cell.
        values: std::iter::repeat_with(|| Value::Missing)
            .take(prog.indicators.len())
            .collect(),
        ..Default::default()
    }
}

impl CellCx<'_> {
    /// Read cell `i` of a row into `u`; `ok` becomes false on an error.
    #[allow(clippy::too_many_arguments)]
    fn cell(
        &self,
        u: &mut UnitRow,
        ok: &mut bool,
        row: usize,
        i: usize,
        cell: &Cell,
        errors: &mut Vec<Diag>,
    ) {
        let (headers, cols) = (self.headers, self.cols);
        {
            let col = headers.get(i).map(String::as_str).unwrap_or("");
            match cols.get(i) {
                Some(Col::Reserved(r)) => {
                    let text: Cow<str> = match cell {
                        Cell::Text(t) => Cow::Borrowed(trim(t)),
                        Cell::Number(n) => Cow::Borrowed(n.as_str()),
                        Cell::Bool(b) => Cow::Owned(b.to_string()),
                        Cell::Bad(w) => {
                            errors.push(data_error(
                                self.file,
                                row,
                                Some(col),
                                format!("`{col}` cannot be {w}"),
                                None,
                            ));
                            *ok = false;
                            return;
                        }
                    };
                    let opt = || {
                        if text.is_empty() {
                            None
                        } else {
                            Some(text.to_string())
                        }
                    };
                    match *r {
                        "id" => u.id = text.into_owned(),
                        "name" => u.name = opt(),
                        "bloc" => u.bloc = opt(),
                        "kind" => u.kind = opt(),
                        "parent" => u.parent = opt(),
                        "period" => {
                            if let Some(t) = opt() {
                                match t.parse::<i32>() {
                                    Ok(y) if (1900..=9999).contains(&y) => u.period = Some(y),
                                    _ => {
                                        errors.push(data_error(
                                            self.file,
                                            row,
                                            Some(col),
                                            format!("`{t}` is not a year"),
                                            Some("write the period as a year, e.g. `2023`".into()),
                                        ));
                                        *ok = false;
                                    }
                                }
                            }
                        }
                        _ if text.trim().is_empty() => u.awards = None,
                        _ => {
                            u.awards = Some(
                                text.split(';')
                                    .map(|s| s.trim().to_string())
                                    .filter(|s| !s.is_empty())
                                    .collect(),
                            );
                        }
                    }
                }
                Some(Col::Slot { slot: s, .. }) => {
                    let Some(ind) = self.prog.indicators.get(*s) else {
                        return;
                    };
                    match parse_cell(
                        cell,
                        &ind.ty,
                        &ind.display.factor,
                        self.locale,
                        &self.prog.levels,
                    ) {
                        Ok(v) => {
                            if let Some(slot) = u.values.get_mut(*s) {
                                *slot = v;
                            }
                        }
                        Err((msg, help)) => {
                            errors.push(data_error(
                                self.file,
                                row,
                                Some(col),
                                format!("column `{col}`: {msg}"),
                                help,
                            ));
                            *ok = false;
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Read a CSV record's cells (ignored columns skipped).
    fn record(&self, rec: &Fields, row: usize, errors: &mut Vec<Diag>) -> (UnitRow, bool) {
        let mut u = begin_row(self.prog);
        let mut ok = true;
        let en = self.locale == Locale::En;
        // By column, so that an ignored column's cell is not even sliced;
        // a short row's missing cells stay missing.
        for (i, col) in self.cols.iter().enumerate() {
            if matches!(col, Col::Ignored) {
                continue;
            }
            let Some(c) = rec.get(i) else {
                continue;
            };
            match *col {
                // Most cells: digits and a point.
                Col::Slot {
                    slot,
                    factor: Some(factor),
                } if en => {
                    if let Some(d) = plain_number(c, factor) {
                        if let Some(x) = u.values.get_mut(slot) {
                            *x = Value::Num(d);
                        }
                        continue;
                    }
                }
                _ => {}
            }
            let cell = Cell::Text(nfc(c));
            self.cell(&mut u, &mut ok, row, i, &cell, errors);
        }
        (u, ok)
    }

    /// The row without its id is an error.
    fn has_id(&self, u: &UnitRow, row: usize, errors: &mut Vec<Diag>) -> bool {
        if u.id.is_empty() {
            errors.push(no_id(self.file, row));
            return false;
        }
        true
    }
}

/// The cells of a CSV record as text. The record's bytes are checked as
/// UTF-8 once, not cell by cell (cells whose boundaries fall inside a
/// character are caught too: a cell is sliced from the checked text only
/// at character boundaries).
pub(crate) struct Fields<'r> {
    text: &'r str,
    rec: &'r csv::ByteRecord,
}

impl<'r> Fields<'r> {
    /// The record's cells, or `None` when one of them is not UTF-8.
    fn new(rec: &'r csv::ByteRecord) -> Option<Fields<'r>> {
        let text = std::str::from_utf8(rec.as_slice()).ok()?;
        // The cells lie end to end in the text, which is UTF-8: a boundary
        // between two falls inside a character only where a cell starts
        // with a continuation byte (an empty cell's boundary is the next
        // one's start, or the end of the text).
        let split = rec
            .iter()
            .any(|c| c.first().is_some_and(|b| b & 0xC0 == 0x80));
        (!split).then_some(Fields { text, rec })
    }
    fn len(&self) -> usize {
        self.rec.len()
    }
    fn get(&self, i: usize) -> Option<&'r str> {
        self.rec.range(i).and_then(|r| self.text.get(r))
    }
    fn iter(&self) -> impl Iterator<Item = &'r str> + '_ {
        // `new` refused any record with a cell that does not slice; the
        // empty text keeps the columns in place all the same.
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }
}

/// A CSV record read but not yet parsed, for a streaming worker: the file's
/// columns, the record, its row, and the errors the reader found before it
/// (kept in order with the row's own).
pub struct RawRow<'p> {
    file: std::sync::Arc<FileColumns<'p>>,
    rec: csv::ByteRecord,
    row: usize,
    before: Vec<Diag>,
    /// The row repeats a unit: this error comes after the row's own, and
    /// the row is dropped.
    after: Option<Diag>,
}

/// The columns of one CSV file.
pub struct FileColumns<'p> {
    prog: &'p Program,
    locale: Locale,
    file: String,
    origin: std::sync::Arc<str>,
    headers: Vec<String>,
    cols: Vec<Col>,
}

impl RawRow<'_> {
    /// Parse the row: its errors (after those found before it) go to
    /// `errors`; the row comes back when it has none.
    pub fn parse(self, errors: &mut Vec<Diag>) -> Option<UnitRow> {
        errors.extend(self.before);
        let f = &*self.file;
        let cx = CellCx {
            prog: f.prog,
            locale: f.locale,
            file: &f.file,
            headers: &f.headers,
            cols: &f.cols,
        };
        let Some(fields) = Fields::new(&self.rec) else {
            // The reader checks each record before handing it on; should
            // one still fail, it is the reader's error.
            errors.push(not_utf8(&f.file, self.row, &self.rec, &f.headers));
            return None;
        };
        let (mut u, ok) = cx.record(&fields, self.row, errors);
        if !cx.has_id(&u, self.row, errors) {
            return None;
        }
        if let Some(d) = self.after {
            errors.push(d);
            return None;
        }
        if !ok {
            return None;
        }
        u.origin = Some((f.origin.clone(), self.row));
        Some(u)
    }
}

impl<'r, 'p> Reader<'r, 'p> {
    fn error(&mut self, row: usize, column: Option<&str>, msg: String, help: Option<String>) {
        let mut d = Diag::error(codes::DATA, msg).located(DataLocation {
            file: self.file.clone(),
            row,
            column: column.map(str::to_string),
        });
        d.help = help;
        self.ds.errors.push(d);
    }

    fn map_columns(&mut self, headers: &[String]) -> Vec<Col> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for h in headers {
            let h = h.trim();
            if !seen.insert(h.to_string()) {
                self.error(
                    self.header_row,
                    Some(h),
                    format!("column `{h}` appears twice"),
                    Some("remove the second column".into()),
                );
                out.push(Col::Ignored);
                continue;
            }
            if let Some(r) = RESERVED.iter().find(|r| **r == h) {
                out.push(Col::Reserved(r));
                continue;
            }
            match self.prog.indicator_slot(h) {
                Some(slot) => {
                    self.columns.insert(h.to_string());
                    let factor = self.prog.indicators.get(slot).and_then(|ind| {
                        let numeric = matches!(
                            ind.ty,
                            Type::Number | Type::Percent | Type::Quantity(_) | Type::Duration(_)
                        );
                        let f = ind.display.factor;
                        let m = u64::try_from(f.mantissa()).ok().filter(|m| *m > 0)?;
                        numeric.then_some((m, f.scale()))
                    });
                    out.push(Col::Slot { slot, factor });
                }
                None => {
                    if !h.is_empty() {
                        let cands: Vec<&str> =
                            self.prog.indicators.iter().map(|i| i.id.as_str()).collect();
                        let mut d = Diag::warning(codes::UNKNOWN_COLUMN, format!("column `{h}` matches no indicator, checklist item or reserved field"))
                            .located(DataLocation { file: self.file.clone(), row: self.header_row, column: Some(h.to_string()) });
                        d.help = Some(match crate::diag::nearest(h, cands.iter().copied()) {
                            Some(n) => format!("did you mean `{n}`?"),
                            None => "the column is ignored".into(),
                        });
                        self.ds.warnings.push(d);
                    }
                    out.push(Col::Ignored);
                }
            }
        }
        out
    }

    /// Read a CSV file record by record.
    /// `len` is the file's size in bytes, to size the id set (0: unknown).
    fn csv(&mut self, input: impl std::io::Read, len: u64) {
        let (mut rdr, lines) = match csv_reader(input) {
            Ok(r) => r,
            Err(e) => {
                self.error(0, None, format!("cannot read `{}`: {e}", self.file), None);
                return;
            }
        };
        lines.start(&csv::Position::new());
        let header = match rdr.byte_headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                self.error(1, None, format!("cannot read the header row: {e}"), None);
                return;
            }
        };
        // The header's line, past the comments and blank lines above it.
        self.header_row = lines.of(Some(&csv::Position::new()));
        let mut headers: Vec<String> = Vec::with_capacity(header.len());
        for cell in header.iter() {
            match std::str::from_utf8(cell) {
                Ok(t) => headers.push(nfc(t.trim()).into_owned()),
                Err(_) => {
                    self.error(
                        0,
                        None,
                        format!(
                            "`{}` is not UTF-8 text (an invalid byte in the header row)",
                            self.file
                        ),
                        Some("save the file as CSV UTF-8".into()),
                    );
                    return;
                }
            }
        }
        if headers.len() > LIMIT_COLUMNS {
            self.error(
                self.header_row,
                None,
                format!(
                    "the header has {} columns; at most {LIMIT_COLUMNS} are read",
                    headers.len()
                ),
                None,
            );
            return;
        }
        if !headers.iter().any(|h| h == "id") {
            self.error(
                self.header_row,
                None,
                "the data has no `id` column".into(),
                Some("the first column of a data file is the unit id: `id,name,bloc,…`".into()),
            );
            return;
        }
        let cols = self.map_columns(&headers);
        let reserved = |name: &str| {
            cols.iter()
                .position(|c| matches!(c, Col::Reserved(r) if *r == name))
        };
        let (id_col, period_col) = (reserved("id"), reserved("period"));
        let columns = std::sync::Arc::new(FileColumns {
            prog: self.prog,
            locale: self.locale,
            file: self.file.clone(),
            origin: self.origin.clone(),
            headers: headers.clone(),
            cols,
        });
        let cols = &columns.cols;
        let mut rec = csv::ByteRecord::new();
        let mut records = 0usize;
        loop {
            lines.start(rdr.position());
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let row = lines.of(e.position());
                    let io = matches!(e.kind(), csv::ErrorKind::Io(_));
                    self.error(row, None, format!("cannot read this row: {e}"), None);
                    if io {
                        return;
                    }
                    continue;
                }
            }
            let row = lines.of(rec.position());
            let Some(fields) = Fields::new(&rec) else {
                // Every cell is UTF-8, ignored columns included.
                let d = not_utf8(&self.file, row, &rec, &headers);
                self.ds.errors.push(d);
                return;
            };
            records += 1;
            if records == SIZE_AFTER {
                // Estimate the file's rows from the bytes the first ones took.
                let read = rec.position().map(|p| p.byte()).unwrap_or(0).max(1);
                let rest = u128::from(len.saturating_sub(read));
                let more = rest * SIZE_AFTER as u128 * 105 / 100 / u128::from(read);
                let more = usize::try_from(more).unwrap_or(LIMIT_RESERVE);
                let key_len = self.ids.key_len();
                self.ids.reserve(more.min(LIMIT_RESERVE), key_len);
            }
            if fields.iter().all(|c| trim(c).is_empty()) {
                continue;
            }
            if rec.len() > headers.len() {
                self.error(
                    row,
                    None,
                    format!(
                        "this row has {} cells but the header has {} columns",
                        rec.len(),
                        headers.len()
                    ),
                    Some(
                        "remove the extra cells or quote a cell that contains the separator".into(),
                    ),
                );
                continue;
            }
            if matches!(self.sink, Sink::Pending(_)) {
                // Only the id (and period) here: the cells are parsed by
                // whoever receives the record.
                let text =
                    |k: Option<usize>| k.and_then(|k| fields.get(k)).map(nfc).unwrap_or_default();
                let id = text(id_col);
                let id = id.trim();
                let period = text(period_col)
                    .trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|y| (1900..=9999).contains(y));
                // A repeated unit is still parsed, for its cell errors,
                // and its error comes after them, as when parsed here.
                let mut after = None;
                if !id.is_empty() && !self.first_of_unit(id, period, row) {
                    after = self.ds.errors.pop();
                }
                let before = std::mem::take(&mut self.ds.errors);
                if let Sink::Pending(pending) = &mut self.sink {
                    pending(Pending::Raw(RawRow {
                        file: columns.clone(),
                        rec: take_record(&mut rec),
                        row,
                        before,
                        after,
                    }));
                }
                continue;
            }
            let cx = CellCx {
                prog: self.prog,
                locale: self.locale,
                file: &self.file,
                headers: &headers,
                cols,
            };
            let (u, ok) = cx.record(&fields, row, &mut self.ds.errors);
            self.finish_row(u, ok, row);
        }
    }

    fn json(&mut self, bytes: &[u8]) {
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                self.error(
                    0,
                    None,
                    format!(
                        "`{}` is not UTF-8 text (invalid byte at offset {})",
                        self.file,
                        e.valid_up_to()
                    ),
                    None,
                );
                return;
            }
        };
        let v: serde_json::Value =
            match serde_json::from_str(text.strip_prefix('\u{FEFF}').unwrap_or(text)) {
                Ok(v) => v,
                Err(e) => {
                    self.error(
                        e.line(),
                        None,
                        format!("not valid JSON: {e}"),
                        Some("the data is an array of objects, or `{\"units\": [...]}`".into()),
                    );
                    return;
                }
            };
        let units = match v {
            serde_json::Value::Array(a) => a,
            serde_json::Value::Object(mut o) => match o.remove("units") {
                Some(serde_json::Value::Array(a)) => a,
                _ => {
                    self.error(
                        0,
                        None,
                        "a JSON object of data needs a `units` array".into(),
                        None,
                    );
                    return;
                }
            },
            _ => {
                self.error(
                    0,
                    None,
                    "the JSON data is an array of objects, or `{\"units\": [...]}`".into(),
                    None,
                );
                return;
            }
        };
        let mut headers: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        'fields: for u in &units {
            if let serde_json::Value::Object(o) = u {
                for k in o.keys() {
                    let k: String = nfc(k).into_owned();
                    if !index.contains_key(&k) {
                        index.insert(k.clone(), headers.len());
                        headers.push(k);
                        if headers.len() > LIMIT_COLUMNS {
                            break 'fields;
                        }
                    }
                }
            }
        }
        if headers.len() > LIMIT_COLUMNS {
            self.error(
                0,
                None,
                format!(
                    "the data has {} distinct fields; at most {LIMIT_COLUMNS} are read",
                    headers.len()
                ),
                None,
            );
            return;
        }
        let cols = self.map_columns(&headers);
        for (n, u) in units.iter().enumerate() {
            let row = n + 1;
            let serde_json::Value::Object(o) = u else {
                self.error(row, None, format!("unit {row} is not a JSON object"), None);
                continue;
            };
            let mut cells = Vec::new();
            for (k, v) in o {
                let Some(&i) = index.get(nfc(k).as_ref()) else {
                    continue;
                };
                let cell = match v {
                    serde_json::Value::Null => Cell::Text(Cow::Borrowed("")),
                    serde_json::Value::String(s) => Cell::Text(nfc(s)),
                    serde_json::Value::Bool(b) => Cell::Bool(*b),
                    serde_json::Value::Number(num) => Cell::Number(num.to_string()),
                    other => Cell::Bad(format!(
                        "a JSON {}",
                        if other.is_array() { "array" } else { "object" }
                    )),
                };
                cells.push((i, cell));
            }
            self.row(row, &headers, &cols, &cells);
        }
    }

    fn row(&mut self, row: usize, headers: &[String], cols: &[Col], cells: &[(usize, Cell)]) {
        let cx = CellCx {
            prog: self.prog,
            locale: self.locale,
            file: &self.file,
            headers,
            cols,
        };
        let mut u = begin_row(self.prog);
        let mut ok = true;
        for (i, cell) in cells {
            cx.cell(&mut u, &mut ok, row, *i, cell, &mut self.ds.errors);
        }
        self.finish_row(u, ok, row);
    }

    /// Hand a read row on, unless it has no id, repeats a unit, or had an
    /// error.
    fn finish_row(&mut self, mut u: UnitRow, ok: bool, row: usize) {
        if u.id.is_empty() {
            self.ds.errors.push(no_id(&self.file, row));
            return;
        }
        if !self.first_of_unit(&u.id, u.period, row) || !ok {
            return;
        }
        u.origin = Some((self.origin.clone(), row));
        let clean = self.ds.errors.is_empty();
        match &mut self.sink {
            Sink::Rows(f) => f(u, clean),
            Sink::Pending(f) => f(Pending::Row(u)),
        }
    }

    /// Record a unit's id; false (with the error) when it was read before.
    fn first_of_unit(&mut self, id: &str, period: Option<i32>, row: usize) -> bool {
        let seen = match self.ids.insert(id, period, row) {
            Ok(seen) => seen,
            Err(()) => {
                self.error(
                    0,
                    None,
                    format!("the data has more than {LIMIT_ID_BYTES} bytes of unit ids"),
                    Some("evaluate the data in parts".into()),
                );
                return false;
            }
        };
        if let Some(first) = seen {
            self.error(
                row,
                Some("id"),
                format!("unit id `{id}` appears twice (rows {first} and {row})"),
                Some(
                    "each unit has one row per period; add a `period` column for several years"
                        .into(),
                ),
            );
            return false;
        }
        true
    }
}

enum Cell<'a> {
    Text(Cow<'a, str>),
    Number(String),
    Bool(bool),
    Bad(String),
}

type CellError = (String, Option<String>);

fn parse_cell(
    cell: &Cell,
    ty: &Type,
    factor: &Decimal,
    locale: Locale,
    levels: &[LevelSet],
) -> Result<Value, CellError> {
    let text = match cell {
        Cell::Bad(w) => return Err((format!("cannot read {w}"), None)),
        Cell::Bool(b) => {
            return match ty {
                Type::Bool => Ok(Value::Bool(*b)),
                _ => Err(("expected a value, found a JSON boolean".into(), None)),
            }
        }
        Cell::Number(n) => {
            // JSON numbers: exact, `.` decimal, percents in percent points.
            let d = crate::value::exact_decimal(n)
                .or_else(|| crate::value::exact_decimal(&plain_of_scientific(n)?))
                .ok_or_else(|| too_wide(n))?;
            return match ty {
                Type::Number | Type::Percent | Type::Quantity(_) | Type::Duration(_) => {
                    scale(d, factor).map(Value::Num).ok_or_else(|| too_wide(n))
                }
                Type::Bool if d.is_zero() || d == Decimal::ONE => {
                    Ok(Value::Bool(d == Decimal::ONE))
                }
                _ => Err((
                    format!("expected {}, found the number {n}", ty_words(ty)),
                    None,
                )),
            };
        }
        Cell::Text(t) => trim(t),
    };
    if text.is_empty() {
        return Ok(Value::Missing);
    }
    match ty {
        Type::Number | Type::Percent | Type::Quantity(_) | Type::Duration(_) => {
            let t = if *ty == Type::Percent {
                text.strip_suffix('%').map(str::trim_end).unwrap_or(text)
            } else {
                text
            };
            let d = parse_number(t, locale)?;
            scale(d, factor)
                .map(Value::Num)
                .ok_or_else(|| too_wide(text))
        }
        Type::Bool => parse_bool(text).map(Value::Bool).ok_or_else(|| {
            (
                format!("`{text}` is not a yes/no value"),
                Some(
                    "write `có`/`không`, `đạt`/`không đạt`, `true`/`false`, `1`/`0` or `x`".into(),
                ),
            )
        }),
        Type::Date => parse_date(text).map(Value::Date).ok_or_else(|| {
            (
                format!("`{text}` is not a date"),
                Some("write `31/01/2024` or `2024-01-31`".into()),
            )
        }),
        Type::Text => Ok(Value::Text(text.into())),
        Type::Level(set) => {
            let Some(l) = levels.get(*set) else {
                return Err(("unknown levels".into(), None));
            };
            match match_level(l, text) {
                Some(i) => Ok(Value::Level(i)),
                None => Err((
                    format!("`{text}` is not a level of `{}`", l.id),
                    Some(format!(
                        "write one of {}",
                        l.levels
                            .iter()
                            .map(|x| format!("`{}`", x.id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                )),
            }
        }
        _ => Ok(Value::Text(text.into())),
    }
}

/// A cell of digits with at most one `.` between them, and at most 18
/// characters, read in the `en` locale and multiplied by the factor whose
/// mantissa and scale are `(fm, fs)`: what [`parse_cell`] gives such a cell
/// (the same mantissa and scale: the product of the mantissas at the sum
/// of the scales, which is rust_decimal's product when it fits), without
/// its checks for signs, spaces, percent signs and commas. `None` for any
/// other cell, and for a product that does not fit a decimal, which the
/// general path then reads or refuses.
#[inline]
fn plain_number(text: &str, (fm, fs): (u64, u32)) -> Option<Decimal> {
    let b = text.as_bytes();
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let (mut m, mut dot) = (0u64, None);
    for (j, &c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            // At most 18 digits: below 10¹⁸, no overflow.
            m = m.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        } else if c == b'.' && dot.is_none() && j > 0 && j + 1 < b.len() {
            dot = Some(j);
        } else {
            return None;
        }
    }
    let places = u32::try_from(dot.map_or(0, |k| b.len() - k - 1)).ok()?;
    let scale = places.checked_add(fs).filter(|s| *s <= 28)?;
    // rust_decimal's product of a zero is a zero of scale 0 (a factor of
    // 1 or 10⁻ᵏ only moves the point: the general path keeps the scale).
    if m == 0 && fm != 1 {
        return None;
    }
    // Below 2⁶⁴ · 2⁶⁴: no overflow.
    let product = u128::from(m) * u128::from(fm);
    if product >> 96 != 0 {
        return None;
    }
    Decimal::try_from_i128_with_scale(i128::try_from(product).ok()?, scale).ok()
}

/// `d × factor`. A factor of 1 or 10⁻ᵏ (percents: 0.01) only moves the
/// decimal point, which is exact and much cheaper than a multiplication.
fn scale(d: Decimal, factor: &Decimal) -> Option<Decimal> {
    if factor.mantissa() == 1 && d.scale() + factor.scale() <= 28 {
        let mut out = d;
        out.set_scale(d.scale() + factor.scale()).ok()?;
        return Some(out);
    }
    crate::value::mul_exact(d, *factor)
}

/// Read one value typed by an indicator, as a data cell would be read
/// (the REPL's `:set`).
pub fn parse_value(
    prog: &Program,
    slot: usize,
    text: &str,
    locale: Locale,
) -> Result<Value, String> {
    let ind = prog
        .indicators
        .get(slot)
        .ok_or_else(|| "no such indicator".to_string())?;
    parse_cell(
        &Cell::Text(Cow::Borrowed(text)),
        &ind.ty,
        &ind.display.factor,
        locale,
        &prog.levels,
    )
    .map_err(|(m, h)| match h {
        Some(h) => format!("{m} ({h})"),
        None => m,
    })
}

fn ty_words(t: &Type) -> &'static str {
    match t {
        Type::Bool => "a yes/no value",
        Type::Date => "a date",
        Type::Text => "text",
        Type::Level(_) => "a level",
        _ => "a number",
    }
}

/// A number as the locale writes it. The locale always wins: a cell it
/// cannot read is an error, never a guess.
pub fn parse_number(t: &str, locale: Locale) -> Result<Decimal, CellError> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let normalized = match locale {
        Locale::En => {
            // The common case in one pass: digits, at most one `.` with
            // digits on both sides, the digits gathered as they are read.
            let b = body.as_bytes();
            let mut plain = !b.is_empty();
            let mut dot = None;
            let mut mantissa: u64 = 0;
            let mut count = 0usize;
            for (j, &c) in b.iter().enumerate() {
                if c.is_ascii_digit() {
                    mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                    count += 1;
                } else if c == b'.' && dot.is_none() && j > 0 && j + 1 < b.len() {
                    dot = Some(j);
                } else {
                    plain = false;
                    break;
                }
            }
            if plain {
                // Up to 18 digits the integer is exact (< 10^18 < 2^63) and
                // is the decimal's mantissa, as rust_decimal reads it.
                let scale = dot.map(|k| b.len() - k - 1).unwrap_or(0);
                let d = match u32::try_from(scale) {
                    Ok(scale) if count <= 18 => {
                        Decimal::try_from_i128_with_scale(i128::from(mantissa), scale).ok()
                    }
                    _ => None,
                };
                let d = match d {
                    Some(d) => d,
                    None => crate::value::exact_decimal(body).ok_or_else(|| too_wide(t))?,
                };
                return Ok(if neg { -d } else { d });
            }
            if body.contains(',') {
                return Err((
                    format!("`{t}` has a comma"),
                    Some("in the `en` locale numbers have no grouping and `.` is the decimal mark; for Vietnamese numbers use `--locale vi`".into()),
                ));
            }
            let mut parts = body.splitn(2, '.');
            let int = parts.next().unwrap_or("");
            let frac = parts.next();
            if !digits(int) || frac.map(|f| !digits(f)).unwrap_or(false) {
                return Err((format!("`{t}` is not a number"), None));
            }
            body.to_string()
        }
        Locale::Vi => {
            let (int, frac) = match body.split_once(',') {
                Some((i, f)) => (i, Some(f)),
                None => (body, None),
            };
            if let Some(f) = frac {
                if !digits(f) {
                    return Err((format!("`{t}` is not a number"), None));
                }
            }
            let groups: Vec<&str> = int.split('.').collect();
            let ok = groups.len() == 1 && digits(int)
                || groups.len() > 1
                    && groups
                        .first()
                        // A first group of thousands never starts with 0:
                        // `0.145` is a decimal written the `en` way.
                        .map(|g| digits(g) && g.len() <= 3 && !g.starts_with('0'))
                        .unwrap_or(false)
                    && groups.iter().skip(1).all(|g| g.len() == 3 && digits(g));
            if !ok {
                return Err((
                    format!("`{t}` is not a number in the `vi` locale"),
                    Some("in the `vi` locale `,` is the decimal mark and `.` groups thousands (`1.234,5`); for `14.5` use `--locale en`".into()),
                ));
            }
            let mut s = groups.concat();
            if let Some(f) = frac {
                s.push('.');
                s.push_str(f);
            }
            s
        }
    };
    let d = crate::value::exact_decimal(&normalized).ok_or_else(|| too_wide(t))?;
    Ok(if neg { -d } else { d })
}

/// A JSON number in scientific notation (`1.25e3`) written out in plain
/// digits (`1250`), so that it is read exactly; `None` for anything else,
/// or an exponent far beyond what a decimal holds.
fn plain_of_scientific(n: &str) -> Option<String> {
    let (m, e) = n.split_once(['e', 'E'])?;
    let e: i32 = e.strip_prefix('+').unwrap_or(e).parse().ok()?;
    if m.bytes().all(|b| matches!(b, b'0' | b'.' | b'-')) && m.contains('0') {
        // Zero, whatever its exponent.
        return Some("0".into());
    }
    if e.abs() > 60 {
        return None;
    }
    let (neg, m) = match m.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, m),
    };
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    let digits = format!("{int}{frac}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The decimal point after `point` digits (may be outside the digits).
    let point = i32::try_from(int.len()).ok()? + e;
    let len = i32::try_from(digits.len()).ok()?;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(usize::try_from(-point).ok()?))
    } else if point >= len {
        format!("{digits}{}", "0".repeat(usize::try_from(point - len).ok()?))
    } else {
        let (a, b) = digits.split_at(usize::try_from(point).ok()?);
        format!("{a}.{b}")
    };
    Some(if neg { format!("-{body}") } else { body })
}

/// A number with more digits than a decimal holds: an error, never
/// rounded.
fn too_wide(t: &str) -> CellError {
    (
        format!("`{t}` is out of range or too precise"),
        Some("numbers have at most 28 significant digits and 28 decimal places".into()),
    )
}

pub fn parse_bool(t: &str) -> Option<bool> {
    let l = t.to_lowercase();
    match l.as_str() {
        "true" | "yes" | "1" | "có" | "đạt" | "x" => Some(true),
        "false" | "no" | "0" | "không" | "không đạt" => Some(false),
        _ => None,
    }
}

pub fn parse_date(t: &str) -> Option<NaiveDate> {
    if let Some((y, rest)) = t.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        if y.len() != 4 {
            return None;
        }
        return NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    }
    let mut it = t.split('/');
    let (d, m, y) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some()
        || y.len() != 4
        || d.is_empty()
        || d.len() > 2
        || m.is_empty()
        || m.len() > 2
    {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Old and new tone-mark placement, made one: `hoá`/`hóa`, `uỷ`/`ủy`.
pub fn tone_key(s: &str) -> String {
    const PAIRS: &[(&str, &str)] = &[
        ("òa", "oà"),
        ("óa", "oá"),
        ("ỏa", "oả"),
        ("õa", "oã"),
        ("ọa", "oạ"),
        ("òe", "oè"),
        ("óe", "oé"),
        ("ỏe", "oẻ"),
        ("õe", "oẽ"),
        ("ọe", "oẹ"),
        ("ùy", "uỳ"),
        ("úy", "uý"),
        ("ủy", "uỷ"),
        ("ũy", "uỹ"),
        ("ụy", "uỵ"),
    ];
    let mut out: String = s.nfc().collect::<String>().to_lowercase();
    for (old, new) in PAIRS {
        out = out.replace(old, new);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A level by its id, label or alias.
pub fn match_level(l: &LevelSet, text: &str) -> Option<u32> {
    // Exact spellings first: the common case costs no normalisation.
    let exact = l.levels.iter().position(|x| {
        x.id == text || x.label.as_deref() == Some(text) || x.aliases.iter().any(|a| a == text)
    });
    if let Some(i) = exact {
        return Some(i as u32);
    }
    let key = tone_key(text);
    l.levels
        .iter()
        .position(|x| {
            tone_key(&x.id) == key
                || x.label
                    .as_deref()
                    .map(|lb| tone_key(lb) == key)
                    .unwrap_or(false)
                || x.aliases.iter().any(|a| tone_key(a) == key)
        })
        .map(|i| i as u32)
}

/// `text.trim()`, without decoding a character when the text begins and
/// ends with a visible ASCII character (a cell almost always does), since
/// then neither end is white space.
#[inline]
fn trim(text: &str) -> &str {
    match text.as_bytes() {
        [first, .., last] | [first @ last]
            if first.is_ascii_graphic() && last.is_ascii_graphic() =>
        {
            text
        }
        _ => text.trim(),
    }
}

/// NFC form, borrowing when the text already is (almost always).
fn nfc(text: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{is_nfc_quick, IsNormalized};
    if text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.nfc().collect())
    }
}

#[cfg(test)]
mod plain_number_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A plain cell reads as the general path reads it: the same
        /// mantissa and scale.
        #[test]
        fn plain_number_is_parse_cell(
            t in "[0-9.]{1,20}",
            fm in prop::sample::select(vec![1u64, 10, 25, 3, 1_000_000, 1_000_000_000, 1_000_000_000_000, u64::MAX]),
            fs in 0u32..=12,
            percent in any::<bool>(),
        ) {
            if let Some(d) = plain_number(&t, (fm, fs)) {
                let ty = if percent { Type::Percent } else { Type::Number };
                let factor = Decimal::from_i128_with_scale(i128::from(fm), fs);
                let general = parse_cell(
                    &Cell::Text(Cow::Borrowed(&t)),
                    &ty,
                    &factor,
                    Locale::En,
                    &[],
                );
                let Ok(Value::Num(g)) = general else {
                    return Err(TestCaseError::fail(format!("{t}: {general:?}")));
                };
                prop_assert_eq!((d.mantissa(), d.scale()), (g.mantissa(), g.scale()), "{}", t);
            }
        }
    }

    #[test]
    fn plain_numbers() {
        assert_eq!(plain_number("14.5", (1, 2)), Some(Decimal::new(145, 3)));
        assert_eq!(plain_number("0.50", (1, 0)), Some(Decimal::new(50, 2)));
        assert_eq!(plain_number("100", (1, 2)), Some(Decimal::new(100, 2)));
        // 703.77 tỷ đồng in đồng.
        assert_eq!(
            plain_number("703.77", (1_000_000_000, 0)),
            Some(Decimal::new(70_377_000_000_000, 2))
        );
        // A zero times a factor other than 10⁻ᵏ is rust_decimal's zero,
        // made by the general path.
        assert_eq!(plain_number("0.0", (1_000_000_000, 0)), None);
        assert_eq!(plain_number("0.0", (1, 2)), Some(Decimal::new(0, 3)));
        for t in [
            "",
            ".5",
            "5.",
            "1.2.3",
            "-1",
            "+1",
            " 1",
            "1%",
            "1,5",
            "1234567890123456789",
        ] {
            assert_eq!(plain_number(t, (1, 0)), None, "{t:?}");
        }
    }
}

#[cfg(test)]
mod scale_tests {
    use super::LoneCr;

    /// The shortcut of `trim` trims as `str::trim` does.
    #[test]
    fn trim_is_str_trim() {
        for t in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{a0}a",
            "a\u{3000}",
            "14.5",
            "x\t",
            "\u{2003}",
            "é",
            " é ",
            "ab",
            "a b",
        ] {
            assert_eq!(super::trim(t), t.trim(), "{t:?}");
        }
    }

    /// Lone carriage returns read as line feeds, `\r\n` kept, whatever the
    /// sizes of the reads and of the buffer below.
    #[test]
    fn lone_carriage_returns_read_as_line_feeds() {
        use std::io::Read;
        let cases: [(&[u8], &[u8]); 5] = [
            (b"a\rb\r", b"a\nb\n"),
            (b"a\r\nb\r\n", b"a\r\nb\r\n"),
            (b"\r\r\n\r", b"\n\r\n\n"),
            (b"x\r", b"x\n"),
            (b"", b""),
        ];
        for (input, want) in cases {
            for cap in [1, 2, 3, 64] {
                for chunk in [1, 2, 5, 64] {
                    let mut r = LoneCr(std::io::BufReader::with_capacity(cap, input));
                    let mut got = Vec::new();
                    let mut buf = vec![0u8; chunk];
                    loop {
                        let n = r.read(&mut buf).expect("reads");
                        if n == 0 {
                            break;
                        }
                        got.extend_from_slice(buf.get(..n).unwrap_or_default());
                    }
                    assert_eq!(got, want, "{input:?}, buffer {cap}, reads of {chunk}");
                }
            }
        }
    }

    use super::scale;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    /// Moving the decimal point is the multiplication it replaces.
    #[test]
    fn scaling_is_multiplying() {
        let d = |s: &str| Decimal::from_str(s).expect("decimal");
        for x in [
            "14.5",
            "-3",
            "0",
            "99.32",
            "123456789012345678.9",
            "0.0000001",
        ] {
            for f in ["1", "0.01", "0.001", "1000000000", "10000", "0.5"] {
                assert_eq!(scale(d(x), &d(f)), d(x).checked_mul(d(f)), "{x} × {f}");
            }
        }
        // Past 28 decimal places the product would be rounded (here to
        // zero): it is refused instead.
        let tiny = d("0.0000000000000000000000000001");
        assert_eq!(scale(tiny, &d("0.01")), None);
        assert_eq!(scale(d("2.5"), &d("0.01")), Some(d("0.025")));
    }
}
