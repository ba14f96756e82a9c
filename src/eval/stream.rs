//! Streaming evaluation: read, evaluate and write unit by unit, in bounded
//! memory, on every core, with the output in data order.
//!
//! A campaign whose units do not depend on one another (no scoring, which
//! ranks, no ranking, awards, history or members) is evaluated in chunks of
//! [`CHUNK`] rows: this thread splits the CSV into records, checks that no
//! unit repeats and hands chunks out; worker threads parse the cells,
//! evaluate and format; one writer puts the pieces, and the errors, in
//! data order. At most [`in_flight`] chunks exist at once, so memory does not
//! grow with the data.

use super::{evaluate_known, Compiled, Detail, Evaluation, Known, UnitRow};
use crate::data::{self, DataSet, Locale, Pending, Unreadable};
use crate::diag::Diag;
use crate::ir::Program;
use crate::syntax::ast::PointsMode;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel};
use std::sync::Mutex;

/// Rows per chunk: large enough to amortise the hand-over, small enough
/// that a few chunks in flight stay within a few MiB.
pub const CHUNK: usize = 256;

/// Whether every unit of `prog` can be evaluated on its own, so the data
/// can be streamed: no ranking (a scored plan ranks by score unless told
/// otherwise), awards, `relative` points, history or members, and a
/// campaign period (the year rows without a `period` belong
/// to, known before any row is read).
pub fn streamable(prog: &Program) -> bool {
    prog.rank.is_none()
        && prog.awards.is_empty()
        && !prog.uses_history
        && prog.info.year().is_some()
        && !prog.criteria.iter().any(|c| {
            c.points
                .as_ref()
                .map(|p| p.mode == PointsMode::Relative)
                .unwrap_or(false)
        })
}

/// Whether data files can be streamed for a streamable campaign: CSV files
/// with no `parent` column (a unit's parent may be in another chunk).
pub fn streamable_data(paths: &[impl AsRef<Path>]) -> bool {
    paths.iter().all(|p| {
        let p = p.as_ref();
        !data::is_json(p)
            && data::csv_headers(p)
                .map(|h| !h.iter().any(|c| c == "parent"))
                .unwrap_or(false)
    })
}

/// How many chunks may exist at once for `workers` evaluating threads.
pub fn in_flight(workers: usize) -> usize {
    workers + 2
}

/// Formats the units of one evaluated chunk into bytes.
pub type ChunkFormat<'f> = dyn Fn(&Evaluation, &mut Vec<u8>) -> Result<(), String> + Sync + 'f;

/// What a streaming evaluation found.
#[derive(Debug, Default)]
pub struct Streamed {
    /// The data's errors, warnings and skipped rows (`rows` is empty).
    pub data: DataSet,
    /// The rows handed to the workers.
    pub units: usize,
    /// Whether any piece was written.
    pub wrote: bool,
    /// The evaluation's warnings (ties at a limit, when evaluated in
    /// passes).
    pub warnings: Vec<Diag>,
}

/// Why a streaming evaluation stopped.
#[derive(Debug)]
pub enum StreamError {
    /// A data file could not be opened.
    Unreadable(String),
    /// The output could not be written, or a chunk could not be formatted.
    Output(String),
}

impl From<Unreadable> for StreamError {
    fn from(u: Unreadable) -> Self {
        StreamError::Unreadable(u.0)
    }
}

/// Evaluate `prog` over the data files unit by unit, writing each chunk's
/// formatted units (evaluated with `detail`) to `out` in data order, with
/// `sep` between two non-empty pieces. When the data has an error (and
/// `skip_bad_rows` is off), the evaluation stops but the reading and the
/// parsing go on, so that every error is found; what was written is then
/// the caller's to discard. `progress` is told how many rows have been
/// handed out.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_stream(
    prog: &Program,
    paths: &[impl AsRef<Path>],
    locale: Locale,
    skip_bad_rows: bool,
    detail: Detail,
    format: &ChunkFormat<'_>,
    sep: &[u8],
    out: &mut (dyn Write + Send),
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Streamed, StreamError> {
    let compiled = Compiled::new(prog, detail);
    let work = |_seq: usize, rows: Vec<UnitRow>| chunk(prog, rows, None, &compiled, format);
    let mut pieces = Pieces::new(out, sep);
    let mut take = |bytes: Vec<u8>| pieces.put(&bytes);
    let (data, units) = for_each_chunk(
        prog,
        paths,
        locale,
        skip_bad_rows,
        &work,
        &mut take,
        progress,
    )?;
    Ok(Streamed {
        data,
        units,
        wrote: pieces.wrote,
        warnings: Vec::new(),
    })
}

/// Formatted pieces written one after another, with a separator between
/// two non-empty ones.
pub(crate) struct Pieces<'o> {
    out: &'o mut (dyn Write + Send),
    sep: &'o [u8],
    /// Whether any piece was written.
    pub wrote: bool,
}

impl<'o> Pieces<'o> {
    pub(crate) fn new(out: &'o mut (dyn Write + Send), sep: &'o [u8]) -> Self {
        Pieces {
            out,
            sep,
            wrote: false,
        }
    }
    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), String> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.wrote {
            self.out.write_all(self.sep).map_err(|e| e.to_string())?;
        }
        self.out.write_all(bytes).map_err(|e| e.to_string())?;
        self.wrote = true;
        Ok(())
    }
}

