//! Results → table, JSON, CSV and Markdown; diagnostics → human, JSON and
//! GitHub workflow commands.

pub mod diagnostics;

use crate::data::{Locale, Skipped};
use crate::eval::{Crit, Evaluation, Node, UnitRow, UnitState};
use crate::ir::{CritKind, Program, TNode};
use crate::value::{fmt_dec, Display, Status, Type, Value};
use rust_decimal::Decimal;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Value as J};

/// The display of a criterion's actual value.
fn crit_display(prog: &Program, ci: usize) -> (Display, Option<Type>) {
    match prog.criteria.get(ci).map(|c| &c.kind) {
        Some(CritKind::Target(TNode::Compare { display, ty, .. }))
        | Some(CritKind::Target(TNode::Interval { display, ty, .. })) => {
            (display.clone(), Some(ty.clone()))
        }
        _ => (Display::plain(), None),
    }
}

fn dec_in(d: Decimal, display: &Display) -> String {
    fmt_dec(d.checked_div(display.factor).unwrap_or(d))
}

/// A value as the JSON output writes it.
pub fn value_json(prog: &Program, v: &Value, display: &Display, ty: Option<&Type>) -> J {
    serde_json::to_value(ValueOut {
        prog,
        v,
        display,
        ty,
    })
    .unwrap_or(J::Null)
}

/// A value as the JSON output writes it, serialized without building a
/// tree first (a large report writes millions).
struct ValueOut<'a> {
    prog: &'a Program,
    v: &'a Value,
    display: &'a Display,
    ty: Option<&'a Type>,
}

impl Serialize for ValueOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = match self.v {
            Value::Missing => return s.serialize_unit(),
            _ => s.serialize_map(None)?,
        };
        match self.v {
            Value::Missing => {}
            Value::Num(d) => {
                m.serialize_entry("value", &dec_in(*d, self.display))?;
                m.serialize_entry("unit", &self.display.text)?;
            }
            Value::Bool(b) => {
                m.serialize_entry("value", b)?;
                m.serialize_entry("unit", &())?;
            }
            Value::Date(d) => {
                m.serialize_entry("value", &d.format("%Y-%m-%d").to_string())?;
                m.serialize_entry("unit", &())?;
            }
            Value::Text(t) => {
                m.serialize_entry("value", t.as_ref())?;
                m.serialize_entry("unit", &())?;
            }
            Value::Level(i) => {
                let (id, label) = level_words(self.prog, *i, self.ty);
                m.serialize_entry("value", &id)?;
                m.serialize_entry("unit", &())?;
                m.serialize_entry("label", &label)?;
            }
            Value::Status(st) => {
                m.serialize_entry("value", st.as_str())?;
                m.serialize_entry("unit", &())?;
            }
        }
        m.end()
    }
}

fn level_words(prog: &Program, i: u32, ty: Option<&Type>) -> (String, Option<String>) {
    match ty {
        Some(Type::Level(set)) if *set == crate::check::RATING_SET => {
            let b = prog
                .rating
                .as_ref()
                .and_then(|r| r.branches.get(i as usize));
            (
                b.map(|b| b.id.clone()).unwrap_or_default(),
                b.and_then(|b| b.label.clone()),
            )
        }
        Some(Type::Level(set)) => {
            let l = prog.levels.get(*set).and_then(|l| l.levels.get(i as usize));
            (
                l.map(|l| l.id.clone()).unwrap_or_default(),
                l.and_then(|l| l.label.clone()),
            )
        }
        _ => (i.to_string(), None),
    }
}

/// A value in words, for tables and explanations.
pub fn value_text(prog: &Program, v: &Value, display: &Display, ty: Option<&Type>) -> String {
    match v {
        Value::Missing => "—".into(),
        Value::Num(d) => match &display.text {
            Some(u) if u == "%" => format!("{}%", dec_in(*d, display)),
            Some(u) => format!("{} {u}", dec_in(*d, display)),
            None => dec_in(*d, display),
        },
        Value::Bool(b) => if *b { "có" } else { "không" }.into(),
        Value::Date(d) => d.format("%d/%m/%Y").to_string(),
        Value::Text(t) => t.to_string(),
        Value::Level(i) => level_words(prog, *i, ty).0,
        Value::Status(s) => s.as_str().into(),
    }
}

