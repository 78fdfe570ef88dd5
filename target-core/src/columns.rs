//! JSON Schema → columns: which columns a stream's schema gives, flattened with `__`, each with
//! a [`Kind`]; a database names each kind's type in its [`TypeMap`].
//!
//! | JSON Schema | kind |
//! |---|---|
//! | `integer` | [`Kind::Integer`] |
//! | `number` | [`Kind::Number`] |
//! | `boolean` | [`Kind::Boolean`] |
//! | `string` with `format: date-time` (in every branch that allows a string) | [`Kind::Timestamp`] |
//! | `string` (any other `format`) | [`Kind::Text`] |
//! | `object` with `properties`, within `flatten_max_depth` | one `parent__child` column per property |
//! | `object` without `properties`, deeper objects, every `array` | [`Kind::Json`] |
//! | `["null", T]`, `anyOf`/`oneOf` with a null branch | nullable `T` |
//! | several non-null types, or no type at all | [`Kind::Json`] |

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::names::{normalise, quote};

/// What a column holds, whatever the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `integer`.
    Integer,
    /// `number`.
    Number,
    /// `boolean`.
    Boolean,
    /// `string` with `format: date-time`.
    Timestamp,
    /// Any other `string`.
    Text,
    /// Anything kept as JSON.
    Json,
}

/// A database's column type for each [`Kind`]: the type map, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeMap {
    /// Type of [`Kind::Integer`] columns.
    pub integer: &'static str,
    /// Type of [`Kind::Number`] columns.
    pub number: &'static str,
    /// Type of [`Kind::Boolean`] columns.
    pub boolean: &'static str,
    /// Type of [`Kind::Timestamp`] columns.
    pub timestamp: &'static str,
    /// Type of [`Kind::Text`] columns.
    pub text: &'static str,
    /// Type of [`Kind::Json`] columns.
    pub json: &'static str,
}

impl TypeMap {
    /// The kind whose columns have type `declared` (integer before boolean, text before JSON
    /// and timestamps, when several share a type).
    pub fn kind_of(&self, declared: &str) -> Option<Kind> {
        [
            Kind::Integer,
            Kind::Number,
            Kind::Text,
            Kind::Boolean,
            Kind::Json,
            Kind::Timestamp,
        ]
        .into_iter()
        .find(|k| self.get(*k).eq_ignore_ascii_case(declared))
    }

    /// The type of a kind's columns.
    pub fn get(&self, kind: Kind) -> &'static str {
        match kind {
            Kind::Integer => self.integer,
            Kind::Number => self.number,
            Kind::Boolean => self.boolean,
            Kind::Timestamp => self.timestamp,
            Kind::Text => self.text,
            Kind::Json => self.json,
        }
    }

    /// The column definitions of a `CREATE TABLE`: each column quoted with its type, then the
    /// primary key when there are `keys`.
    pub fn table_definition(&self, columns: &[(String, Kind)], keys: &[String]) -> String {
        let mut defs: Vec<String> = columns
            .iter()
            .map(|(n, k)| format!("{} {}", quote(n), self.get(*k)))
            .collect();
        if !keys.is_empty() {
            let pk: Vec<String> = keys.iter().map(|k| quote(k)).collect();
            defs.push(format!("PRIMARY KEY ({})", pk.join(", ")));
        }
        defs.join(", ")
    }
}

/// JSON Schema `type` → kind of a scalar column; `string` is refined by `format` below.
const SCALAR_KINDS: [(&str, Kind); 4] = [
    ("integer", Kind::Integer),
    ("number", Kind::Number),
    ("boolean", Kind::Boolean),
    ("string", Kind::Text),
];

/// `string` formats with a kind of their own.
const STRING_FORMATS: [(&str, Kind); 1] = [("date-time", Kind::Timestamp)];

/// A column that a schema property maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Normalised column name.
    pub name: String,
    /// Property names from the record's top level down to the value.
    pub path: Vec<String>,
    /// How the value is stored.
    pub kind: Kind,
}

/// The declared properties of a record as a tree sorted by name: how to walk a record into
/// columns, and how to notice properties its schema does not declare.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    /// Declared properties sorted by name.
    pub properties: Vec<(String, Node)>,
}

/// What a declared property becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A column, by name, with its kind.
    Column(String, Kind),
    /// A flattened object.
    Object(Shape),
}

/// A schema that cannot be mapped to a table.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    /// The top level has no `properties` object.
    #[error("schema has no `properties` object")]
    NoProperties,
    /// Two properties map to one column.
    #[error("properties `{0}` and `{1}` both map to column `{2}`")]
    Collision(String, String, String),
}

