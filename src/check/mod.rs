//! Syntax tree → checked campaign (`ir::Program`): names, types, units of
//! measure and dates resolved, every error collected.

mod expr;
pub mod load;

use crate::diag::{codes, nearest, Diag, SourceMap, Span};
use crate::ir::*;
use crate::syntax::ast::{
    self, CampaignItem, CmpOp, Direction, Item, PointsMode, Require, Step as AstStep,
};
use crate::value::{scale_factor, Dim, Display, DurKind, Type, UnitDef, Value};
use chrono::NaiveDate;
use indexmap::IndexMap;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use load::{normalize, project_root, Unreadable};

/// The result of checking one file.
pub struct Checked {
    pub program: Option<Program>,
    pub diags: Vec<Diag>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.is_error())
    }
}

/// Load a file from disk with everything it uses, and check it.
pub fn check_file(path: &Path, sources: &mut SourceMap) -> Result<Checked, Unreadable> {
    let root = project_root(path);
    let mut loader = load::Loader::new(sources, root);
    let main = loader.load_main(path)?;
    Ok(finish(loader, main))
}

/// Check source text that is not on disk; `base` is the path its `use`s
/// are relative to.
pub fn check_str(
    text: &str,
    name: &str,
    base: Option<PathBuf>,
    sources: &mut SourceMap,
) -> Checked {
    let (loader, main) = load_main(text, name, base, sources);
    finish(loader, main)
}

/// A loader with the file `text` (named `name`, at `base`) and what it
/// uses loaded; the main file's index.
fn load_main<'s>(
    text: &str,
    name: &str,
    base: Option<PathBuf>,
    sources: &'s mut SourceMap,
) -> (load::Loader<'s>, Option<usize>) {
    let root = base
        .as_deref()
        .map(project_root)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut loader = load::Loader::new(sources, root);
    let main = loader.load_str(text, name, base);
    (loader, main)
}

/// An expression typed in the REPL, checked against a plan as a condition
/// read after the evaluation: with the unit's `score`, `rank`, `rating`,
/// criteria and awards in scope, as in a test, but unqualified (the REPL's
/// current unit).
pub struct Probe {
    pub expr: IExpr,
    pub ty: Type,
    pub display: Display,
}

/// [`check_str`], and `probe` (an expression, in a source file of its own
/// named `<input>`) checked as a [`Probe`]. The probe's diagnostics point
/// into that file.
pub fn check_str_probe(
    text: &str,
    name: &str,
    base: Option<PathBuf>,
    sources: &mut SourceMap,
    probe: &str,
) -> (Checked, Option<Probe>) {
    let (loader, main) = load_main(text, name, base, sources);
    let file = loader.sources.add("<input>", None, probe);
    match crate::syntax::parse_expr(probe, file) {
        Ok(e) => finish_with(loader, main, Some(&e)),
        Err(diags) => {
            let mut checked = finish(loader, main);
            checked.diags.extend(diags);
            checked.program = None;
            (checked, None)
        }
    }
}

fn finish(loader: load::Loader, main: Option<usize>) -> Checked {
    finish_with(loader, main, None).0
}

fn finish_with(
    loader: load::Loader,
    main: Option<usize>,
    probe: Option<&ast::Expr>,
) -> (Checked, Option<Probe>) {
    let load::Loader {
        files, mut diags, ..
    } = loader;
    let Some(main) = main else {
        let program = None;
        return (Checked { program, diags }, None);
    };
    if diags.iter().any(|d| d.is_error()) {
        let program = None;
        return (Checked { program, diags }, None);
    }
    let mut c = Checker::new(&files, main);
    let program = c.run();
    let probe = match (&program, probe) {
        (Some(_), Some(e)) => {
            let (expr, ty, display) = c.expr(e, &expr::Scope::session(), None);
            Some(Probe { expr, ty, display })
        }
        _ => None,
    };
    diags.extend(c.diags);
    if diags.iter().any(|d| d.is_error()) {
        let program = None;
        return (Checked { program, diags }, None);
    }
    (Checked { program, diags }, probe)
}

/// Every built-in unit word of the duration dimension.
pub fn duration_unit(word: &str) -> Option<(DurKind, Decimal)> {
    Some(match word {
        "day" | "days" | "ngày" => (DurKind::Days, Decimal::ONE),
        "week" | "weeks" | "tuần" => (DurKind::Days, Decimal::from(7)),
        "month" | "months" | "tháng" => (DurKind::Months, Decimal::ONE),
        "year" | "years" | "năm" => (DurKind::Months, Decimal::from(12)),
        _ => return None,
    })
}

pub const RATING_SET: usize = usize::MAX;

/// Longest chain of lets that read each other.
pub const LIMIT_LET_DEPTH: usize = 512;

#[derive(Clone)]
enum LetState {
    Unchecked,
    InProgress,
    Done,
}

struct GlobalChecklist<'a> {
    decl: &'a ast::ChecklistDecl,
}

pub(crate) struct Checker<'a> {
    files: &'a [load::Loaded],
    main: usize,
    pub diags: Vec<Diag>,
    pub units: Vec<UnitDef>,
    unit_names: HashMap<String, usize>,
    unit_files: Vec<u32>,
    pub levels: Vec<LevelSet>,
    level_names: HashMap<String, usize>,
    level_files: Vec<u32>,
    global_indicators: IndexMap<String, &'a ast::IndicatorDecl>,
    global_checklists: IndexMap<String, GlobalChecklist<'a>>,
    global_awards: IndexMap<String, &'a ast::AwardDecl>,
    pub indicators: Vec<Indicator>,
    indicator_names: HashMap<String, usize>,
    indicator_used: Vec<bool>,
    campaign_indicator: Vec<bool>,
    lets_ast: IndexMap<String, &'a ast::LetDecl>,
    let_state: Vec<LetState>,
    let_slots: Vec<Option<Let>>,
    let_order: Vec<usize>,
    pub criteria_names: HashMap<String, usize>,
    pub criteria_kinds: Vec<&'static str>,
    pub award_names: IndexMap<String, Span>,
    pub rating_branches: Vec<String>,
    period: Option<(NaiveDate, NaiveDate)>,
    pub uses_history: bool,
    /// Names a declaration was refused for (a reserved field, a unit's
    /// result): reading one is not reported again as an unknown name.
    pub refused_names: HashSet<String>,
    let_depth: usize,
}

impl<'a> Checker<'a> {
    fn new(files: &'a [load::Loaded], main: usize) -> Self {
        Checker {
            files,
            main,
            diags: Vec::new(),
            units: Vec::new(),
            unit_names: HashMap::new(),
            unit_files: Vec::new(),
            levels: Vec::new(),
            level_names: HashMap::new(),
            level_files: Vec::new(),
            global_indicators: IndexMap::new(),
            global_checklists: IndexMap::new(),
            global_awards: IndexMap::new(),
            indicators: Vec::new(),
            indicator_names: HashMap::new(),
            indicator_used: Vec::new(),
            campaign_indicator: Vec::new(),
            lets_ast: IndexMap::new(),
            let_state: Vec::new(),
            let_slots: Vec::new(),
            let_order: Vec::new(),
            criteria_names: HashMap::new(),
            criteria_kinds: Vec::new(),
            award_names: IndexMap::new(),
            rating_branches: Vec::new(),
            period: None,
            uses_history: false,
            refused_names: HashSet::new(),
            let_depth: 0,
        }
    }

    pub(crate) fn err(
        &mut self,
        code: &'static str,
        span: Span,
        msg: impl Into<String>,
    ) -> &mut Diag {
        self.push(Diag::error(code, msg).at(span))
    }

    pub(crate) fn warn(
        &mut self,
        code: &'static str,
        span: Span,
        msg: impl Into<String>,
    ) -> &mut Diag {
        self.push(Diag::warning(code, msg).at(span))
    }