/// Text in a cell of a Markdown table: a `|` escaped, line breaks as
/// spaces.
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// A rating's or an award's id with its label (LANGUAGE.md §6: outputs
/// give both): `xuat_sac (Xuất sắc)`, or the id alone without a label.
fn id_label(id: &str, label: Option<&str>) -> String {
    match label {
        Some(l) if !l.is_empty() => format!("{id} ({l})"),
        _ => id.to_string(),
    }
}

/// A node's status, actual, goal, gap and achievement: the entries every
/// node of the JSON output begins with.
fn node_entries<M: SerializeMap>(
    m: &mut M,
    prog: &Program,
    n: Node<'_>,
    display: &Display,
    ty: Option<&Type>,
) -> Result<(), M::Error> {
    let value = |v| ValueOut {
        prog,
        v,
        display,
        ty,
    };
    m.serialize_entry("status", n.status.as_str())?;
    m.serialize_entry("actual", &n.actual().map(value))?;
    m.serialize_entry("goal", &n.goal().map(value))?;
    match (n.gap(), n.actual()) {
        (Some(g), Some(Value::Date(_))) => {
            m.serialize_entry("gap", &Gap(fmt_dec(g), Some("days")))?
        }
        (Some(g), _) => {
            m.serialize_entry("gap", &Gap(dec_in(g, display), display.text.as_deref()))?
        }
        (None, _) => m.serialize_entry("gap", &())?,
    }
    m.serialize_entry("achievement", &n.achievement().map(fmt_dec))
}

/// A gap: its value and unit.
struct Gap<'a>(String, Option<&'a str>);

impl Serialize for Gap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("value", &self.0)?;
        m.serialize_entry("unit", &self.1)?;
        m.end()
    }
}

/// The children of a group, each in its own unit.
struct ChildrenOut<'a> {
    prog: &'a Program,
    t: Option<&'a TNode>,
    n: Node<'a>,
}

impl Serialize for ChildrenOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let kids: &[(Option<String>, TNode, crate::diag::Span)] = match self.t {
            Some(TNode::Group { children, .. }) => children,
            _ => &[],
        };
        let children = self.n.children();
        let mut seq = s.serialize_seq(Some(children.len()))?;
        for (i, c) in children.iter().enumerate() {
            let (label, tn) = match kids.get(i) {
                Some((l, t, _)) => (l.as_deref(), Some(t)),
                None => (None, None),
            };
            seq.serialize_element(&ChildOut {
                prog: self.prog,
                label,
                t: tn,
                n: c.node(),
            })?;
        }
        seq.end()
    }
}

struct ChildOut<'a> {
    prog: &'a Program,
    label: Option<&'a str>,
    t: Option<&'a TNode>,
    n: Node<'a>,
}

impl Serialize for ChildOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (display, ty) = node_display(self.t);
        let mut m = s.serialize_map(None)?;
        node_entries(&mut m, self.prog, self.n, &display, ty.as_ref())?;
        m.serialize_entry("label", &self.label)?;
        m.serialize_entry(
            "children",
            &ChildrenOut {
                prog: self.prog,
                t: self.t,
                n: self.n,
            },
        )?;
        m.end()
    }
}

pub fn node_display(t: Option<&TNode>) -> (Display, Option<Type>) {
    match t {
        Some(TNode::Compare { display, ty, .. }) | Some(TNode::Interval { display, ty, .. }) => {
            (display.clone(), Some(ty.clone()))
        }
        _ => (Display::plain(), None),
    }
}

