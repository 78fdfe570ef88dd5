//! A record walked into one [`Cell`] per column: its (flattened) properties, wide numbers as
//! their exact text, and the `_sdc_*` metadata columns.

use serde_json::{Map, Value};

use crate::columns::{Kind, Node, Shape};
use crate::evolution::Source;
use crate::numbers::{self, Seg, Wide};

/// The metadata columns added when `add_record_metadata` is on, with their kinds.
pub const METADATA_COLUMNS: [(&str, Kind); 6] = [
    ("_sdc_extracted_at", Kind::Timestamp),
    ("_sdc_received_at", Kind::Timestamp),
    ("_sdc_batched_at", Kind::Timestamp),
    ("_sdc_deleted_at", Kind::Timestamp),
    ("_sdc_sequence", Kind::Integer),
    ("_sdc_table_version", Kind::Integer),
];

/// Per-record metadata values, in the order of [`METADATA_COLUMNS`].
#[derive(Debug, Clone, Copy)]
pub struct RecordMeta<'a> {
    /// `time_extracted` of the message.
    pub extracted_at: Option<&'a str>,
    /// When the target read the record.
    pub received_at: &'a str,
    /// When the open transaction began.
    pub batched_at: &'a str,
    /// The record's own `_sdc_deleted_at`, if it carries one.
    pub deleted_at: Option<&'a str>,
    /// A number that grows with every record the target writes.
    pub sequence: i64,
    /// The message's table version.
    pub version: Option<i64>,
}

/// One column's value, for the database to convert.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'r> {
    /// NULL (absent, null, or a column the schema no longer has).
    Null,
    /// A record value for a column of this kind, as given (validation may be off).
    Value(&'r Value, Kind),
    /// A wide number, exactly as written, for a column of this kind (see [`crate::numbers`]).
    Exact(&'r str, Kind),
    /// JSON text of a value that holds wide numbers, for a [`Kind::Json`] column.
    Json(String),
    /// A metadata text value (a timestamp) for a column of this kind.
    Text(&'r str, Kind),
    /// A metadata integer.
    Int(i64),
}

/// How to walk a record into cells: the schema's [`Shape`] with each column replaced by its
/// index among the table's columns.
#[derive(Debug)]
pub struct RowPlan {
    properties: Vec<(String, Slot)>,
    sources: Vec<Source>,
}

#[derive(Debug)]
enum Slot {
    Column(usize, Kind),
    Object(Vec<(String, Slot)>),
    /// Declared, but its column is a metadata column's.
    Skip,
}

impl RowPlan {
    /// The plan for a table whose columns are `columns` (names, sources and the kinds their
    /// values are written as, in table order).
    pub fn new(shape: &Shape, columns: &[(&str, Source, Kind)]) -> Self {
        Self {
            properties: slots(shape, columns),
            sources: columns.iter().map(|(_, s, _)| *s).collect(),
        }
    }

    /// The cells of one record, in table order, and the paths of properties its schema does
    /// not declare (dropped). `wide` holds the record's wide numbers (paths from the record).
    pub fn cells<'r>(
        &self,
        record: &'r Map<String, Value>,
        wide: &'r [Wide],
        meta: &RecordMeta<'r>,
        undeclared: &mut Vec<String>,
    ) -> Vec<Cell<'r>> {
        let mut cells: Vec<Cell<'r>> = self
            .sources
            .iter()
            .map(|s| match s {
                Source::Metadata(i) => metadata_cell(*i, meta),
                Source::Property | Source::Gone => Cell::Null,
            })
            .collect();
        fill(&self.properties, record, &mut cells, undeclared);
        if !wide.is_empty() {
            self.exact(record, wide, &mut cells);
        }
        cells
    }

    /// Replaces the stand-ins of wide numbers with their exact text: in a scalar column as
    /// [`Cell::Exact`], inside a JSON column by writing that column's JSON exactly.
    fn exact<'r>(&self, record: &'r Map<String, Value>, wide: &'r [Wide], cells: &mut [Cell<'r>]) {
        for w in wide {
            let mut slots = &self.properties;
            let mut object = record;
            for (depth, seg) in w.path.iter().enumerate() {
                let Seg::Key(key) = seg else { break };
                let Ok(i) = slots.binary_search_by(|(n, _)| n.as_str().cmp(key)) else {
                    break;
                };
                let Some(v) = object.get(key) else { break };
                match &slots[i].1 {
                    Slot::Column(c, kind) => {
                        let rest = &w.path[depth + 1..];
                        cells[*c] = if rest.is_empty() {
                            Cell::Exact(&w.text, *kind)
                        } else {
                            let inner: Vec<Wide> = wide
                                .iter()
                                .filter_map(|x| {
                                    x.path.strip_prefix(&w.path[..=depth]).map(|p| Wide {
                                        path: p.to_vec(),
                                        text: x.text.clone(),
                                    })
                                })
                                .collect();
                            Cell::Json(numbers::to_exact_json(v, &inner))
                        };
                        break;
                    }
                    Slot::Object(inner) => match v {
                        Value::Object(fields) => {
                            slots = inner;
                            object = fields;
                        }
                        _ => break,
                    },
                    Slot::Skip => break,
                }
            }
        }
    }
}

fn slots(shape: &Shape, columns: &[(&str, Source, Kind)]) -> Vec<(String, Slot)> {
    shape
        .properties
        .iter()
        .map(|(name, node)| {
            let slot = match node {
                Node::Column(column, _) => columns
                    .iter()
                    .position(|(n, s, _)| n == column && *s == Source::Property)
                    .map_or(Slot::Skip, |i| Slot::Column(i, columns[i].2)),
                Node::Object(inner) => Slot::Object(slots(inner, columns)),
            };
            (name.clone(), slot)
        })
        .collect()
}

/// Puts each property's value in its cell and collects undeclared property paths. Both key
/// lists are usually sorted the same way, so this is mostly a merge, not a search.
fn fill<'r>(
    properties: &[(String, Slot)],
    record: &'r Map<String, Value>,
    cells: &mut [Cell<'r>],
    undeclared: &mut Vec<String>,
) {
    let mut cursor = 0;
    for (key, value) in record {
        let slot = match properties.get(cursor) {
            Some((name, slot)) if name == key => {
                cursor += 1;
                slot
            }
            _ => match properties.binary_search_by(|(n, _)| n.as_str().cmp(key)) {
                Ok(i) => {
                    cursor = i + 1;
                    &properties[i].1
                }
                Err(_) => {
                    undeclared.push(key.clone());
                    continue;
                }
            },
        };
        match (slot, value) {
            (_, Value::Null) => {}
            (Slot::Column(i, kind), _) => cells[*i] = Cell::Value(value, *kind),
            (Slot::Object(inner), Value::Object(fields)) => {
                let before = undeclared.len();
                fill(inner, fields, cells, undeclared);
                for path in &mut undeclared[before..] {
                    *path = format!("{key}.{path}");
                }
            }
            (Slot::Object(_) | Slot::Skip, _) => {}
        }
    }
}

/// The cell of metadata column `i` of [`METADATA_COLUMNS`].
fn metadata_cell<'r>(i: usize, meta: &RecordMeta<'r>) -> Cell<'r> {
    let text = |s: Option<&'r str>| s.map_or(Cell::Null, |s| Cell::Text(s, Kind::Timestamp));
    match i {
        0 => text(meta.extracted_at),
        1 => text(Some(meta.received_at)),
        2 => text(Some(meta.batched_at)),
        3 => text(meta.deleted_at),
        4 => Cell::Int(meta.sequence),
        _ => meta.version.map_or(Cell::Null, Cell::Int),
    }
}