/// Does one chunk's work on a worker thread: its sequence number (from 0,
/// in data order) and its parsed rows.
pub(crate) type ChunkWork<'w, T> = dyn Fn(usize, Vec<UnitRow>) -> Result<T, String> + Sync + 'w;

/// Read the data files in chunks of [`CHUNK`] rows, parse and `work` on
/// each chunk on the worker threads, and hand the results to `take` in
/// data order, on one thread. When the data has an error (and
/// `skip_bad_rows` is off), `work` is no longer called, but the reading and
/// the parsing go on, so that every error is found. Returns the data's
/// errors, warnings and skipped rows, and the number of rows handed out.
pub(crate) fn for_each_chunk<'p, T: Send>(
    prog: &'p Program,
    paths: &[impl AsRef<Path>],
    locale: Locale,
    skip_bad_rows: bool,
    work: &ChunkWork<'_, T>,
    take: &mut (dyn FnMut(T) -> Result<(), String> + Send),
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(DataSet, usize), StreamError> {
    let workers = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let slots = in_flight(workers);
    // Set once a row has an error (without `--skip-bad-rows`): nothing will
    // be kept, so the workers go on parsing, to find every error, but stop
    // working.
    let failed = AtomicBool::new(false);
    let (job_tx, job_rx) = sync_channel::<(usize, Vec<Pending<'p>>)>(workers);
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        /// A chunk's result (none once the data has an error, or why it
        /// failed) and its rows' errors.
        type Done<T> = (Result<Option<T>, String>, Vec<Diag>);
        let (done_tx, done_rx) = channel::<(usize, Done<T>)>();
        // A chunk may be read only with a token; the taker gives tokens
        // back as it takes, which bounds the chunks alive at once.
        let (token_tx, token_rx) = sync_channel::<()>(slots);
        for _ in 0..slots {
            let _ = token_tx.send(());
        }
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let (job_rx, failed) = (&job_rx, &failed);
            scope.spawn(move || loop {
                let job = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, pending)) = job else { return };
                let mut errors = Vec::new();
                let piece = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let rows: Vec<UnitRow> = pending
                        .into_iter()
                        .filter_map(|p| p.parse(&mut errors))
                        .collect();
                    if !errors.is_empty() && !skip_bad_rows {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if failed.load(Ordering::Relaxed) {
                        return Ok(None);
                    }
                    work(seq, rows).map(Some)
                }))
                .unwrap_or_else(|_| Err("the evaluation of a chunk failed".into()));
                if done_tx.send((seq, (piece, errors))).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let taker = scope.spawn(move || -> Result<Vec<Diag>, String> {
            let mut pending: BTreeMap<usize, Done<T>> = BTreeMap::new();
            let mut next = 0;
            let mut errors = Vec::new();
            for (seq, done) in done_rx {
                pending.insert(seq, done);
                while let Some((piece, errs)) = pending.remove(&next) {
                    next += 1;
                    errors.extend(errs);
                    if let Some(t) = piece? {
                        take(t)?;
                    }
                    let _ = token_tx.send(());
                }
            }
            Ok(errors)
        });
        let mut rows: Vec<Pending<'p>> = Vec::with_capacity(CHUNK);
        let mut seq = 0usize;
        let mut units = 0usize;
        let mut open = true;
        let mut hand_out = |rows: Vec<Pending<'p>>, open: &mut bool| {
            if token_rx.recv().is_err() || job_tx.send((seq, rows)).is_err() {
                *open = false;
                return;
            }
            seq += 1;
        };
        let read = data::read_pending(prog, paths, locale, &mut |row| {
            if !open {
                return;
            }
            rows.push(row);
            if rows.len() == CHUNK {
                units += CHUNK;
                hand_out(std::mem::take(&mut rows), &mut open);
                rows.reserve(CHUNK);
                progress(units);
            }
        });
        if open && !rows.is_empty() {
            units += rows.len();
            hand_out(std::mem::take(&mut rows), &mut open);
            progress(units);
        }
        drop(job_tx);
        let mut errors = taker
            .join()
            .unwrap_or_else(|_| Err("the writer failed".into()))
            .map_err(StreamError::Output)?;
        let mut data = read?;
        // The errors of the rows handed on, in order, then those found after.
        errors.append(&mut data.errors);
        data.errors = errors;
        if skip_bad_rows {
            data::skip_bad(&mut data);
        }
        Ok((data, units))
    })
}

/// Evaluate one chunk with the run's compiled targets and format its
/// units.
pub(crate) fn chunk(
    prog: &Program,
    rows: Vec<UnitRow>,
    known: Option<&Known<'_>>,
    compiled: &Compiled,
    format: &ChunkFormat<'_>,
) -> Result<Vec<u8>, String> {
    let ev = evaluate_known(prog, rows, known, compiled).map_err(|d| {
        d.first()
            .map(|d| d.message.clone())
            .unwrap_or_else(|| "the evaluation failed".into())
    })?;
    let mut out = Vec::new();
    format(&ev, &mut out)?;
    Ok(out)
}