/// One unit of the JSON output, as a tree (for `explain`, which adds to it).
pub fn unit_json(prog: &Program, ev: &Evaluation, row: &UnitRow, st: &UnitState) -> J {
    let _ = ev;
    serde_json::to_value(UnitOut { prog, row, st }).unwrap_or(J::Null)
}

/// One unit of the JSON output, serialized without building a tree.
struct UnitOut<'a> {
    prog: &'a Program,
    row: &'a UnitRow,
    st: &'a UnitState,
}

impl Serialize for UnitOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (prog, row, st) = (self.prog, self.row, self.st);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &row.id)?;
        m.serialize_entry("name", &row.name)?;
        m.serialize_entry("bloc", &row.bloc)?;
        m.serialize_entry("criteria", &CriteriaOut { prog, st })?;
        m.serialize_entry("sections", &SectionsOut { prog, st })?;
        m.serialize_entry("score", &st.score.map(fmt_dec))?;
        m.serialize_entry("rank", &st.rank)?;
        let rating = st
            .rating
            .and_then(|r| prog.rating.as_ref().and_then(|x| x.branches.get(r)));
        m.serialize_entry("rating", &rating.map(|b| &b.id))?;
        m.serialize_entry("rating_label", &rating.and_then(|b| b.label.as_ref()))?;
        let awards: Vec<&crate::ir::AwardSpec> = prog
            .awards
            .iter()
            .zip(st.awards.iter())
            .filter(|(_, g)| **g)
            .map(|(a, _)| a)
            .collect();
        m.serialize_entry("awards", &awards.iter().map(|a| &a.id).collect::<Vec<_>>())?;
        m.serialize_entry(
            "award_labels",
            &awards
                .iter()
                .map(|a| a.label.as_ref().unwrap_or(&a.id))
                .collect::<Vec<_>>(),
        )?;
        m.end()
    }
}

struct CriteriaOut<'a> {
    prog: &'a Program,
    st: &'a UnitState,
}

impl Serialize for CriteriaOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let crits = self.prog.criteria.iter().zip(self.st.criteria());
        let mut seq = s.serialize_seq(Some(crits.len()))?;
        for (ci, (c, r)) in crits.enumerate() {
            seq.serialize_element(&CritOut {
                prog: self.prog,
                ci,
                c,
                r,
            })?;
        }
        seq.end()
    }
}

struct SectionsOut<'a> {
    prog: &'a Program,
    st: &'a UnitState,
}

impl Serialize for SectionsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.prog.sections.len()))?;
        for (si, sec) in self.prog.sections.iter().enumerate() {
            let (pts, max) = section_points(self.prog, self.st, si);
            seq.serialize_element(&SectionOut {
                id: &sec.id,
                label: sec.label.as_deref(),
                points: pts.map(fmt_dec),
                max_points: max.map(fmt_dec),
            })?;
        }
        seq.end()
    }
}

#[derive(serde::Serialize)]
struct SectionOut<'a> {
    id: &'a str,
    label: Option<&'a str>,
    points: Option<String>,
    max_points: Option<String>,
}

struct CritOut<'a> {
    prog: &'a Program,
    ci: usize,
    c: &'a crate::ir::Criterion,
    r: Crit<'a>,
}

