//! Output written as it is made, and kept only when the command succeeds:
//! a file is written to a temporary file beside it and renamed; standard
//! output is held back (in memory, then in a temporary file past a few
//! MiB) and copied out at the end. Either way a failed run leaves nothing
//! behind, and memory does not grow with the output.

use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

/// Bytes kept in memory before standard output spills to a temporary file.
const SPILL_AT: usize = 8 << 20;

pub enum Output {
    File {
        path: PathBuf,
        tmp: BufWriter<tempfile::NamedTempFile>,
    },
    Stdout {
        mem: Vec<u8>,
        spill: Option<BufWriter<std::fs::File>>,
    },
}

impl Output {
    pub fn new(out: Option<&Path>) -> Result<Output, String> {
        match out {
            None => Ok(Output::Stdout {
                mem: Vec::new(),
                spill: None,
            }),
            Some(path) => {
                let dir = path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let tmp = tempfile::NamedTempFile::new_in(dir)
                    .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
                super::keep_permissions(path, tmp.path());
                Ok(Output::File {
                    path: path.to_path_buf(),
                    tmp: BufWriter::with_capacity(1 << 16, tmp),
                })
            }
        }
    }

    /// Keep what was written: rename the file into place, or copy the
    /// held-back bytes to standard output.
    pub fn commit(self) -> Result<(), String> {
        match self {
            Output::File { path, tmp } => {
                let err =
                    |e: &dyn std::fmt::Display| format!("cannot write `{}`: {e}", path.display());
                let tmp = tmp.into_inner().map_err(|e| err(&e.error()))?;
                tmp.persist(&path).map_err(|e| err(&e.error))?;
                Ok(())
            }
            Output::Stdout { mem, spill } => {
                let err = |e: std::io::Error| format!("cannot write the output: {e}");
                let mut so = std::io::stdout().lock();
                if let Some(spill) = spill {
                    let mut file = spill.into_inner().map_err(|e| err(e.into_error()))?;
                    file.rewind().map_err(err)?;
                    std::io::copy(&mut file, &mut so).map_err(err)?;
                }
                so.write_all(&mem).map_err(err)?;
                so.flush().map_err(err)
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::File { tmp, .. } => tmp.write(buf),
            Output::Stdout { mem, spill } => {
                if let Some(f) = spill {
                    return f.write(buf);
                }
                if mem.len() + buf.len() <= SPILL_AT {
                    mem.extend_from_slice(buf);
                    return Ok(buf.len());
                }
                let mut f = BufWriter::with_capacity(1 << 16, tempfile::tempfile()?);
                f.write_all(mem)?;
                mem.clear();
                mem.shrink_to_fit();
                f.write_all(buf)?;
                *spill = Some(f);
                Ok(buf.len())
            }
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::File { tmp, .. } => tmp.flush(),
            Output::Stdout { spill, .. } => spill.as_mut().map(|f| f.flush()).unwrap_or(Ok(())),
        }
    }
}
