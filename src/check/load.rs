//! Reading criteria files and following their `use`s: stdlib modules from
//! the binary, files relative to the importer and inside the project root.

use crate::diag::{codes, Diag, SourceMap, Span};
use crate::stdlib;
use crate::syntax::{self, ast};
use std::path::{Component, Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

/// Largest criteria file read.
pub const LIMIT_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Most files one plan may load through `use`.
pub const LIMIT_IMPORTS: usize = 256;

#[derive(Debug)]
pub struct Loaded {
    pub file: u32,
    pub ast: ast::File,
    /// Where the file lives on disk (`None` for stdlib modules).
    pub path: Option<PathBuf>,
    pub is_std: bool,
    /// The file's text, for quoting conditions in explanations.
    pub text: std::sync::Arc<str>,
}

/// Normalise text as every stage expects it: NFC, with `\n` line ends.
pub fn normalize(text: &str) -> String {
    use unicode_normalization::{is_nfc_quick, IsNormalized};
    // Windows line ends read as `\n`: lines and columns are the same, and
    // a diagnostic's excerpt numbers its lines right (miette counts a
    // `\r\n` line twice).
    let lf;
    let text = if text.contains("\r\n") {
        lf = text.replace("\r\n", "\n");
        lf.as_str()
    } else {
        text
    };
    // Text already in NFC (almost always) is copied, not rebuilt.
    if text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
        return text.to_string();
    }
    text.nfc().collect()
}

/// Decode bytes as UTF-8 text, or say why not.
pub fn decode(bytes: &[u8], name: &str, file_id: u32) -> Result<String, Box<Diag>> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(normalize(s.strip_prefix('\u{FEFF}').unwrap_or(s))),
        Err(e) => Err(Box::new(
            Diag::error(codes::SYNTAX, format!("`{name}` is not UTF-8 text"))
                .at(Span::new(file_id, 0, 0))
                .help(format!(
                    "the first invalid byte is at offset {}; save the file as UTF-8",
                    e.valid_up_to()
                )),
        )),
    }
}

/// The project root: the nearest directory upwards holding `thidua.toml`,
/// else the file's own directory.
pub fn project_root(file: &Path) -> PathBuf {
    let abs = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let dir = abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut cur = Some(dir.as_path());
    while let Some(d) = cur {
        if d.join("thidua.toml").is_file() {
            return d.to_path_buf();
        }
        cur = d.parent();
    }
    dir
}

/// An error that stops a run before any checking: the named file itself
/// cannot be read (exit code 2).
#[derive(Debug)]
pub struct Unreadable(pub String);

pub struct Loader<'s> {
    pub sources: &'s mut SourceMap,
    pub root: PathBuf,
    pub files: Vec<Loaded>,
    pub diags: Vec<Diag>,
    stack: Vec<String>,
    done: Vec<String>,
}

impl<'s> Loader<'s> {
    pub fn new(sources: &'s mut SourceMap, root: PathBuf) -> Self {
        Loader {
            sources,
            root,
            files: Vec::new(),
            diags: Vec::new(),
            stack: Vec::new(),
            done: Vec::new(),
        }
    }

    /// Load the main file from disk.
    pub fn load_main(&mut self, path: &Path) -> Result<Option<usize>, Unreadable> {
        let meta = std::fs::metadata(path)
            .map_err(|e| Unreadable(format!("cannot read `{}`: {e}", path.display())))?;
        if meta.is_dir() {
            return Err(Unreadable(format!("`{}` is a directory", path.display())));
        }
        if !meta.is_file() {
            return Err(Unreadable(format!(
                "`{}` is not a regular file",
                path.display()
            )));
        }
        let name = path.display().to_string();
        if meta.len() > LIMIT_FILE_BYTES {
            let id = self.sources.add(name.clone(), Some(path.to_path_buf()), "");
            self.diags.push(
                Diag::error(
                    codes::LIMIT,
                    format!(
                        "`{name}` is larger than {} MiB",
                        LIMIT_FILE_BYTES / 1024 / 1024
                    ),
                )
                .at(Span::new(id, 0, 0))
                .help("criteria files are small; split the file with `use`"),
            );
            return Ok(None);
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Unreadable(format!("cannot read `{}`: {e}", path.display())))?;
        let key = canonical_key(path);
        Ok(self.load_text(&bytes, name, Some(path.to_path_buf()), key, false))
    }

    /// Load source text that is not on disk (the REPL, tests).
    pub fn load_str(&mut self, text: &str, name: &str, base: Option<PathBuf>) -> Option<usize> {
        self.load_text(
            text.as_bytes(),
            name.to_string(),
            base,
            name.to_string(),
            false,
        )
    }

    fn load_text(
        &mut self,
        bytes: &[u8],
        name: String,
        path: Option<PathBuf>,
        key: String,
        is_std: bool,
    ) -> Option<usize> {
        let placeholder = self.sources.files.len() as u32;
        let text = match decode(bytes, &name, placeholder) {
            Ok(t) => t,
            Err(d) => {
                self.sources.add(name, path, "");
                self.diags.push(*d);
                return None;
            }
        };
        let id = self.sources.add(name, path.clone(), &text);
        self.stack.push(key.clone());
        let parsed = syntax::parse(&text, id);
        let result = match parsed {
            Err(ds) => {
                self.diags.extend(ds);
                None
            }
            Ok(ast) => {
                for item in &ast.items {
                    if let ast::Item::Use(u) = item {
                        self.follow(u, path.as_deref(), is_std);
                    }
                }
                self.files.push(Loaded {
                    file: id,
                    ast,
                    path,
                    is_std,
                    text: std::sync::Arc::from(text.as_str()),
                });
                Some(self.files.len() - 1)
            }
        };
        self.stack.pop();
        self.done.push(key);
        result
    }