impl Serialize for CritOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (prog, c, r) = (self.prog, self.c, self.r);
        let (display, ty) = crit_display(prog, self.ci);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &c.id)?;
        m.serialize_entry("label", &c.label)?;
        m.serialize_entry("kind", c.kind.name())?;
        m.serialize_entry(
            "section",
            &c.section.and_then(|s| prog.sections.get(s)).map(|s| &s.id),
        )?;
        node_entries(&mut m, prog, r.node, &display, ty.as_ref())?;
        if matches!(c.kind, CritKind::Deadline(_)) {
            m.serialize_entry("days_late", &r.days_late())?;
        }
        if let CritKind::Checklist(cl) = &c.kind {
            m.serialize_entry("items_met", &r.items_met())?;
            m.serialize_entry("items_total", &cl.items.len())?;
            let items: Vec<ItemOut<'_>> = cl
                .items
                .iter()
                .zip(r.items().iter())
                .map(|(it, v)| ItemOut {
                    id: &it.id,
                    label: &it.label,
                    value: match v {
                        Value::Bool(b) => Some(*b),
                        _ => None,
                    },
                })
                .collect();
            m.serialize_entry("items", &items)?;
        }
        m.serialize_entry("points", &r.points().map(fmt_dec))?;
        m.serialize_entry("max_points", &r.max_points(c).map(fmt_dec))?;
        let tnode = match &c.kind {
            CritKind::Target(t) => Some(t),
            _ => None,
        };
        m.serialize_entry(
            "children",
            &ChildrenOut {
                prog,
                t: tnode,
                n: r.node,
            },
        )?;
        m.end()
    }
}

#[derive(serde::Serialize)]
struct ItemOut<'a> {
    id: &'a str,
    label: &'a Option<String>,
    value: Option<bool>,
}

/// A section's points and maximum, over the criteria in it or below it.
pub fn section_points(
    prog: &Program,
    st: &UnitState,
    si: usize,
) -> (Option<Decimal>, Option<Decimal>) {
    let inside = |mut s: Option<usize>| {
        while let Some(x) = s {
            if x == si {
                return true;
            }
            s = prog.sections.get(x).and_then(|p| p.parent);
        }
        false
    };
    let mut pts = None;
    let mut max = None;
    for (c, r) in prog.criteria.iter().zip(st.criteria()) {
        if !inside(c.section) || r.status() == Status::NotApplicable {
            continue;
        }
        if let Some(p) = r.points() {
            pts = Some(pts.unwrap_or(Decimal::ZERO).saturating_add(p));
        }
        if let Some(m) = r.max_points(c) {
            max = Some(max.unwrap_or(Decimal::ZERO).saturating_add(m));
        }
    }
    (pts, max)
}

pub fn eval_json(prog: &Program, ev: &Evaluation, skipped: &[Skipped], warnings: J) -> J {
    let units: Vec<J> = ev
        .units()
        .map(|(row, st)| unit_json(prog, ev, row, st))
        .collect();
    json!({
        "campaign": campaign_json(prog),
        "units": units,
        "skipped": skipped,
        "warnings": warnings,
    })
}

fn campaign_json(prog: &Program) -> J {
    let period = prog.info.period.map(|(a, b)| json!({"from": a.format("%Y-%m-%d").to_string(), "to": b.format("%Y-%m-%d").to_string()}));
    json!({"id": prog.info.id, "title": prog.info.title, "period": period})
}

/// Pretty JSON whose lines after the first are indented by `indent` spaces,
/// to sit inside a pretty-printed object.
fn pretty_at(v: &J, indent: usize) -> String {
    let mut out = Vec::new();
    pretty_into(v, indent, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`pretty_at`], written at the end of `out`: serde_json's pretty layout
/// (two spaces a level) begun `indent / 2` levels deep, so that a large
/// report is not laid out and then indented again line by line.
fn pretty_into(v: &impl Serialize, indent: usize, out: &mut Vec<u8>) {
    let at = out.len();
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, Nested::new(indent / 2));
    if v.serialize(&mut ser).is_err() {
        out.truncate(at);
        out.extend_from_slice(b"null");
    }
}

/// serde_json's `PrettyFormatter` (two spaces a level), begun at a depth.
struct Nested {
    depth: usize,
    has_value: bool,
}

impl Nested {
    fn new(depth: usize) -> Self {
        Nested {
            depth,
            has_value: false,
        }
    }
    fn open<W: ?Sized + std::io::Write>(&mut self, w: &mut W, b: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b)
    }
    fn close<W: ?Sized + std::io::Write>(&mut self, w: &mut W, b: &[u8]) -> std::io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.has_value {
            self.line(w)?;
        }
        w.write_all(b)
    }
    fn line<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
    fn item<W: ?Sized + std::io::Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.line(w)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// The JSON report written piece by piece, unit by unit, byte for byte as