    /// Record a diagnostic and hand it back for its help line.
    #[allow(
        clippy::indexing_slicing,
        reason = "the index is that of the diagnostic just pushed"
    )]
    fn push(&mut self, d: Diag) -> &mut Diag {
        self.diags.push(d);
        let n = self.diags.len() - 1;
        &mut self.diags[n]
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    fn run(&mut self) -> Option<Program> {
        self.collect_globals();
        // The campaign: the main file's, else the one campaign it imports.
        let main_file = &self.files[self.main];
        let mut campaign: Option<&'a ast::Campaign> = None;
        let mut campaigns_in_main = 0;
        for item in &main_file.ast.items {
            if let Item::Campaign(c) = item {
                campaigns_in_main += 1;
                if campaign.is_none() {
                    campaign = Some(c);
                } else {
                    self.err(
                        codes::DUPLICATE,
                        c.name.span,
                        "a file holds at most one `campaign`",
                    )
                    .help = Some("move the second campaign into a file of its own".into());
                }
            }
        }
        if campaigns_in_main == 0 {
            let imported: Vec<&'a ast::Campaign> = self
                .files
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != self.main)
                .flat_map(|(_, f)| f.ast.items.iter())
                .filter_map(|i| {
                    if let Item::Campaign(c) = i {
                        Some(c)
                    } else {
                        None
                    }
                })
                .collect();
            if imported.len() == 1 {
                campaign = imported.first().copied();
            }
        }
        let mut program = Program {
            plan_path: main_file.path.clone(),
            ..Default::default()
        };
        match campaign {
            Some(c) => self.campaign(c, &mut program),
            None => self.library(&mut program),
        }
        // File-level tests of the main file run against the campaign.
        let mut tests = Vec::new();
        for item in &self.files[self.main].ast.items {
            if let Item::Test(t) = item {
                if campaign.is_none() {
                    self.err(
                        codes::NO_CAMPAIGN,
                        t.span,
                        "this test has no campaign to evaluate",
                    )
                    .help = Some(
                        "declare a campaign in this file, or `use \"plan.thidua\"` to test one"
                            .into(),
                    );
                    continue;
                }
                if let Some(ts) = self.test(t, &program) {
                    tests.push(ts);
                }
            }
        }
        program.tests.extend(tests);
        program.units = self.units.clone();
        program.levels = self.levels.clone();
        program.indicators = self.indicators.clone();
        program.uses_history = self.uses_history;
        Some(program)
    }

    // ------------------------------------------------------------ globals

    fn collect_globals(&mut self) {
        let files = self.files;
        for f in files {
            for item in &f.ast.items {
                match item {
                    Item::Unit(u) => self.unit_decl(u),
                    Item::Levels(l) => self.levels_decl(l),
                    Item::Indicator(i) => {
                        if self.overrides(
                            i.name.span,
                            self.global_indicators
                                .get(&i.name.name)
                                .map(|p| p.name.span),
                        ) {
                            self.global_indicators.insert(i.name.name.clone(), i);
                        } else if let Some(prev) = self.global_indicators.get(&i.name.name) {
                            let prev_span = prev.name.span;
                            self.err(
                                codes::DUPLICATE,
                                i.name.span,
                                format!("indicator `{}` is declared twice", i.name.name),
                            )
                            .related
                            .push((prev_span, "first declared here".into()));
                        } else {
                            self.global_indicators.insert(i.name.name.clone(), i);
                        }
                    }
                    Item::Checklist(c) => {
                        if c.head.label.is_none() && c.items.is_empty() {
                            self.err(
                                codes::UNKNOWN_NAME,
                                c.head.name.span,
                                "a checklist declared outside a campaign needs its items",
                            )
                            .help = Some(
                                "add `item …` lines, or move this line into the campaign".into(),
                            );
                        } else if self.overrides(
                            c.head.name.span,
                            self.global_checklists
                                .get(&c.head.name.name)
                                .map(|p| p.decl.head.name.span),
                        ) {
                            self.global_checklists
                                .insert(c.head.name.name.clone(), GlobalChecklist { decl: c });
                        } else if let Some(prev) = self.global_checklists.get(&c.head.name.name) {
                            let prev_span = prev.decl.head.name.span;
                            self.err(
                                codes::DUPLICATE,
                                c.head.name.span,
                                format!("checklist `{}` is declared twice", c.head.name.name),
                            )
                            .related
                            .push((prev_span, "first declared here".into()));
                        } else {
                            self.global_checklists
                                .insert(c.head.name.name.clone(), GlobalChecklist { decl: c });
                        }
                    }
                    Item::Award(a) => {
                        if self.overrides(
                            a.name.span,
                            self.global_awards.get(&a.name.name).map(|p| p.name.span),
                        ) {
                            self.global_awards.insert(a.name.name.clone(), a);
                        } else if let Some(prev) = self.global_awards.get(&a.name.name) {
                            let prev_span = prev.name.span;
                            self.err(
                                codes::DUPLICATE,
                                a.name.span,
                                format!("award `{}` is declared twice", a.name.name),
                            )
                            .related
                            .push((prev_span, "first declared here".into()));
                        } else {
                            self.global_awards.insert(a.name.name.clone(), a);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Whether a declaration of the file being checked replaces one that a
    /// library made (a province overriding a title, a plan restating a unit).
    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    fn overrides(&self, new: Span, prev: Option<Span>) -> bool {
        let main_file = self.files[self.main].file;
        matches!(prev, Some(p) if new.file == main_file && p.file != main_file)
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    fn unit_decl(&mut self, u: &ast::UnitDecl) {
        let name = u.name.name.clone();
        let main_file = self.files[self.main].file;
        let mut replace = None;
        if let Some(&prev) = self.unit_names.get(&name) {
            // The file being checked may restate or override a library's unit.
            if u.name.span.file == main_file && self.unit_files.get(prev) != Some(&main_file) {
                replace = Some(prev);
            } else {
                self.err(
                    codes::DUPLICATE,
                    u.name.span,
                    format!("unit `{name}` is declared twice"),
                );
                return;
            }
        }
        if duration_unit(&name).is_some()
            || crate::value::scale_factor(std::slice::from_ref(&name)).is_some()
        {
            self.err(
                codes::DUPLICATE,
                u.name.span,
                format!("`{name}` is a builtin unit word"),
            );
            return;
        }
        let label = u.label.as_ref().map(|s| s.value.clone());
        let def = match &u.def {
            None => UnitDef {
                name: name.clone(),
                label,
                base: replace.unwrap_or(self.units.len()) as u32,
                factor: Decimal::ONE,
            },
            Some((q, span)) => {
                if q.unit.per.is_some() {
                    self.err(
                        codes::UNIT_MISMATCH,
                        *span,
                        "a unit is defined as a multiple of one plain unit",
                    );
                    return;
                }
                let Some(&of) = self.unit_names.get(&q.unit.num.name) else {
                    let cands: Vec<String> = self.unit_names.keys().cloned().collect();
                    let d = self.err(
                        codes::UNKNOWN_NAME,
                        q.unit.num.span,
                        format!("unknown unit `{}`", q.unit.num.name),
                    );
                    if let Some(n) = nearest(&q.unit.num.name, cands.iter().map(|s| s.as_str())) {
                        d.help = Some(format!("did you mean `{n}`?"));
                    }
                    return;
                };
                let base = self.units[of].clone();
                let scale = scale_factor(&q.scale).unwrap_or(Decimal::ONE);
                let factor = q
                    .value
                    .checked_mul(scale)
                    .and_then(|v| v.checked_mul(base.factor))
                    .unwrap_or(Decimal::ONE);
                UnitDef {
                    name: name.clone(),
                    label,
                    base: base.base,
                    factor,
                }
            }
        };
        if let Some(i) = replace {
            self.units[i] = def;
            return;
        }
        self.unit_names.insert(name, self.units.len());
        self.units.push(def);
        self.unit_files.push(u.name.span.file);
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    fn levels_decl(&mut self, l: &ast::LevelsDecl) {
        let mut replace = None;
        if let Some(&prev) = self.level_names.get(&l.name.name) {
            if l.name.span.file == self.files[self.main].file
                && self.level_files.get(prev) != Some(&l.name.span.file)
            {
                replace = Some(prev);
            } else {
                self.err(
                    codes::DUPLICATE,
                    l.name.span,
                    format!("levels `{}` is declared twice", l.name.name),
                );
                return;
            }
        }
        let mut seen = HashSet::new();
        let mut levels = Vec::new();
        for e in &l.entries {
            if !seen.insert(e.name.name.clone()) {
                self.err(
                    codes::DUPLICATE,
                    e.name.span,
                    format!("level `{}` is declared twice", e.name.name),
                );
            }
            levels.push(Level {
                id: e.name.name.clone(),
                label: e.label.as_ref().map(|s| s.value.clone()),
                aliases: e.aliases.iter().map(|s| s.value.clone()).collect(),
            });
        }
        let set = LevelSet {
            id: l.name.name.clone(),
            label: l.label.as_ref().map(|s| s.value.clone()),
            levels,
        };
        if let Some(i) = replace {
            self.levels[i] = set;
            return;
        }
        self.level_names
            .insert(l.name.name.clone(), self.levels.len());
        self.level_files.push(l.name.span.file);
        self.levels.push(set);
    }

    /// A written unit with its scale: its type and display.
    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    pub(crate) fn resolve_unit(
        &mut self,
        scale: &[String],
        u: &ast::UnitRef,
    ) -> Option<(Type, Display)> {
        let scale_f = match scale_factor(scale) {
            Some(f) => f,
            None => {
                self.err(codes::OVERFLOW, u.span, "this scale is too large");
                return None;
            }
        };
        let mut text = String::new();
        if !scale.is_empty() {
            text.push_str(&scale.join(" "));
            text.push(' ');
        }
        text.push_str(&u.num.name);
        if u.per.is_none() {
            if let Some((kind, f)) = duration_unit(&u.num.name) {
                if !scale.is_empty() {
                    self.err(
                        codes::UNIT_MISMATCH,
                        u.span,
                        "a duration takes no scale word",
                    );
                }
                return Some((
                    Type::Duration(kind),
                    Display {
                        factor: f,
                        text: Some(text),
                    },
                ));
            }
        }
        let num = self.unit_index(&u.num)?;
        let mut factor = scale_f.checked_mul(self.units[num].factor)?;
        let mut dim = Dim {
            num: self.units[num].base,
            den: None,
        };
        if let Some(per) = &u.per {
            let (n, den) = &**per;
            let di = self.unit_index(den)?;
            let n = n.as_ref().map(|(n, _)| *n).unwrap_or(Decimal::ONE);
            if n.is_zero() {
                self.err(codes::UNIT_MISMATCH, u.span, "a unit cannot be per zero");
                return None;
            }
            factor = factor.checked_div(n.checked_mul(self.units[di].factor)?)?;
            dim.den = Some(self.units[di].base);
            text.push('/');
            if let Some((_, written)) = u.per.as_ref().and_then(|p| p.0.as_ref()) {
                text.push_str(written);
                text.push(' ');
            }
            text.push_str(&den.name);
        }
        Some((
            Type::Quantity(dim),
            Display {
                factor,
                text: Some(text),
            },
        ))
    }

    fn unit_index(&mut self, id: &ast::Ident) -> Option<usize> {
        if let Some(&i) = self.unit_names.get(&id.name) {
            return Some(i);
        }
        let mut cands: Vec<String> = self.unit_names.keys().cloned().collect();
        cands.sort();
        let d = self.err(
            codes::UNKNOWN_NAME,
            id.span,
            format!("unknown unit `{}`", id.name),
        );
        d.help = Some(match nearest(&id.name, cands.iter().map(|s| s.as_str())) {
            Some(n) => format!("did you mean `{n}`?"),
            None if cands.is_empty() => format!(
                "declare it with `unit {} \"…\"`, or `use std.units`",
                id.name
            ),
            None => format!("declare it with `unit {} \"…\"`", id.name),
        });
        None
    }

    fn type_of(&mut self, t: &ast::TypeExpr) -> Option<(Type, Display)> {
        if t.scale.is_empty() && t.unit.per.is_none() {
            let n = t.unit.num.name.as_str();
            let simple = match n {
                "number" => Some((Type::Number, Display::plain())),
                "percent" => Some((Type::Percent, Display::percent())),
                "bool" => Some((Type::Bool, Display::plain())),
                "date" => Some((Type::Date, Display::plain())),
                "duration" => Some((
                    Type::Duration(DurKind::Days),
                    Display {
                        factor: Decimal::ONE,
                        text: Some("days".into()),
                    },
                )),
                "text" => Some((Type::Text, Display::plain())),
                _ => None,
            };
            if simple.is_some() {
                return simple;
            }
            if let Some(&l) = self.level_names.get(n) {
                return Some((Type::Level(l), Display::plain()));
            }
            if !self.unit_names.contains_key(n) && duration_unit(n).is_none() {
                let mut cands: Vec<String> =
                    ["number", "percent", "bool", "date", "duration", "text"]
                        .iter()
                        .map(|s| s.to_string())
                        .chain(self.level_names.keys().cloned())
                        .chain(self.unit_names.keys().cloned())
                        .collect();
                cands.sort();
                let d = self.err(
                    codes::UNKNOWN_NAME,
                    t.unit.num.span,
                    format!("unknown type or unit `{n}`"),
                );
                d.help = Some(match nearest(n, cands.iter().map(|s| s.as_str())) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => "a type is `number`, `percent`, `bool`, `date`, `duration`, `text`, a `levels` name or a unit".into(),
                });
                return None;
            }
        }
        self.resolve_unit(&t.scale, &t.unit)
    }

    /// Names the data and the conditions already give a meaning to.
    fn clashes_with_builtin(&mut self, name: &ast::Ident, what: &str) -> bool {
        let why = match name.name.as_str() {
            "id" | "name" | "bloc" | "kind" | "parent" | "period" | "awards" => {
                "a reserved data field"
            }
            "score" | "rank" | "rating" => "read in ratings and awards as the unit's result",
            _ => return false,
        };
        self.refused_names.insert(name.name.clone());
        self.err(
            codes::DUPLICATE,
            name.span,
            format!("`{}` is {why}", name.name),
        )
        .help = Some(format!(
            "give the {what} another name, e.g. `{}_`",
            name.name
        ));
        true
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    fn add_indicator(&mut self, d: &ast::IndicatorDecl, campaign: bool) -> Option<usize> {
        if self.clashes_with_builtin(&d.name, "indicator") {
            return None;
        }
        if let Some(&prev) = self.indicator_names.get(&d.name.name) {
            let prev_span = self.indicators[prev].span;
            self.err(
                codes::DUPLICATE,
                d.name.span,
                format!("indicator `{}` is declared twice", d.name.name),
            )
            .related
            .push((prev_span, "first declared here".into()));
            return None;
        }
        let (ty, display) = self
            .type_of(&d.ty)
            .unwrap_or((Type::Error, Display::plain()));
        Some(self.push_indicator(
            Indicator {
                id: d.name.name.clone(),
                label: d.label.as_ref().map(|s| s.value.clone()),
                ty,
                display,
                blank_false: false,
                span: d.name.span,
                doc: d.doc.0.clone(),
            },
            campaign,
        ))
    }

    fn push_indicator(&mut self, ind: Indicator, campaign: bool) -> usize {
        self.indicator_names
            .insert(ind.id.clone(), self.indicators.len());
        self.indicators.push(ind);
        self.indicator_used.push(false);
        self.campaign_indicator.push(campaign);
        self.indicators.len() - 1
    }

    /// Resolve an indicator by name, pulling a library one in on first use.
    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    pub(crate) fn indicator(&mut self, name: &str) -> Option<usize> {
        if let Some(&i) = self.indicator_names.get(name) {
            self.indicator_used[i] = true;
            return Some(i);
        }
        let d = *self.global_indicators.get(name)?;
        let i = self.add_indicator(d, false)?;
        self.indicator_used[i] = true;
        Some(i)
    }

    pub(crate) fn level_value(&self, name: &str, set: Option<usize>) -> Option<(usize, u32)> {
        let sets: Vec<usize> = match set {
            Some(s) if s != RATING_SET => vec![s],
            _ => (0..self.levels.len()).collect(),
        };
        for s in sets {
            if let Some(i) = self
                .levels
                .get(s)
                .and_then(|l| l.levels.iter().position(|x| x.id == name))
            {
                return Some((s, i as u32));
            }
        }
        None
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    pub(crate) fn let_type(&mut self, name: &str, span: Span) -> Option<(usize, Type, Display)> {
        let idx = self.lets_ast.get_index_of(name)?;
        match self.let_state[idx] {
            LetState::Done => {
                let l = self.let_slots[idx].as_ref()?;
                Some((idx, l.ty.clone(), l.display.clone()))
            }
            LetState::InProgress => {
                self.err(codes::CYCLE, span, format!("`{name}` depends on itself"))
                    .help =
                    Some("a `let` cannot use its own value, directly or through other lets".into());
                Some((idx, Type::Error, Display::plain()))
            }
            LetState::Unchecked => {
                self.check_let(idx);
                self.let_slots[idx]
                    .as_ref()
                    .map(|l| (idx, l.ty.clone(), l.display.clone()))
            }
        }
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    fn check_let(&mut self, idx: usize) {
        let Some((_, decl)) = self.lets_ast.get_index(idx) else {
            return;
        };
        let decl: &'a ast::LetDecl = decl;
        self.let_state[idx] = LetState::InProgress;
        let scope = expr::Scope::unit();
        // Lets are checked depth-first through the lets they read; a chain
        // deeper than the limit is a diagnostic, not a stack overflow.
        self.let_depth += 1;
        let (e, ty, display) = if self.let_depth > LIMIT_LET_DEPTH {
            self.err(
                codes::LIMIT,
                decl.name.span,
                format!(
                    "`{}` is reached through more than {LIMIT_LET_DEPTH} lets that read each other",
                    decl.name.name
                ),
            )
            .help = Some("shorten the chain of lets".into());
            (IExpr::Const(Value::Missing), Type::Error, Display::plain())
        } else {
            self.expr(&decl.expr, &scope, None)
        };
        self.let_depth -= 1;
        self.let_slots[idx] = Some(Let {
            id: decl.name.name.clone(),
            expr: e,
            ty,
            display,
            span: decl.name.span,
            doc: decl.doc.0.clone(),
        });
        self.let_state[idx] = LetState::Done;
        self.let_order.push(idx);
    }

    // ------------------------------------------------------------ campaign

    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    fn library(&mut self, program: &mut Program) {
        // A file with no campaign (a library): check what it declares.
        let files = self.files;
        let main = &files[self.main];
        program.info.id = String::new();
        for item in &main.ast.items {
            if let Item::Indicator(d) = item {
                self.indicator(&d.name.name);
            }
        }
        for item in &main.ast.items {
            if let Item::Award(a) = item {
                self.award_names.insert(a.name.name.clone(), a.name.span);
            }
        }
        let mut order = 0;
        for item in &main.ast.items {
            match item {
                Item::Checklist(c) if !c.items.is_empty() || c.head.label.is_some() => {
                    self.register_items(c);
                    self.checklist(c, None, &[], program);
                }
                Item::Award(a) => {
                    let spec = self.award(a, Some(order), program);
                    order += 1;
                    if let Some(s) = spec {
                        program.awards.push(s);
                    }
                }
                _ => {}
            }
        }
    }

    fn campaign(&mut self, c: &'a ast::Campaign, program: &mut Program) {
        program.info.id = c.name.name.clone();
        program.info.title = c.label.as_ref().map(|s| s.value.clone());
        program.info.doc = c.doc.0.clone();
        program.info.span = c.name.span;
        let all_items: Vec<&'a CampaignItem> = c.items.iter().collect();
        // Header.
        for item in &all_items {
            match item {
                CampaignItem::Issuer(s) => program.info.issuer = Some(s.value.clone()),
                CampaignItem::Theme(s) => program.info.theme = Some(s.value.clone()),
                CampaignItem::Basis(v, _) => {
                    program.info.basis.extend(v.iter().map(|s| s.value.clone()))
                }
                CampaignItem::Period(a, b, span) => {
                    let (da, db) = (self.date(a), self.date(b));
                    if let (Some(da), Some(db)) = (da, db) {
                        if db < da {
                            self.err(codes::BAD_DATE, *span, "the period ends before it starts");
                        }
                        program.info.period = Some((da, db));
                        self.period = Some((da, db));
                    }
                }
                _ => {}
            }
        }
        // Flatten sections, remembering each item's section.
        let mut flat: Vec<(&'a CampaignItem, Option<usize>, Vec<&'a ast::Expr>)> = Vec::new();
        #[allow(
            clippy::indexing_slicing,
            reason = "indices come from the checker's own name tables, filled together with the vectors they index"
        )]
        fn walk<'b>(
            items: &[&'b CampaignItem],
            section: Option<usize>,
            conds: Vec<&'b ast::Expr>,
            sections: &mut Vec<(SectionInfo, Span, Vec<&'b ast::Expr>)>,
            flat: &mut Vec<(&'b CampaignItem, Option<usize>, Vec<&'b ast::Expr>)>,
        ) {
            for item in items {
                if let CampaignItem::Section(s) = item {
                    let idx = sections.len();
                    let mut c2 = conds.clone();
                    if let Some(c) = &s.cond {
                        c2.push(c);
                    }
                    sections.push((
                        SectionInfo {
                            id: s.name.name.clone(),
                            label: s.label.as_ref().map(|l| l.value.clone()),
                            parent: section,
                        },
                        s.name.span,
                        c2.clone(),
                    ));
                    let inner: Vec<&CampaignItem> = s.items.iter().collect();
                    walk(&inner, Some(idx), c2, sections, flat);
                } else {
                    flat.push((item, section, conds.clone()));
                }
            }
        }
        let mut sections = Vec::new();
        walk(&all_items, None, Vec::new(), &mut sections, &mut flat);
        let mut seen_sections: HashMap<String, Span> = HashMap::new();
        for (s, span, _) in &sections {
            if let Some(prev) = seen_sections.insert(s.id.clone(), *span) {
                self.err(
                    codes::DUPLICATE,
                    *span,
                    format!("section `{}` is declared twice", s.id),
                )
                .related
                .push((prev, "first declared here".into()));
            }
        }
        program.sections = sections.iter().map(|(s, _, _)| s.clone()).collect();
        // Indicators.
        for (item, _, _) in &flat {
            if let CampaignItem::Indicator(d) = item {
                self.add_indicator(d, true);
            }
        }
        for (item, _, _) in &flat {
            if let CampaignItem::Checklist(cl) = item {
                self.register_items(cl);
            }
        }
        // Lets.
        for (item, _, _) in &flat {
            if let CampaignItem::Let(l) = item {
                if self.lets_ast.contains_key(&l.name.name) {
                    self.err(
                        codes::DUPLICATE,
                        l.name.span,
                        format!("`{}` is declared twice", l.name.name),
                    );
                    continue;
                }
                if self.clashes_with_builtin(&l.name, "`let`") {
                    continue;
                }
                if self.indicator_names.contains_key(&l.name.name) {
                    self.err(
                        codes::DUPLICATE,
                        l.name.span,
                        format!("`{}` is already an indicator", l.name.name),
                    )
                    .help = Some("give the `let` another name".into());
                    continue;
                }
                self.lets_ast.insert(l.name.name.clone(), l);
            }
        }
        self.let_state = vec![LetState::Unchecked; self.lets_ast.len()];
        self.let_slots = vec![None; self.lets_ast.len()];
        // Criterion names first, so ratings can refer to any of them.
        for (item, _, _) in &flat {
            let (name, kind) = match item {
                CampaignItem::Target(t) => (&t.head.name, "target"),
                CampaignItem::Deadline(d) => (&d.head.name, "deadline"),
                CampaignItem::Checklist(c) => (&c.head.name, "checklist"),
                CampaignItem::Adjust(a) => (&a.head.name, "adjust"),
                _ => continue,
            };
            if let Some(&prev) = self.criteria_names.get(&name.name) {
                let _ = prev;
                self.err(
                    codes::DUPLICATE,
                    name.span,
                    format!("criterion `{}` is declared twice", name.name),
                )
                .help = Some("criterion identifiers are unique in the whole campaign".into());
                continue;
            }
            if ["id", "name", "bloc", "score", "rank", "rating", "awards"]
                .contains(&name.name.as_str())
            {
                self.err(
                    codes::DUPLICATE,
                    name.span,
                    format!("`{}` is a fixed output column", name.name),
                )
                .help = Some("choose another criterion id".into());
            }
            self.criteria_names
                .insert(name.name.clone(), self.criteria_kinds.len());
            self.criteria_kinds.push(kind);
        }
        // Award and rating names.
        for (item, _, _) in &flat {
            match item {
                CampaignItem::Award(a) => {
                    if let Some(prev) = self.award_names.get(&a.name.name) {
                        let prev = *prev;
                        self.err(
                            codes::DUPLICATE,
                            a.name.span,
                            format!("award `{}` is named twice", a.name.name),
                        )
                        .related
                        .push((prev, "first here".into()));
                    } else {
                        self.award_names.insert(a.name.name.clone(), a.name.span);
                    }
                }
                CampaignItem::Rating(r) => {
                    if !self.rating_branches.is_empty() {
                        self.err(
                            codes::DUPLICATE,
                            r.name.span,
                            "a campaign has at most one `rating`",
                        );
                        continue;
                    }
                    let mut seen = HashSet::new();
                    for b in &r.branches {
                        if !seen.insert(b.name.name.clone()) {
                            self.err(
                                codes::DUPLICATE,
                                b.name.span,
                                format!("rating branch `{}` is declared twice", b.name.name),
                            );
                        }
                    }
                    self.rating_branches = r.branches.iter().map(|b| b.name.name.clone()).collect();
                }
                _ => {}
            }
        }
        // Lets, in any order.
        for i in 0..self.lets_ast.len() {
            if matches!(self.let_state.get(i), Some(LetState::Unchecked)) {
                self.check_let(i);
            }
        }
        // Criteria, in declaration order.
        let section_conds: Vec<Vec<&ast::Expr>> =
            sections.iter().map(|(_, _, c)| c.clone()).collect();
        let _ = section_conds;
        for (item, section, conds) in &flat {
            match item {
                CampaignItem::Target(t) => {
                    if let Some(c) = self.target(t, *section, conds) {
                        program.criteria.push(c);
                    }
                }
                CampaignItem::Deadline(d) => {
                    if let Some(c) = self.deadline(d, *section, conds) {
                        program.criteria.push(c);
                    }
                }
                CampaignItem::Checklist(cl) => {
                    if let Some(c) = self.checklist(cl, *section, conds, program) {
                        program.criteria.push(c);
                    }
                }
                CampaignItem::Adjust(a) => {
                    if let Some(c) = self.adjust(a, *section, conds) {
                        program.criteria.push(c);
                    }
                }
                _ => {}
            }
        }
        // Scoring.
        let mut scoring_decl: Option<&ast::Scoring> = None;
        for (item, _, _) in &flat {
            if let CampaignItem::Scoring(s) = item {
                if scoring_decl.is_some() {
                    self.err(
                        codes::DUPLICATE,
                        s.span,
                        "a campaign has at most one `scoring` block",
                    );
                }
                scoring_decl = Some(s);
            }
        }
        let any_points = program.criteria.iter().any(|c| c.points.is_some());
        if any_points || scoring_decl.is_some() {
            let precision = scoring_decl
                .and_then(|s| s.precision.as_ref())
                .map(|(d, _)| u32::try_from(d.trunc().mantissa()).unwrap_or(2).min(10))
                .unwrap_or(2);
            let info = ScoringInfo {
                scored: true,
                precision,
                total: scoring_decl.and_then(|s| s.total.as_ref()).map(|t| t.0),
                normalize: scoring_decl.and_then(|s| s.normalize.as_ref()).map(|t| t.0),
            };
            if let (Some(total), Some(s)) = (info.total, scoring_decl) {
                let max: Decimal = program
                    .criteria
                    .iter()
                    .filter(|c| !matches!(c.kind, CritKind::Adjust(_)))
                    .filter_map(crate::eval::max_points)
                    .sum();
                if max != total {
                    self.warn(
                        codes::POINTS_TOTAL,
                        s.span,
                        format!(
                            "the declared total is {} but the criteria can reach {}",
                            crate::value::fmt_dec(total),
                            crate::value::fmt_dec(max)
                        ),
                    )
                    .help = Some(
                        "change `total`, or the points of the criteria, so that they agree".into(),
                    );
                }
            }
            program.scoring = Some(info);
        }
        // Rank.
        let post = expr::Scope::post(None);
        let mut rank_decl = None;
        for (item, _, _) in &flat {
            if let CampaignItem::Rank(r) = item {
                if rank_decl.is_some() {
                    self.err(
                        codes::DUPLICATE,
                        r.span,
                        "a campaign has at most one `rank`",
                    );
                }
                rank_decl = Some(r);
            }
        }
        if let Some(r) = rank_decl {
            let (key, kt, _) = self.expr(&r.key, &post, None);
            self.orderable(&kt, r.key.span);
            let within = match &r.within {
                None => Field::Bloc,
                Some(n) => match Field::parse(&n.dotted()) {
                    Some(f) => f,
                    None => {
                        self.err(
                            codes::UNKNOWN_NAME,
                            n.span,
                            format!("cannot rank within `{}`", n.dotted()),
                        )
                        .help =
                            Some("rank within a reserved field: `bloc`, `kind` or `parent`".into());
                        Field::Bloc
                    }
                },
            };
            let mut then = Vec::new();
            for (e, asc) in &r.then {
                let (ie, t, _) = self.expr(e, &post, None);
                self.orderable(&t, e.span);
                then.push((ie, asc.unwrap_or(false)));
            }
            program.rank = Some(RankSpec { key, within, then });
        } else if program.scoring.is_some() {
            program.rank = Some(RankSpec {
                key: IExpr::Score,
                within: Field::Bloc,
                then: Vec::new(),
            });
        }
        // Rating.
        for (item, _, _) in &flat {
            if let CampaignItem::Rating(r) = item {
                if program.rating.is_some() {
                    continue;
                }
                let mut branches = Vec::new();
                let n = r.branches.len();
                for (i, b) in r.branches.iter().enumerate() {
                    let cond = match &b.cond {
                        None => {
                            if i + 1 != n {
                                self.err(
                                    codes::INVALID,
                                    b.span,
                                    "`otherwise` must close the rating",
                                )
                                .help = Some("move this branch to the end".into());
                            }
                            None
                        }
                        Some(e) => Some(self.cond(e, &post)),
                    };
                    let parts = self.parts_of(b.cond.as_ref(), cond.as_ref());
                    branches.push(RatingBranch {
                        parts,
                        id: b.name.name.clone(),
                        label: b.label.as_ref().map(|s| s.value.clone()),
                        cond,
                        cond_text: b.cond.as_ref().and_then(|e| self.source_text(e.span)),
                        span: b.name.span,
                    });
                }
                program.rating = Some(RatingSpec {
                    id: r.name.name.clone(),
                    label: r.label.as_ref().map(|s| s.value.clone()),
                    branches,
                });
            }
        }
        // Awards, in declaration order.
        let mut order = 0usize;
        for (item, _, _) in &flat {
            if let CampaignItem::Award(a) = item {
                if let Some(spec) = self.award(a, Some(order), program) {
                    program.awards.push(spec);
                }
                order += 1;
            }
        }
        // Tests inside the campaign.
        for (item, _, _) in &flat {
            if let CampaignItem::Test(t) = item {
                if let Some(ts) = self.test(t, program) {
                    program.tests.push(ts);
                }
            }
        }
        program.lets = self
            .let_slots
            .iter()
            .map(|l| {
                l.clone().unwrap_or_else(|| Let {
                    id: String::new(),
                    expr: IExpr::Const(Value::Missing),
                    ty: Type::Error,
                    display: Display::plain(),
                    span: Span::default(),
                    doc: None,
                })
            })
            .collect();
        program.let_order = self.let_order.clone();
        // Indicators nobody reads.
        for i in 0..self.indicators.len() {
            if self.campaign_indicator.get(i).copied().unwrap_or(false)
                && !self.indicator_used.get(i).copied().unwrap_or(true)
            {
                let Some(ind) = self.indicators.get(i) else {
                    continue;
                };
                let (id, span) = (ind.id.clone(), ind.span);
                self.warn(
                    codes::UNUSED_INDICATOR,
                    span,
                    format!("indicator `{id}` is never read"),
                )
                .help = Some(
                    "use it in a criterion, a `let`, the rating or an award, or remove it".into(),
                );
            }
        }
    }

    pub(crate) fn let_slots_names(&self) -> Vec<String> {
        self.lets_ast.keys().cloned().collect()
    }

    pub(crate) fn indicator_names_get(&self, name: &str) -> Option<usize> {
        self.indicator_names.get(name).copied()
    }

    /// `nam_ro.ro_viec` of a library checklist, read without the campaign
    /// naming the checklist.
    pub(crate) fn library_item(&mut self, checklist: &str, item: &str) -> Option<usize> {
        let decl = self.global_checklists.get(checklist)?.decl;
        let it = decl.items.iter().find(|i| i.name.name == item)?;
        let id = format!("{checklist}.{item}");
        if let Some(&s) = self.indicator_names.get(&id) {
            return Some(s);
        }
        Some(self.push_indicator(
            Indicator {
                id,
                label: it.label.as_ref().map(|s| s.value.clone()),
                ty: Type::Bool,
                display: Display::plain(),
                blank_false: false,
                span: it.name.span,
                doc: None,
            },
            false,
        ))
    }

    /// Give a campaign checklist's items their slots before any expression
    /// is checked, so lets may read them.
    fn register_items(&mut self, cl: &'a ast::ChecklistDecl) {
        let declares = cl.head.label.is_some() || !cl.items.is_empty();
        let decl: &'a ast::ChecklistDecl = if declares {
            cl
        } else {
            match self.global_checklists.get(&cl.head.name.name) {
                Some(g) => g.decl,
                None => return,
            }
        };
        let blank_false = cl
            .options
            .iter()
            .chain(decl.options.iter())
            .any(|o| matches!(o, ast::Opt::Blank(false, _)));
        for it in &decl.items {
            let id = format!("{}.{}", cl.head.name.name, it.name.name);
            if self.indicator_names.contains_key(&id) {
                continue;
            }
            self.push_indicator(
                Indicator {
                    id,
                    label: it.label.as_ref().map(|s| s.value.clone()),
                    ty: Type::Bool,
                    display: Display::plain(),
                    blank_false,
                    span: it.name.span,
                    doc: None,
                },
                false,
            );
        }
    }

    /// The `and`-parts of a checked condition beside their source text:
    /// the syntax tree and the checked expression have the same `and`s.
    fn parts(&self, e: &ast::Expr, ie: &IExpr, out: &mut Vec<(String, IExpr)>) {
        match (&e.kind, ie) {
            (ast::ExprKind::And(l, r), IExpr::And(il, ir)) => {
                self.parts(l, il, out);
                self.parts(r, ir, out);
            }
            _ => out.push((self.source_text(e.span).unwrap_or_default(), ie.clone())),
        }
    }

    fn parts_of(&self, e: Option<&ast::Expr>, ie: Option<&IExpr>) -> Vec<(String, IExpr)> {
        let mut out = Vec::new();
        if let (Some(e), Some(ie)) = (e, ie) {
            self.parts(e, ie, &mut out);
        }
        if out.len() < 2 {
            out.clear();
        }
        out
    }

    /// The source text of a span, on one line and at most 200 characters.
    fn source_text(&self, span: Span) -> Option<String> {
        let f = self.files.iter().find(|f| f.file == span.file)?;
        let t = f.text.get(span.start..span.end)?;
        let one: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
        Some(if one.chars().count() > 200 {
            format!("{}…", one.chars().take(200).collect::<String>())
        } else {
            one
        })
    }

    fn orderable(&mut self, t: &Type, span: Span) {
        if matches!(t, Type::Bool | Type::Text | Type::Status) {
            self.err(
                codes::TYPE_MISMATCH,
                span,
                "a ranking key must be a number, a quantity, a date or a level",
            );
        }
    }

    pub(crate) fn date(&mut self, d: &ast::DateLit) -> Option<NaiveDate> {
        match NaiveDate::from_ymd_opt(d.year, d.month, d.day) {
            Some(x) => Some(x),
            None => {
                self.err(
                    codes::BAD_DATE,
                    d.span,
                    format!("`{}` is not a date", d.text),
                )
                .help = Some(if d.text.contains('/') {
                    "dates are written day/month/year (`31/01/2024`) or year-month-day (`2024-01-31`)".into()
                } else {
                    "check the month and the day".into()
                });
                None
            }
        }
    }

    fn applies(&mut self, conds: &[&ast::Expr], own: &Option<ast::Expr>) -> Vec<IExpr> {
        let scope = expr::Scope::unit();
        let mut out: Vec<IExpr> = conds.iter().map(|c| self.cond(c, &scope)).collect();
        if let Some(c) = own {
            out.push(self.cond(c, &scope));
        }
        out
    }

    /// A boolean condition.
    pub(crate) fn cond(&mut self, e: &ast::Expr, scope: &expr::Scope) -> IExpr {
        let (ie, t, _) = self.expr(e, scope, None);
        if t != Type::Bool && t != Type::Error {
            self.err(
                codes::TYPE_MISMATCH,
                e.span,
                format!("expected a condition, found {}", expr::type_words(&t, self)),
            )
            .help = Some("write a comparison, e.g. `x >= 14.5%`".into());
        }
        ie
    }

    fn target(
        &mut self,
        t: &ast::Target,
        section: Option<usize>,
        conds: &[&ast::Expr],
    ) -> Option<Criterion> {
        let applies = self.applies(conds, &t.head.cond);
        let scope = expr::Scope::unit();
        let node = self.tnode(&t.body, &scope);
        let points = self.points(&t.options, &node_kind(&node), t.head.name.span);
        Some(Criterion {
            id: t.head.name.name.clone(),
            label: t.head.label.as_ref().map(|s| s.value.clone()),
            kind: CritKind::Target(node),
            section,
            applies,
            points,
            span: t.head.name.span,
            doc: t.head.doc.0.clone(),
        })
    }

    fn tnode(&mut self, body: &ast::TargetBody, scope: &expr::Scope) -> TNode {
        match body {
            ast::TargetBody::Group(g) => {
                if let ast::GroupKind::AtLeast(n) = g.kind {
                    if n as usize > g.children.len() || n == 0 {
                        self.err(
                            codes::INVALID,
                            g.span,
                            format!("`at_least {n} of` has {} conditions", g.children.len()),
                        );
                    }
                }
                let children = g
                    .children
                    .iter()
                    .map(|c| {
                        (
                            c.label.as_ref().map(|s| s.value.clone()),
                            self.tnode(&c.body, scope),
                            c.span,
                        )
                    })
                    .collect();
                TNode::Group {
                    kind: g.kind,
                    children,
                }
            }
            ast::TargetBody::Expr(e) => {
                let mut e = e;
                while let ast::ExprKind::Paren(inner) = &e.kind {
                    e = inner;
                }
                match &e.kind {
                    // Every comparison, `==` and `!=` included, so that its
                    // result carries the actual and the goal.
                    ast::ExprKind::Cmp(op, l, r) => match self.comparison(*op, l, r, e.span, scope)
                    {
                        Some((actual, goal, ty, display)) => TNode::Compare {
                            actual,
                            op: *op,
                            goal,
                            high: None,
                            ty,
                            display,
                        },
                        None => TNode::Cond(IExpr::Const(Value::Missing)),
                    },
                    ast::ExprKind::Band(l, lo, hi) => match self.band(l, lo, hi, e.span, scope) {
                        Some((actual, goal, high, ty, display)) => TNode::Compare {
                            actual,
                            op: CmpOp::Ge,
                            goal,
                            high: Some(high),
                            ty,
                            display,
                        },
                        None => TNode::Cond(IExpr::Const(Value::Missing)),
                    },
                    ast::ExprKind::In(x, lo, hi) => match self.band(x, lo, hi, e.span, scope) {
                        Some((actual, lo, hi, ty, display)) => TNode::Interval {
                            actual,
                            lo,
                            hi,
                            ty,
                            display,
                        },
                        None => TNode::Cond(IExpr::Const(Value::Missing)),
                    },
                    _ => {
                        let (ie, t, _) = self.expr(e, scope, None);
                        if t != Type::Bool && t != Type::Error {
                            self.err(
                                codes::TYPE_MISMATCH,
                                e.span,
                                format!(
                                    "a target must be a condition, found {}",
                                    expr::type_words(&t, self)
                                ),
                            )
                            .help = Some("compare it with a goal, e.g. `x >= 14.5%`".into());
                        }
                        TNode::Cond(ie)
                    }
                }
            }
        }
    }

    fn deadline(
        &mut self,
        d: &ast::Deadline,
        section: Option<usize>,
        conds: &[&ast::Expr],
    ) -> Option<Criterion> {
        let applies = self.applies(conds, &d.head.cond);
        let scope = expr::Scope::unit();
        let (date, dt, _) = self.expr(&d.date, &scope, None);
        let (due, ut, _) = self.expr(&d.due, &scope, None);
        for (t, e) in [(&dt, &d.date), (&ut, &d.due)] {
            if *t != Type::Date && *t != Type::Error {
                self.err(
                    codes::TYPE_MISMATCH,
                    e.span,
                    format!(
                        "a deadline needs a date, found {}",
                        expr::type_words(t, self)
                    ),
                )
                .help = Some("declare the indicator as `: date`".into());
            }
        }
        if let (Some((from, to)), IExpr::DateLit(due_d)) = (self.period, &due) {
            if *due_d < from || *due_d > to {
                self.warn(
                    codes::DEADLINE_OUTSIDE_PERIOD,
                    d.due.span,
                    format!(
                        "the due date {} is outside the campaign period {} .. {}",
                        due_d.format("%d/%m/%Y"),
                        from.format("%d/%m/%Y"),
                        to.format("%d/%m/%Y")
                    ),
                )
                .help = Some("check the year of the due date, or the campaign's `period`".into());
            }
        }
        let points = self.points(&d.options, &NodeKind::Deadline, d.head.name.span);
        Some(Criterion {
            id: d.head.name.name.clone(),
            label: d.head.label.as_ref().map(|s| s.value.clone()),
            kind: CritKind::Deadline(DeadlineSpec {
                date,
                due,
                before: d.before,
            }),
            section,
            applies,
            points,
            span: d.head.name.span,
            doc: d.head.doc.0.clone(),
        })
    }

    fn checklist(
        &mut self,
        cl: &'a ast::ChecklistDecl,
        section: Option<usize>,
        conds: &[&ast::Expr],
        _program: &mut Program,
    ) -> Option<Criterion> {
        let declares = cl.head.label.is_some() || !cl.items.is_empty();
        let (decl, label, doc): (&'a ast::ChecklistDecl, Option<String>, Option<String>) =
            if declares {
                (
                    cl,
                    cl.head.label.as_ref().map(|s| s.value.clone()),
                    cl.head.doc.0.clone(),
                )
            } else {
                match self.global_checklists.get(&cl.head.name.name) {
                    Some(g) => {
                        let g = g.decl;
                        (
                            g,
                            g.head.label.as_ref().map(|s| s.value.clone()),
                            g.head.doc.0.clone().or(cl.head.doc.0.clone()),
                        )
                    }
                    None => {
                        let cands: Vec<String> = self.global_checklists.keys().cloned().collect();
                        let d = self.err(
                            codes::UNKNOWN_NAME,
                            cl.head.name.span,
                            format!("unknown checklist `{}`", cl.head.name.name),
                        );
                        d.help = Some(match nearest(&cl.head.name.name, cands.iter().map(|s| s.as_str())) {
                        Some(n) => format!("did you mean `{n}`?"),
                        None => "declare its items here, or `use std.chi_thi_26` for the \"3 dám\", \"3 hơn\" and \"5 rõ\"".into(),
                    });
                        return None;
                    }
                }
            };
        if decl.items.is_empty() {
            self.err(
                codes::INVALID,
                cl.head.name.span,
                "a checklist needs at least one `item`",
            );
            return None;
        }
        // Options: the library's, then the campaign's own.
        let mut options: Vec<ast::Opt> = if declares {
            Vec::new()
        } else {
            decl.options.clone()
        };
        for o in &cl.options {
            options.retain(|x| std::mem::discriminant(x) != std::mem::discriminant(o));
            options.push(o.clone());
        }
        if declares {
            options = cl.options.clone();
        }
        let blank_false = options
            .iter()
            .any(|o| matches!(o, ast::Opt::Blank(false, _)));
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        for it in &decl.items {
            if !seen.insert(it.name.name.clone()) {
                self.err(
                    codes::DUPLICATE,
                    it.name.span,
                    format!("item `{}` is declared twice", it.name.name),
                );
                continue;
            }
            let id = format!("{}.{}", cl.head.name.name, it.name.name);
            let slot = match self.indicator_names.get(&id) {
                Some(&s) => s,
                None => self.push_indicator(
                    Indicator {
                        id: id.clone(),
                        label: it.label.as_ref().map(|s| s.value.clone()),
                        ty: Type::Bool,
                        display: Display::plain(),
                        blank_false,
                        span: it.name.span,
                        doc: None,
                    },
                    false,
                ),
            };
            items.push(ChecklistItem {
                id: it.name.name.clone(),
                label: it.label.as_ref().map(|s| s.value.clone()),
                slot,
            });
        }
        let mut require = items.len();
        for o in &options {
            if let ast::Opt::Require(r, span) = o {
                require = match r {
                    Require::All => items.len(),
                    Require::AtLeast(n) => {
                        if *n as usize > items.len() || *n == 0 {
                            self.err(
                                codes::INVALID,
                                *span,
                                format!("`require at_least {n}` of {} items", items.len()),
                            )
                            .help = Some(format!("choose a number from 1 to {}", items.len()));
                        }
                        (*n as usize).min(items.len())
                    }
                };
            }
        }
        let applies = self.applies(conds, &cl.head.cond);
        let points = self.points(&options, &NodeKind::Checklist, cl.head.name.span);
        Some(Criterion {
            id: cl.head.name.name.clone(),
            label,
            kind: CritKind::Checklist(ChecklistSpec { items, require }),
            section,
            applies,
            points,
            span: cl.head.name.span,
            doc,
        })
    }

    fn adjust(
        &mut self,
        a: &ast::Adjust,
        section: Option<usize>,
        conds: &[&ast::Expr],
    ) -> Option<Criterion> {
        let applies = self.applies(conds, &a.head.cond);
        let scope = expr::Scope::unit();
        let spec = match &a.kind {
            ast::AdjustKind::When(e) => AdjustSpec::When {
                amount: a.amount,
                cond: self.cond(e, &scope),
            },
            ast::AdjustKind::Per(e, max) => {
                let (count, t, _) = self.expr(e, &scope, None);
                if t != Type::Number && t != Type::Error {
                    self.err(
                        codes::TYPE_MISMATCH,
                        e.span,
                        format!(
                            "`per` counts occurrences: expected a number, found {}",
                            expr::type_words(&t, self)
                        ),
                    );
                }
                AdjustSpec::Per {
                    amount: a.amount,
                    count,
                    max: *max,
                }
            }
        };
        for o in &a.options {
            self.err(
                codes::INVALID,
                o.span(),
                "an adjustment carries its points in its amount",
            )
            .help = Some("remove this option block".into());
        }
        Some(Criterion {
            id: a.head.name.name.clone(),
            label: a.head.label.as_ref().map(|s| s.value.clone()),
            kind: CritKind::Adjust(spec),
            section,
            applies,
            points: None,
            span: a.head.name.span,
            doc: a.head.doc.0.clone(),
        })
    }

    /// A bonus or penalty step, checked against what the criterion measures.
    fn step_of(
        &mut self,
        amount: Decimal,
        step: &AstStep,
        max: &Option<(Decimal, String)>,
        kind: &NodeKind,
        span: Span,
    ) -> Option<Step> {
        let s = self.step_value(step, kind, span)?;
        Some(Step {
            amount,
            step: s,
            max: max.as_ref().map(|m| m.0),
        })
    }

    fn step_value(&mut self, step: &AstStep, kind: &NodeKind, span: Span) -> Option<Decimal> {
        let (want, display) = match kind {
            NodeKind::Compare(t, d, _) => (t.clone(), d.clone()),
            NodeKind::Deadline => (
                Type::Duration(DurKind::Days),
                Display {
                    factor: Decimal::ONE,
                    text: Some("days".into()),
                },
            ),
            _ => return None,
        };
        let (v, t) = match step {
            AstStep::Percent(v, _) => (*v, Type::Percent),
            AstStep::Number(v, _) => match &want {
                // A bare step for a quantity is in the criterion's declared scale.
                Type::Quantity(_) | Type::Duration(_) => {
                    (v.checked_mul(display.factor)?, want.clone())
                }
                _ => (*v, Type::Number),
            },
            AstStep::Quantity(q) => {
                let (t, d) = self.resolve_unit(&q.scale, &q.unit)?;
                (q.value.checked_mul(d.factor)?, t)
            }
            AstStep::Unit(u) => {
                let (t, d) = self.resolve_unit(&[], u)?;
                (d.factor, t)
            }
        };
        let ok = match (&want, &t) {
            (Type::Percent | Type::Number, Type::Percent | Type::Number) => true,
            (a, b) => a == b,
        };
        if !ok {
            self.err(
                codes::UNIT_MISMATCH,
                span,
                format!(
                    "the step is {} but the criterion measures {}",
                    expr::type_words(&t, self),
                    expr::type_words(&want, self)
                ),
            );
            return None;
        }
        if v <= Decimal::ZERO {
            self.err(codes::INVALID, span, "a step must be greater than zero");
            return None;
        }
        Some(v)
    }

    fn points(
        &mut self,
        options: &[ast::Opt],
        kind: &NodeKind,
        name_span: Span,
    ) -> Option<PointsSpec> {
        let mut spec: Option<PointsSpec> = None;
        let mut bonus = None;
        let mut penalty = None;
        for o in options {
            match o {
                ast::Opt::Points { n, mode, span, .. } => {
                    if spec.is_some() {
                        self.err(codes::DUPLICATE, *span, "`points` is given twice");
                    }
                    match (mode, kind) {
                        (PointsMode::PerItem, NodeKind::Checklist) => {}
                        (PointsMode::PerItem, _) => {
                            self.err(
                                codes::INVALID,
                                *span,
                                "`points … per item` is for checklists",
                            );
                        }
                        (
                            PointsMode::Proportional | PointsMode::Relative,
                            NodeKind::Compare(t, _, _),
                        ) if !matches!(t, Type::Date | Type::Duration(_) | Type::Level(_)) => {}
                        (PointsMode::Proportional | PointsMode::Relative, _) => {
                            self.err(codes::INVALID, *span, "proportional points need a target that compares a number with a goal")
                                .help = Some(equality_help(kind).unwrap_or("use plain `points N`").into());
                        }
                        _ => {}
                    }
                    spec = Some(PointsSpec {
                        n: *n,
                        mode: *mode,
                        bonus: None,
                        penalty: None,
                    });
                }
                ast::Opt::Bonus {
                    amount,
                    step,
                    dir,
                    max,
                    span,
                    ..
                } => {
                    match kind {
                        NodeKind::Compare(_, _, op) => {
                            let higher = matches!(op, CmpOp::Ge | CmpOp::Gt);
                            let (right, word) = expected_direction(*op, true);
                            if *dir != right {
                                self.err(codes::INVALID, *span, format!("this target is {}: its bonus counts steps `{word}` the goal", if higher { "higher-is-better" } else { "lower-is-better" }))
                                    .help = Some(format!("write `{word}`"));
                            }
                        }
                        _ => {
                            self.err(
                                codes::INVALID,
                                *span,
                                "a bonus needs a target that compares a value with a goal",
                            )
                            .help = equality_help(kind).map(str::to_string);
                            continue;
                        }
                    }
                    bonus = self.step_of(*amount, step, max, kind, *span);
                }
                ast::Opt::Penalty {
                    amount,
                    step,
                    dir,
                    max,
                    span,
                    ..
                } => {
                    match kind {
                        NodeKind::Compare(_, _, op) => {
                            let (right, word) = expected_direction(*op, false);
                            if *dir != right {
                                self.err(
                                    codes::INVALID,
                                    *span,
                                    format!("this target's penalty counts steps `{word}` the goal"),
                                )
                                .help = Some(format!("write `{word}`"));
                            }
                        }
                        NodeKind::Deadline => {
                            if *dir != Direction::Late {
                                self.err(
                                    codes::INVALID,
                                    *span,
                                    "a deadline's penalty counts days late",
                                )
                                .help = Some("write `penalty 1 per day late`".into());
                            }
                        }
                        _ => {
                            self.err(
                                codes::INVALID,
                                *span,
                                "a penalty needs a target with a goal, or a deadline",
                            )
                            .help = equality_help(kind).map(str::to_string);
                            continue;
                        }
                    }
                    penalty = self.step_of(*amount, step, max, kind, *span);
                }
                ast::Opt::Require(_, span) => {
                    if !matches!(kind, NodeKind::Checklist) {
                        self.err(codes::INVALID, *span, "`require` is for checklists");
                    }
                }
                ast::Opt::Blank(_, span) => {
                    if !matches!(kind, NodeKind::Checklist) {
                        self.err(codes::INVALID, *span, "`blank` is for checklists");
                    }
                }
            }
        }
        if (bonus.is_some() || penalty.is_some()) && spec.is_none() {
            self.err(
                codes::INVALID,
                name_span,
                "a bonus or a penalty needs `points N` on the same criterion",
            );
            return None;
        }
        let mut spec = spec?;
        if spec.mode == PointsMode::Proportional && penalty.is_some() {
            self.err(
                codes::INVALID,
                name_span,
                "`proportional` with `penalty`: choose one",
            )
            .help = Some("a penalty replaces proportional points for a criterion".into());
        }
        spec.bonus = bonus;
        spec.penalty = penalty;
        Some(spec)
    }

    fn award(
        &mut self,
        a: &'a ast::AwardDecl,
        order: Option<usize>,
        _program: &Program,
    ) -> Option<AwardSpec> {
        // A name without a condition joins a library award.
        let (decl, own_limit): (&'a ast::AwardDecl, Option<&ast::Limit>) =
            if a.label.is_none() && a.when.is_none() {
                match self.global_awards.get(&a.name.name) {
                    Some(g) if !std::ptr::eq(*g, a) => (*g, a.limit.as_ref()),
                    _ if order.is_none() => (a, a.limit.as_ref()),
                    _ => {
                        let cands: Vec<String> = self.global_awards.keys().cloned().collect();
                        let d = self.err(
                            codes::UNKNOWN_NAME,
                            a.name.span,
                            format!("unknown award `{}`", a.name.name),
                        );
                        d.help = Some(
                            match nearest(&a.name.name, cands.iter().map(|s| s.as_str())) {
                                Some(n) => format!("did you mean `{n}`?"),
                                None => "give the award a label and a `when` condition".into(),
                            },
                        );
                        return None;
                    }
                }
            } else {
                (a, a.limit.as_ref())
            };
        let scope = expr::Scope::post(order);
        let when = decl.when.as_ref().map(|e| self.cond(e, &scope));
        let limit = match own_limit.or(decl.limit.as_ref()) {
            None => None,
            Some(l) => {
                let per = match Field::parse(&l.per.dotted()) {
                    Some(f) => f,
                    None => {
                        self.err(
                            codes::UNKNOWN_NAME,
                            l.per.span,
                            format!("cannot limit per `{}`", l.per.dotted()),
                        )
                        .help =
                            Some("limit per a reserved field: `bloc`, `kind` or `parent`".into());
                        Field::Bloc
                    }
                };
                let amount = match &l.amount {
                    ast::LimitAmount::Count(n, _) => LimitSpec::Count(*n),
                    ast::LimitAmount::Share(p, _, of) => {
                        LimitSpec::Share(*p, of.as_ref().map(|e| self.cond(e, &scope)))
                    }
                };
                Some((amount, per))
            }
        };
        let parts = self.parts_of(decl.when.as_ref(), when.as_ref());
        Some(AwardSpec {
            parts,
            id: a.name.name.clone(),
            label: decl.label.as_ref().map(|s| s.value.clone()),
            when,
            when_text: decl.when.as_ref().and_then(|e| self.source_text(e.span)),
            limit,
            span: a.name.span,
            doc: decl.doc.0.clone().or(a.doc.0.clone()),
        })
    }

    fn test(&mut self, t: &ast::TestDecl, program: &Program) -> Option<TestSpec> {
        let base = self
            .files
            .iter()
            .find(|f| f.file == t.span.file)
            .and_then(|f| f.path.clone());
        let mut data = Vec::new();
        let mut given = Vec::new();
        let mut expects = Vec::new();
        let mut given_units = HashSet::new();
        for part in &t.parts {
            match part {
                ast::TestPart::Data(s) => {
                    // Like `use`: relative to the test's file, inside the
                    // project root (tests run on files from pull requests).
                    let Some(importer) = base.as_deref() else {
                        self.err(
                            codes::IMPORT,
                            s.span,
                            "a test's `data` needs a file on disk to be relative to",
                        );
                        continue;
                    };
                    let root = self
                        .files
                        .get(self.main)
                        .and_then(|f| f.path.as_deref())
                        .map(project_root)
                        .unwrap_or_else(|| project_root(importer));
                    match load::resolve_in_root(&s.value, importer, &root) {
                        Ok(p) => data.push((p, s.span)),
                        Err(msg) => {
                            self.err(codes::IMPORT, s.span, msg).help =
                                Some("a test's data file is relative to the test's file and stays inside the project root".into());
                        }
                    }
                }
                ast::TestPart::Given { unit, fields, span } => {
                    let period = fields
                        .iter()
                        .find(|f| f.name.dotted() == "period")
                        .map(|f| format!("{:?}", f.value))
                        .unwrap_or_default();
                    if !given_units.insert((unit.name.clone(), period)) {
                        self.err(
                            codes::DUPLICATE,
                            unit.span,
                            format!(
                                "unit `{}` is given twice for one period in this test",
                                unit.name
                            ),
                        );
                    }
                    let mut row = GivenRow {
                        unit: unit.name.clone(),
                        fields: Vec::new(),
                        span: *span,
                    };
                    for f in fields {
                        if let Some(v) = self.given_field(f) {
                            row.fields.push(v);
                        }
                    }
                    given.push(row);
                }
                ast::TestPart::Expect(e) => {
                    let scope = expr::Scope::test();
                    let ie = self.cond(e, &scope);
                    expects.push(Expectation {
                        expr: ie,
                        span: e.span,
                    });
                }
            }
        }
        let _ = program;
        Some(TestSpec {
            name: t.name.value.clone(),
            data,
            given,
            expects,
            span: t.span,
        })
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "indices come from the checker's own name tables, filled together with the vectors they index"
    )]
    fn given_field(&mut self, f: &ast::Field) -> Option<(GivenTarget, Value)> {
        let name = f.name.dotted();
        if let Some(field) = Field::parse(&name) {
            return match &f.value {
                ast::GivenValue::Lit(ast::Literal::String(s)) => {
                    Some((GivenTarget::Field(field), Value::Text(s.as_str().into())))
                }
                _ => {
                    self.err(
                        codes::TYPE_MISMATCH,
                        f.span,
                        format!("`{name}` is text: write it in quotes"),
                    );
                    None
                }
            };
        }
        if name == "period" {
            return match &f.value {
                ast::GivenValue::Lit(ast::Literal::Number(n, _))
                    if n.fract().is_zero()
                        && *n >= Decimal::from(1900)
                        && *n <= Decimal::from(9999) =>
                {
                    Some((GivenTarget::Period, Value::Num(*n)))
                }
                _ => {
                    self.err(
                        codes::TYPE_MISMATCH,
                        f.span,
                        "`period` is a year, e.g. `period = 2023`",
                    );
                    None
                }
            };
        }
        if name == "awards" {
            return match &f.value {
                ast::GivenValue::Lit(ast::Literal::String(s)) => {
                    Some((GivenTarget::Awards, Value::Text(s.as_str().into())))
                }
                _ => {
                    self.err(
                        codes::TYPE_MISMATCH,
                        f.span,
                        "`awards` lists award ids in quotes, separated by `;`",
                    );
                    None
                }
            };
        }
        let Some(slot) = self.indicator(&name) else {
            let cands: Vec<String> = self.indicator_names.keys().cloned().collect();
            let d = self.err(
                codes::UNKNOWN_NAME,
                f.name.span,
                format!("unknown indicator `{name}`"),
            );
            if let Some(n) = nearest(&name, cands.iter().map(|s| s.as_str())) {
                d.help = Some(format!("did you mean `{n}`?"));
            }
            return None;
        };
        let ind = self.indicators[slot].clone();
        let v = expr::given_value(self, &ind, f)?;
        Some((GivenTarget::Slot(slot), v))
    }
}

/// What kind of criterion options are attached to.
#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    Compare(Type, Display, CmpOp),
    /// `==` or `!=`: met or not, with no better side.
    Equality,
    Other,
    Deadline,
    Checklist,
}

fn node_kind(n: &TNode) -> NodeKind {
    match n {
        // `==` and `!=` carry their actual and goal, but have no better
        // side: no proportion, bonus or penalty is measured from them.
        TNode::Compare {
            op: CmpOp::Eq | CmpOp::Ne,
            ..
        } => NodeKind::Equality,
        TNode::Compare {
            ty, display, op, ..
        } => NodeKind::Compare(ty.clone(), display.clone(), *op),
        _ => NodeKind::Other,
    }
}

/// Why `==` and `!=` take no proportion, bonus or penalty.
fn equality_help(kind: &NodeKind) -> Option<&'static str> {
    matches!(kind, NodeKind::Equality).then_some(
        "a target written with `==` or `!=` is met or not: write `>=`, `<=`, `>` or `<` to measure how far a unit is from its goal",
    )
}

/// The direction a bonus (`bonus == true`) or a penalty on a comparison
/// counts its steps in, and its word: beyond the goal for a bonus, short of
/// it for a penalty, on the side the comparison calls better.
fn expected_direction(op: CmpOp, bonus: bool) -> (Direction, &'static str) {
    let higher_is_better = matches!(op, CmpOp::Ge | CmpOp::Gt);
    if higher_is_better == bonus {
        (Direction::Above, "above")
    } else {
        (Direction::Below, "below")
    }
}