    fn follow(&mut self, u: &ast::Use, importer: Option<&Path>, importer_std: bool) {
        if self.files.len() + self.stack.len() > LIMIT_IMPORTS {
            self.diags.push(
                Diag::error(
                    codes::LIMIT,
                    format!("more than {LIMIT_IMPORTS} files are loaded through `use`"),
                )
                .at(u.span),
            );
            return;
        }
        match &u.target {
            ast::UseTarget::Module(m) => {
                let key = format!("<{m}>");
                if self.stack.contains(&key) {
                    self.diags.push(
                        Diag::error(codes::IMPORT, format!("`use {m}` forms an import cycle"))
                            .at(u.span),
                    );
                    return;
                }
                if self.done.contains(&key) {
                    return;
                }
                match stdlib::module(m) {
                    Some((file, src)) => {
                        self.load_text(src.as_bytes(), format!("<stdlib>/{file}"), None, key, true);
                    }
                    None => {
                        let names: Vec<&str> = stdlib::names().collect();
                        let mut d = Diag::error(
                            codes::IMPORT,
                            format!("there is no standard module `{m}`"),
                        )
                        .at(u.span);
                        d = match crate::diag::nearest(m, names.iter().copied()) {
                            Some(n) => d.help(format!("did you mean `{n}`?")),
                            None => {
                                d.help(format!("the standard modules are {}", names.join(", ")))
                            }
                        };
                        self.diags.push(d);
                    }
                }
            }
            ast::UseTarget::File(rel) => {
                if importer_std {
                    self.diags.push(
                        Diag::error(codes::IMPORT, "a standard module cannot use files").at(u.span),
                    );
                    return;
                }
                let Some(importer) = importer else {
                    self.diags.push(
                        Diag::error(
                            codes::IMPORT,
                            format!("`use \"{rel}\"` has no file to be relative to"),
                        )
                        .at(u.span),
                    );
                    return;
                };
                match self.resolve(rel, importer) {
                    Err(msg) => self.diags.push(
                        Diag::error(codes::IMPORT, msg)
                            .at(u.span)
                            .help("a `use` path is relative to the importing file and stays inside the project root"),
                    ),
                    Ok(target) => {
                        let key = canonical_key(&target);
                        if self.stack.contains(&key) {
                            self.diags
                                .push(Diag::error(codes::IMPORT, format!("`use \"{rel}\"` forms an import cycle")).at(u.span));
                            return;
                        }
                        if self.done.contains(&key) {
                            return;
                        }
                        // Size and kind first: a huge or special file is refused unread.
                        match std::fs::metadata(&target) {
                            Ok(m) if !m.is_file() => {
                                self.diags.push(Diag::error(codes::IMPORT, format!("`{rel}` is not a regular file")).at(u.span));
                                return;
                            }
                            Ok(m) if m.len() > LIMIT_FILE_BYTES => {
                                self.diags.push(Diag::error(codes::LIMIT, format!("`{rel}` is too large")).at(u.span));
                                return;
                            }
                            _ => {}
                        }
                        match std::fs::read(&target) {
                            Ok(bytes) if bytes.len() as u64 <= LIMIT_FILE_BYTES => {
                                self.load_text(&bytes, display_name(&target), Some(target.clone()), key, false);
                            }
                            Ok(_) => self.diags.push(Diag::error(codes::LIMIT, format!("`{rel}` is too large")).at(u.span)),
                            Err(e) => self
                                .diags
                                .push(Diag::error(codes::IMPORT, format!("cannot read `{rel}`: {e}")).at(u.span)),
                        }
                    }
                }
            }
        }
    }

    fn resolve(&self, rel: &str, importer: &Path) -> Result<PathBuf, String> {
        resolve_in_root(rel, importer, &self.root)
    }
}

/// A path written in a criteria file (`use "…"`, a test's `data "…"`),
/// relative to the file that wrote it and confined to the project root: no
/// URLs, no absolute paths, no `..` out of the root, no symbolic links out.
pub fn resolve_in_root(rel: &str, importer: &Path, root: &Path) -> Result<PathBuf, String> {
    {
        if rel.contains("://") {
            return Err(format!("`{rel}` is a URL; thidua reads only local files"));
        }
        let p = Path::new(rel);
        if p.is_absolute() || rel.starts_with('/') || rel.starts_with('\\') {
            return Err(format!("`{rel}` is an absolute path"));
        }
        let dir = importer
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let mut out = dir.clone();
        for c in p.components() {
            match c {
                Component::Normal(s) => out.push(s),
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                _ => return Err(format!("`{rel}` is not a relative path")),
            }
        }
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        if !out.starts_with(&root) {
            return Err(format!(
                "`{rel}` is outside the project root `{}`",
                display_name(&root)
            ));
        }
        if !out.exists() {
            return Err(format!("`{rel}` does not exist"));
        }
        // Symlinks must not lead out of the tree either.
        let real = std::fs::canonicalize(&out).map_err(|e| format!("cannot read `{rel}`: {e}"))?;
        if !real.starts_with(&root) {
            return Err(format!(
                "`{rel}` leads outside the project root through a symbolic link"
            ));
        }
        Ok(real)
    }
}

fn canonical_key(p: &Path) -> String {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// How a file is named in reports: relative to the working directory when it
/// lies below it, as the user would type it.
fn display_name(path: &Path) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|d| std::fs::canonicalize(d).ok());
    match cwd.as_deref().and_then(|d| path.strip_prefix(d).ok()) {
        Some(rel) if rel.as_os_str().is_empty() => ".".into(),
        Some(rel) => rel.display().to_string(),
        None => path.display().to_string(),
    }
}