/// `serde_json::to_string_pretty(&eval_json(…))` followed by a newline.
pub struct JsonPieces;

impl JsonPieces {
    /// Everything before the first unit.
    pub fn head(prog: &Program) -> String {
        format!(
            "{{\n  \"campaign\": {},\n  \"units\": [",
            pretty_at(&campaign_json(prog), 2)
        )
    }
    /// The units of an evaluation, each on its lines, separated by commas
    /// (the separator between two pieces is [`JsonPieces::SEP`]).
    pub fn units(prog: &Program, ev: &Evaluation, out: &mut Vec<u8>) {
        for (k, (row, st)) in ev.units().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"\n    ");
            pretty_into(&UnitOut { prog, row, st }, 4, out);
        }
    }
    pub const SEP: &'static [u8] = b",";
    /// Everything after the last unit.
    pub fn tail(any_units: bool, skipped: &[Skipped], warnings: &J) -> String {
        let skipped = serde_json::to_value(skipped).unwrap_or(J::Array(Vec::new()));
        format!(
            "{}],\n  \"skipped\": {},\n  \"warnings\": {}\n}}\n",
            if any_units { "\n  " } else { "" },
            pretty_at(&skipped, 2),
            pretty_at(warnings, 2)
        )
    }
}

/// The JSON report of an evaluation held in memory.
pub fn eval_json_text(
    prog: &Program,
    ev: &Evaluation,
    skipped: &[Skipped],
    warnings: &J,
) -> String {
    let mut units = Vec::new();
    JsonPieces::units(prog, ev, &mut units);
    let mut s = JsonPieces::head(prog);
    s.push_str(&String::from_utf8_lossy(&units));
    s.push_str(&JsonPieces::tail(
        ev.units().next().is_some(),
        skipped,
        warnings,
    ));
    s
}

/// Wide CSV: one row per unit.
pub fn eval_csv(prog: &Program, ev: &Evaluation, locale: Locale) -> Result<Vec<u8>, String> {
    let mut out = csv_head(prog, locale)?;
    csv_units(prog, ev, locale, &mut out)?;
    Ok(out)
}

fn csv_writer(locale: Locale, out: &mut Vec<u8>) -> csv::Writer<&mut Vec<u8>> {
    let delim = if locale == Locale::Vi { b';' } else { b',' };
    csv::WriterBuilder::new().delimiter(delim).from_writer(out)
}

/// The wide CSV's byte-order mark (`vi`) and header row.
pub fn csv_head(prog: &Program, locale: Locale) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    if locale == Locale::Vi {
        out.extend_from_slice("\u{FEFF}".as_bytes());
    }
    let mut w = csv_writer(locale, &mut out);
    for h in ["id", "name", "bloc", "score", "rank", "rating", "awards"] {
        w.write_field(h).map_err(|e| e.to_string())?;
    }
    for c in &prog.criteria {
        w.write_field(&c.id).map_err(|e| e.to_string())?;
        if prog.scoring.is_some() {
            w.write_field(format!("{}.points", c.id))
                .map_err(|e| e.to_string())?;
        }
    }
    w.write_record(None::<&[u8]>).map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())?;
    drop(w);
    Ok(out)
}

