//! Streaming evaluation: read, evaluate and write unit by unit, in bounded
//! memory, on every core, with the output in data order.
//!
//! A campaign whose units do not depend on one another (no ranking, awards,
//! `relative` points, history or members) is evaluated in chunks of
//! [`CHUNK`] rows: this thread reads the data and hands chunks out, worker
//! threads evaluate and format them, and one writer puts the pieces in data
//! order. At most [`in_flight`] chunks exist at once, so memory does not
//! grow with the data.

use super::{evaluate_with, Detail, Evaluation, UnitRow};
use crate::data::{self, DataSet, Locale, Unreadable};
use crate::ir::Program;
use crate::syntax::ast::PointsMode;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc::{channel, sync_channel};
use std::sync::Mutex;

/// Rows per chunk: large enough to amortise the hand-over, small enough
/// that a few chunks in flight stay within a few MiB.
pub const CHUNK: usize = 512;

/// Whether every unit of `prog` can be evaluated on its own, so the data
/// can be streamed: no ranking, awards, `relative` points, history or
/// members, and a campaign period (the year rows without a `period` belong
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
    workers * 2 + 2
}

/// Formats the units of one evaluated chunk into bytes.
pub type ChunkFormat<'f> = dyn Fn(&Evaluation, &mut Vec<u8>) -> Result<(), String> + Sync + 'f;

/// What a streaming evaluation found.
#[derive(Debug, Default)]
pub struct Streamed {
    /// The data's errors, warnings and skipped rows (`rows` is empty).
    pub data: DataSet,
    /// The units evaluated and written.
    pub units: usize,
    /// Whether any piece was written.
    pub wrote: bool,
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
/// formatted units (evaluated with `detail`) to `out` in data order, `sep` between two non-empty
/// pieces. When the data has an error (and `skip_bad_rows` is off), the
/// evaluation stops but the reading goes on, so that every error is found;
/// what was written is then the caller's to discard. `progress` is told
/// how many rows have been handed out.
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
    let workers = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let slots = in_flight(workers);
    let (job_tx, job_rx) = sync_channel::<(usize, Vec<UnitRow>)>(workers);
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = channel::<(usize, Result<Vec<u8>, String>)>();
        // A chunk may be read only with a token; the writer gives tokens
        // back as it writes, which bounds the chunks alive at once.
        let (token_tx, token_rx) = sync_channel::<()>(slots);
        for _ in 0..slots {
            let _ = token_tx.send(());
        }
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let job_rx = &job_rx;
            scope.spawn(move || loop {
                let job = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, rows)) = job else { return };
                let piece = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    chunk(prog, rows, detail, format)
                }))
                .unwrap_or_else(|_| Err("the evaluation of a chunk failed".into()));
                if done_tx.send((seq, piece)).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let writer = scope.spawn(move || -> Result<bool, String> {
            let mut pending: BTreeMap<usize, Result<Vec<u8>, String>> = BTreeMap::new();
            let mut next = 0;
            let mut wrote = false;
            for (seq, piece) in done_rx {
                pending.insert(seq, piece);
                while let Some(piece) = pending.remove(&next) {
                    next += 1;
                    let bytes = piece?;
                    if !bytes.is_empty() {
                        if wrote {
                            out.write_all(sep).map_err(|e| e.to_string())?;
                        }
                        out.write_all(&bytes).map_err(|e| e.to_string())?;
                        wrote = true;
                    }
                    let _ = token_tx.send(());
                }
            }
            Ok(wrote)
        });
        let mut rows: Vec<UnitRow> = Vec::with_capacity(CHUNK);
        let mut seq = 0usize;
        let mut units = 0usize;
        let mut open = true;
        let mut hand_out = |rows: Vec<UnitRow>, open: &mut bool| {
            if token_rx.recv().is_err() || job_tx.send((seq, rows)).is_err() {
                *open = false;
                return;
            }
            seq += 1;
        };
        let read = data::read_each(prog, paths, locale, skip_bad_rows, &mut |row, clean| {
            if !open {
                return;
            }
            if !clean && !skip_bad_rows {
                // Nothing will be kept: stop evaluating, go on reading.
                open = false;
                rows.clear();
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
        let wrote = writer
            .join()
            .unwrap_or_else(|_| Err("the writer failed".into()))
            .map_err(StreamError::Output)?;
        let data = read?;
        Ok(Streamed { data, units, wrote })
    })
}

/// Evaluate one chunk and format its units.
fn chunk(
    prog: &Program,
    rows: Vec<UnitRow>,
    detail: Detail,
    format: &ChunkFormat<'_>,
) -> Result<Vec<u8>, String> {
    let ev = evaluate_with(prog, rows, detail).map_err(|d| {
        d.first()
            .map(|d| d.message.clone())
            .unwrap_or_else(|| "the evaluation failed".into())
    })?;
    let mut out = Vec::new();
    format(&ev, &mut out)?;
    Ok(out)
}