/// The columns of a record schema, ordered by property name (depth first), and its shape.
/// Column names are fitted to `max_identifier_bytes` when the database has such a limit.
pub fn columns(
    schema: &Value,
    max_depth: usize,
    max_identifier_bytes: Option<usize>,
) -> Result<(Vec<Column>, Shape), SchemaError> {
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or(SchemaError::NoProperties)?;
    let mut out = Vec::new();
    let mut shape = walk(properties, &mut Vec::new(), "", 0, max_depth, &mut out);
    if let Some(max) = max_identifier_bytes {
        for column in &mut out {
            column.name = crate::names::fit(&column.name, max);
        }
        shape.fit_names(max);
    }
    let mut seen: HashMap<&str, &Column> = HashMap::new();
    for column in &out {
        if let Some(first) = seen.insert(&column.name, column) {
            return Err(SchemaError::Collision(
                first.path.join("."),
                column.path.join("."),
                column.name.clone(),
            ));
        }
    }
    Ok((out, shape))
}

fn walk(
    properties: &Map<String, Value>,
    path: &mut Vec<String>,
    prefix: &str,
    depth: usize,
    max_depth: usize,
    out: &mut Vec<Column>,
) -> Shape {
    let mut shape = Shape::default();
    for (name, property) in properties {
        path.push(name.clone());
        let column_name = format!("{prefix}{}", normalise(name));
        let node = match classify(property) {
            Class::Object(children) if depth < max_depth => Node::Object(walk(
                children,
                path,
                &format!("{column_name}__"),
                depth + 1,
                max_depth,
                out,
            )),
            class => {
                out.push(Column {
                    name: column_name.clone(),
                    path: path.clone(),
                    kind: class.kind(),
                });
                Node::Column(column_name, class.kind())
            }
        };
        shape.properties.push((name.clone(), node));
        path.pop();
    }
    shape.properties.sort_by(|a, b| a.0.cmp(&b.0));
    shape
}

impl Shape {
    fn fit_names(&mut self, max: usize) {
        for (_, node) in &mut self.properties {
            match node {
                Node::Column(name, _) => *name = crate::names::fit(name, max),
                Node::Object(inner) => inner.fit_names(max),
            }
        }
    }

    /// The declared property `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Node> {
        let i = self
            .properties
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()?;
        Some(&self.properties[i].1)
    }
}

enum Class<'a> {
    Scalar(Kind),
    Object(&'a Map<String, Value>),
}

impl Class<'_> {
    fn kind(&self) -> Kind {
        match self {
            Class::Scalar(kind) => *kind,
            Class::Object(_) => Kind::Json,
        }
    }
}

/// Decides what a property schema is, ignoring null.
fn classify(property: &Value) -> Class<'_> {
    let mut types: Vec<&str> = Vec::new();
    let mut formats: Vec<Option<&str>> = Vec::new();
    let mut object_properties = None;
    collect(property, &mut types, &mut formats, &mut object_properties);
    types.sort_unstable();
    types.dedup();
    types.retain(|t| *t != "null");
    match types.as_slice() {
        ["object"] => match object_properties {
            Some(p) if !p.is_empty() => Class::Object(p),
            _ => Class::Scalar(Kind::Json),
        },
        [one] => {
            let kind = SCALAR_KINDS
                .iter()
                .find(|(t, _)| t == one)
                .map_or(Kind::Json, |(_, k)| *k);
            // A format counts only when every branch that allows a string names it.
            let format = formats.first().copied().flatten();
            let agreed = formats.iter().all(|f| *f == format);
            let refined = STRING_FORMATS
                .iter()
                .find(|(f, _)| kind == Kind::Text && agreed && Some(*f) == format);
            Class::Scalar(refined.map_or(kind, |(_, k)| *k))
        }
        _ => Class::Scalar(Kind::Json),
    }
}