/// The wide CSV's rows for the units of an evaluation.
pub fn csv_units(
    prog: &Program,
    ev: &Evaluation,
    locale: Locale,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let scored = prog.scoring.is_some();
    let delim = if locale == Locale::Vi { b';' } else { b',' };
    let num = |out: &mut Vec<u8>, d: Decimal| {
        let s = fmt_dec(d);
        if locale == Locale::Vi {
            out.extend_from_slice(s.replace('.', ",").as_bytes());
        } else {
            out.extend_from_slice(s.as_bytes());
        }
    };
    for (row, st) in ev.units() {
        let rating = st
            .rating
            .and_then(|r| prog.rating.as_ref().and_then(|x| x.branches.get(r)))
            .map(|b| b.id.as_str());
        let awards: Vec<&str> = prog
            .awards
            .iter()
            .zip(st.awards.iter())
            .filter(|(_, g)| **g)
            .map(|(a, _)| a.id.as_str())
            .collect();
        csv_field(out, &row.id, delim);
        out.push(delim);
        csv_field(out, row.name.as_deref().unwrap_or_default(), delim);
        out.push(delim);
        csv_field(out, row.bloc.as_deref().unwrap_or_default(), delim);
        out.push(delim);
        if let Some(s) = st.score {
            num(out, s);
        }
        out.push(delim);
        if let Some(r) = st.rank {
            out.extend_from_slice(r.to_string().as_bytes());
        }
        out.push(delim);
        csv_field(out, rating.unwrap_or_default(), delim);
        out.push(delim);
        csv_field(out, &awards.join(";"), delim);
        // Statuses and numbers never need quoting.
        for r in st.criteria() {
            out.push(delim);
            out.extend_from_slice(r.status().as_str().as_bytes());
            if scored {
                out.push(delim);
                if let Some(p) = r.points() {
                    num(out, p);
                }
            }
        }
        out.push(b'\n');
    }
    Ok(())
}

/// One CSV field as the `csv` crate writes it by default: quoted, with
/// quotes doubled, when it holds the separator, a quote or a line break.
fn csv_field(out: &mut Vec<u8>, field: &str, delim: u8) {
    let b = field.as_bytes();
    if !b
        .iter()
        .any(|&c| c == delim || c == b'"' || c == b'\n' || c == b'\r')
    {
        out.extend_from_slice(b);
        return;
    }
    out.push(b'"');
    for &c in b {
        if c == b'"' {
            out.push(b'"');
        }
        out.push(c);
    }
    out.push(b'"');
}

fn status_mark(s: Status) -> &'static str {
    match s {
        Status::Exceeded => "vượt",
        Status::Met => "đạt",
        Status::NotMet => "không đạt",
        Status::Late => "chậm",
        Status::Missing => "thiếu số liệu",
        Status::NotApplicable => "không áp dụng",
    }
}

pub fn paint(s: Status, text: &str, color: bool) -> String {
    use owo_colors::OwoColorize;
    if !color {
        return text.to_string();
    }
    match s {
        Status::Exceeded => text.bright_green().bold().to_string(),
        Status::Met => text.green().to_string(),
        Status::NotMet | Status::Late => text.red().to_string(),
        Status::Missing => text.yellow().to_string(),
        Status::NotApplicable => text.dimmed().to_string(),
    }
}

/// One block per unit.
pub fn eval_table(prog: &Program, ev: &Evaluation, color: bool) -> String {
    let mut out = String::new();
    let title = prog
        .info
        .title
        .clone()
        .unwrap_or_else(|| prog.info.id.clone());
    out.push_str(&format!("{title}\n"));
    if let Some(d) = &prog.info.doc {
        out.push_str(&format!("/// {}\n", d.replace('\n', "\n/// ")));
    }
    let idw = prog
        .criteria
        .iter()
        .map(|c| c.id.chars().count())
        .max()
        .unwrap_or(2)
        .max(2);
    for (row, st) in ev.units() {
        out.push('\n');
        let mut head = format!(
            "{} {}",
            row.id,
            row.name
                .as_deref()
                .map(|n| format!("({n})"))
                .unwrap_or_default()
        );
        if let Some(b) = &row.bloc {
            head.push_str(&format!(" · {b}"));
        }
        out.push_str(head.trim_end());
        out.push('\n');
        for (ci, (c, r)) in prog.criteria.iter().zip(st.criteria()).enumerate() {
            let (display, ty) = crit_display(prog, ci);
            let status = r.status();
            let mut line = format!(
                "  {:<idw$}  {}",
                c.id,
                paint(status, &format!("{:<13}", status.as_str()), color)
            );
            if let Some(a) = r.node.actual() {
                line.push_str(&format!("  {}", value_text(prog, a, &display, ty.as_ref())));
                if let Some(g) = r.node.goal() {
                    line.push_str(&format!(
                        " / {}",
                        value_text(prog, g, &display, ty.as_ref())
                    ));
                }
            }
            if let Some(d) = r.days_late().filter(|d| *d > 0) {
                line.push_str(&format!("  ({d} ngày chậm)"));
            }
            if let (Some(m), Some(t)) = (
                r.items_met(),
                match &c.kind {
                    CritKind::Checklist(cl) => Some(cl.items.len()),
                    _ => None,
                },
            ) {
                line = format!(
                    "  {:<idw$}  {}  {m}/{t}",
                    c.id,
                    paint(status, &format!("{:<13}", status.as_str()), color)
                );
            }
            if let Some(p) = r.points() {
                match r.max_points(c) {
                    Some(m) => line.push_str(&format!("  [{} / {} điểm]", fmt_dec(p), fmt_dec(m))),
                    None => line.push_str(&format!("  [{} điểm]", fmt_dec(p))),
                }
            }
            // The plan's words for the criterion, after what was found.
            if let Some(l) = c.label.as_deref().filter(|l| !l.is_empty()) {
                line.push_str(&format!("  · {}", l.replace(['\r', '\n'], " ")));
            }
            out.push_str(&line);
            out.push('\n');
        }
        let mut tail = Vec::new();
        if let Some(s) = st.score {
            tail.push(format!("score {}", fmt_dec(s)));
        }
        if let Some(r) = st.rank {
            tail.push(format!("rank {r}"));
        }
        if let Some(b) = st
            .rating
            .and_then(|r| prog.rating.as_ref().and_then(|x| x.branches.get(r)))
        {
            tail.push(format!("rating {}", id_label(&b.id, b.label.as_deref())));
        }
        let awards: Vec<String> = prog
            .awards
            .iter()
            .zip(st.awards.iter())
            .filter(|(_, g)| **g)
            .map(|(a, _)| id_label(&a.id, a.label.as_deref()))
            .collect();
        if !awards.is_empty() {
            tail.push(format!("awards {}", awards.join(", ")));
        }
        if !tail.is_empty() {
            out.push_str(&format!("  → {}\n", tail.join(" · ")));
        }
    }
    out
}