/// Gathers the types a property schema allows, through `anyOf`/`oneOf` branches, and the
/// `format` of each branch that allows a string.
fn collect<'a>(
    schema: &'a Value,
    types: &mut Vec<&'a str>,
    formats: &mut Vec<Option<&'a str>>,
    object_properties: &mut Option<&'a Map<String, Value>>,
) {
    let before = types.len();
    match schema.get("type") {
        Some(Value::String(t)) => types.push(t),
        Some(Value::Array(ts)) => types.extend(ts.iter().filter_map(Value::as_str)),
        _ => {}
    }
    if types[before..].contains(&"string") {
        formats.push(schema.get("format").and_then(Value::as_str));
    }
    if let Some(p) = schema.get("properties").and_then(Value::as_object) {
        object_properties.get_or_insert(p);
    }
    for key in ["anyOf", "oneOf"] {
        for branch in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            collect(branch, types, formats, object_properties);
        }
    }
    if schema.get("type").is_none()
        && !schema.get("anyOf").is_some_and(Value::is_array)
        && !schema.get("oneOf").is_some_and(Value::is_array)
    {
        // No type at all: anything goes, so the column holds JSON.
        types.push("any");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_definition_quotes_names_and_adds_the_key() {
        let types = TypeMap {
            integer: "INT",
            number: "NUM",
            boolean: "BOOL",
            timestamp: "TS",
            text: "TXT",
            json: "JSON",
        };
        let columns = [
            ("id".to_string(), Kind::Integer),
            ("a\"b".to_string(), Kind::Json),
        ];
        assert_eq!(
            types.table_definition(&columns, &["id".to_string()]),
            r#""id" INT, "a""b" JSON, PRIMARY KEY ("id")"#
        );
        assert_eq!(types.table_definition(&columns[..1], &[]), r#""id" INT"#);
    }

    fn kinds(schema: Value, depth: usize) -> Vec<(String, Kind)> {
        columns(&schema, depth, None)
            .expect("maps")
            .0
            .into_iter()
            .map(|c| (c.name, c.kind))
            .collect()
    }

    #[test]
    fn type_table() {
        let schema = json!({"properties": {
            "i": {"type": "integer"},
            "n": {"type": ["null", "number"]},
            "b": {"type": "boolean"},
            "s": {"type": "string", "format": "date-time"},
            "d": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
            "e": {"type": "string", "format": "email"},
            "t": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": ["string", "null"]}]},
            "a": {"type": "array", "items": {"type": "string"}},
            "free": {"type": "object"},
            "any_of": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "multi": {"type": ["string", "integer"]},
            "untyped": {},
        }});
        let got = kinds(schema, 10);
        let want = [
            ("a", Kind::Json),
            ("any_of", Kind::Text),
            ("b", Kind::Boolean),
            ("d", Kind::Timestamp),
            ("e", Kind::Text),
            ("free", Kind::Json),
            ("i", Kind::Integer),
            ("multi", Kind::Json),
            ("n", Kind::Number),
            ("s", Kind::Timestamp),
            ("t", Kind::Text),
            ("untyped", Kind::Json),
        ];
        let want: Vec<_> = want.iter().map(|(n, k)| (n.to_string(), *k)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn flattens_to_max_depth() {
        let schema = json!({"properties": {
            "commit": {"type": ["null", "object"], "properties": {
                "author": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {
                    "name": {"type": "string"}, "dateTime": {"type": "string"}}}]},
                "message": {"type": "string"}}}}});
        let names: Vec<_> = kinds(schema.clone(), 10)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            [
                "commit__author__date_time",
                "commit__author__name",
                "commit__message"
            ]
        );
        assert_eq!(
            kinds(schema.clone(), 1),
            vec![
                ("commit__author".into(), Kind::Json),
                ("commit__message".into(), Kind::Text)
            ]
        );
        assert_eq!(kinds(schema, 0), vec![("commit".into(), Kind::Json)]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            columns(&json!({"type": "object"}), 10, None),
            Err(SchemaError::NoProperties)
        );
        let err = columns(
            &json!({"properties": {"userId": {}, "user_id": {}}}),
            10,
            None,
        )
        .expect_err("collides");
        assert_eq!(
            err,
            SchemaError::Collision("userId".into(), "user_id".into(), "user_id".into())
        );
        let err = columns(
            &json!({"properties": {"a": {"type": "object", "properties": {"b": {}}}, "a__b": {}}}),
            10,
            None,
        )
        .expect_err("collides");
        assert_eq!(
            err.to_string(),
            "properties `a.b` and `a__b` both map to column `a__b`"
        );
    }

    #[test]
    fn long_names_are_fitted_and_still_collide_when_equal() {
        let long = "a".repeat(80);
        let schema = json!({"properties": {(long.clone()): {"type": "integer"},
            "o": {"type": "object", "properties": {(long.clone()): {"type": "string"}}}}});
        let (cols, shape) = columns(&schema, 10, Some(63)).expect("maps");
        assert!(cols.iter().all(|c| c.name.len() <= 63), "{cols:?}");
        assert_ne!(cols[0].name, cols[1].name);
        assert!(matches!(shape.get(&long), Some(Node::Column(n, _)) if n.len() == 63));
    }

    #[test]
    fn shape_records_flattened_objects() {
        let (_, shape) = columns(
            &json!({"properties": {"o": {"type": "object", "properties": {"x": {}}}, "y": {}}}),
            10,
            None,
        )
        .expect("maps");
        assert_eq!(shape.get("y"), Some(&Node::Column("y".into(), Kind::Json)));
        assert!(matches!(shape.get("o"), Some(Node::Object(s)) if s.get("x").is_some()));
        assert_eq!(shape.get("z"), None);
    }
}