/// A Markdown report: one table of units × criteria.
pub fn eval_md(prog: &Program, ev: &Evaluation) -> String {
    let mut out = String::new();
    let title = prog
        .info
        .title
        .clone()
        .unwrap_or_else(|| prog.info.id.clone());
    out.push_str(&format!("# {title}\n\n"));
    if let Some(i) = &prog.info.issuer {
        out.push_str(&format!("{i}\n\n"));
    }
    if let Some(d) = &prog.info.doc {
        out.push_str(&format!("{d}\n\n"));
    }
    let mut header = vec!["Đơn vị".to_string()];
    header.extend(prog.criteria.iter().map(|c| c.id.clone()));
    let scored = prog.scoring.is_some();
    if scored {
        header.push("Điểm".into());
        header.push("Hạng".into());
    }
    if prog.rating.is_some() {
        header.push("Xếp loại".into());
    }
    if !prog.awards.is_empty() {
        header.push("Khen thưởng".into());
    }
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    for (row, st) in ev.units() {
        // The unit's id and name, and each status as the language writes
        // it with the Vietnamese beside it: `hiep_hoa (Huyện Hiệp Hòa)`,
        // `exceeded (vượt)`.
        let mut cells = vec![md_cell(&id_label(&row.id, row.name.as_deref()))];
        cells.extend(st.criteria().map(|r| {
            let s = r.status();
            format!("{} ({})", s.as_str(), status_mark(s))
        }));
        if scored {
            cells.push(st.score.map(fmt_dec).unwrap_or_default());
            cells.push(st.rank.map(|r| r.to_string()).unwrap_or_default());
        }
        if prog.rating.is_some() {
            cells.push(
                st.rating
                    .and_then(|r| prog.rating.as_ref().and_then(|x| x.branches.get(r)))
                    .map(|b| md_cell(&id_label(&b.id, b.label.as_deref())))
                    .unwrap_or_default(),
            );
        }
        if !prog.awards.is_empty() {
            let a: Vec<String> = prog
                .awards
                .iter()
                .zip(st.awards.iter())
                .filter(|(_, g)| **g)
                .map(|(a, _)| md_cell(&id_label(&a.id, a.label.as_deref())))
                .collect();
            cells.push(a.join("; "));
        }
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push('\n');
    for c in &prog.criteria {
        out.push_str(&format!(
            "- `{}`: {}\n",
            c.id,
            c.label.clone().unwrap_or_default()
        ));
        if let Some(d) = &c.doc {
            out.push_str(&format!("  {}\n", d.replace('\n', " ")));
        }
    }
    out
}

/// A type in words: `percent`, `tỷ đồng`, `date`, `levels xep_loai_nhiem_vu`.
pub fn type_name(prog: &Program, ty: &Type, display: &Display) -> String {
    match ty {
        Type::Number => "number".into(),
        Type::Percent => "percent".into(),
        Type::Quantity(_) | Type::Duration(_) => {
            display.text.clone().unwrap_or_else(|| "quantity".into())
        }
        Type::Bool => "bool".into(),
        Type::Date => "date".into(),
        Type::Text => "text".into(),
        Type::Level(i) if *i == crate::check::RATING_SET => "rating".into(),
        Type::Level(i) => format!(
            "levels {}",
            prog.levels.get(*i).map(|l| l.id.as_str()).unwrap_or("?")
        ),
        Type::Status => "status".into(),
        Type::Error => "error".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::{csv_field, pretty_at};
    use serde_json::json;

    /// Nested pretty JSON is serde_json's pretty layout with every line
    /// after the first indented, byte for byte.
    #[test]
    fn nested_pretty_json_is_indented_pretty_json() {
        let values = [
            json!(null),
            json!("một\ndòng"),
            json!([]),
            json!({}),
            json!([[], {}, [1, [2, {"a": []}]], {"b": {"c": null, "d": [true, "x"]}}]),
            json!({"units": [{"id": "u1", "criteria": [], "sections": [{}]}], "z": 1.5}),
        ];
        for v in &values {
            for indent in [0, 2, 4, 8] {
                let text = serde_json::to_string_pretty(v).unwrap_or_default();
                let expected = text.replace('\n', &format!("\n{}", " ".repeat(indent)));
                assert_eq!(pretty_at(v, indent), expected, "{v} at {indent}");
            }
        }
    }

    /// The wide CSV's fields are written by hand; they must be what the
    /// `csv` crate would write.
    #[test]
    fn fields_are_quoted_as_the_csv_crate_quotes_them() {
        let fields = [
            "",
            "u1",
            "Đơn vị, số 1",
            "a;b",
            "q\"uote",
            "\"",
            "line\nbreak",
            "cr\rx",
            " lead",
            "trail ",
            "#hash",
            "x,y;z\"w",
            "Khối 3",
        ];
        for delim in [b',', b';'] {
            for pair in fields.windows(2) {
                let mut want = Vec::new();
                {
                    let mut w = csv::WriterBuilder::new()
                        .delimiter(delim)
                        .from_writer(&mut want);
                    w.write_record(pair).expect("csv");
                    w.flush().expect("csv");
                }
                let mut got = Vec::new();
                csv_field(&mut got, pair[0], delim);
                got.push(delim);
                csv_field(&mut got, pair[1], delim);
                got.push(b'\n');
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "{pair:?}"
                );
            }
        }
    }
}
