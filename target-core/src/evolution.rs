//! Schema evolution: what a SCHEMA does to a stream's table, decided without touching the
//! database. New properties add columns; removed ones keep their column (NULL from then on);
//! a changed type is logged and the column kept; changed key properties are an error.

use crate::columns::{Kind, TypeMap};

/// A column of an existing table, as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingColumn {
    /// Its name.
    pub name: String,
    /// Its declared type, as the database spells it.
    pub declared: String,
    /// 1-based position in the primary key, 0 when not part of it.
    pub pk: i64,
}

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A (possibly nested) record property.
    Property,
    /// One of [`crate::METADATA_COLUMNS`], by index.
    Metadata(usize),
    /// A column the current schema no longer has: NULL from now on.
    Gone,
}

/// A column the schema asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// Its name.
    pub name: String,
    /// What it holds.
    pub kind: Kind,
    /// Where its value comes from.
    pub source: Source,
}

/// What to do to the database, and the table's columns afterwards, in table order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TablePlan {
    /// Create the table with all of `columns` (it does not exist yet).
    pub create: bool,
    /// Columns to add to the existing table.
    pub add: Vec<(String, Kind)>,
    /// Every column of the table afterwards.
    pub columns: Vec<Wanted>,
    /// Columns whose type differs from what the schema asks: (column, declared, wanted).
    pub type_changes: Vec<(String, String, &'static str)>,
}

/// Why a table cannot take a schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvolutionError {
    /// The existing table's primary key differs from `key_properties`.
    #[error(
        "key_properties {wanted:?} differ from the primary key {existing:?} of existing table `{table}`"
    )]
    KeyChanged {
        /// The table.
        table: String,
        /// Its primary key columns.
        existing: Vec<String>,
        /// The columns `key_properties` map to.
        wanted: Vec<String>,
    },
    /// The schema gives the table no column at all.
    #[error("schema gives table `{0}` no columns")]
    NoColumns(String),
}

/// Decides how `existing` (empty: no table yet) becomes a table with the `wanted` columns and
/// primary key `keys`.
pub fn plan(
    table: &str,
    existing: &[ExistingColumn],
    wanted: Vec<Wanted>,
    keys: &[String],
    types: &TypeMap,
) -> Result<TablePlan, EvolutionError> {
    if existing.is_empty() {
        if wanted.is_empty() {
            return Err(EvolutionError::NoColumns(table.to_string()));
        }
        return Ok(TablePlan {
            create: true,
            add: Vec::new(),
            columns: wanted,
            type_changes: Vec::new(),
        });
    }
    let mut pk: Vec<(i64, String)> = existing
        .iter()
        .filter(|c| c.pk > 0)
        .map(|c| (c.pk, c.name.clone()))
        .collect();
    pk.sort();
    let pk: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
    if pk != keys {
        return Err(EvolutionError::KeyChanged {
            table: table.to_string(),
            existing: pk,
            wanted: keys.to_vec(),
        });
    }
    let mut columns = Vec::new();
    let mut type_changes = Vec::new();
    for column in existing {
        match wanted.iter().find(|w| w.name == column.name) {
            Some(w) => {
                let now = types.get(w.kind);
                let mut kept = w.clone();
                if !column.declared.eq_ignore_ascii_case(now) {
                    type_changes.push((column.name.clone(), column.declared.clone(), now));
                    kept.kind = types.kind_of(&column.declared).unwrap_or(Kind::Text);
                }
                columns.push(kept);
            }
            None => columns.push(Wanted {
                name: column.name.clone(),
                kind: Kind::Json,
                source: Source::Gone,
            }),
        }
    }
    let mut add = Vec::new();
    for w in wanted {
        if existing.iter().all(|c| c.name != w.name) {
            add.push((w.name.clone(), w.kind));
            columns.push(w);
        }
    }
    Ok(TablePlan {
        create: false,
        add,
        columns,
        type_changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPES: TypeMap = TypeMap {
        integer: "INTEGER",
        number: "REAL",
        boolean: "INTEGER",
        timestamp: "TEXT",
        text: "TEXT",
        json: "TEXT",
    };

    fn want(name: &str, kind: Kind) -> Wanted {
        Wanted {
            name: name.into(),
            kind,
            source: Source::Property,
        }
    }

    fn has(name: &str, declared: &str, pk: i64) -> ExistingColumn {
        ExistingColumn {
            name: name.into(),
            declared: declared.into(),
            pk,
        }
    }

    #[test]
    fn adds_keeps_and_warns() {
        let existing = [
            has("id", "INTEGER", 1),
            has("old", "TEXT", 0),
            has("t", "TEXT", 0),
        ];
        let wanted = vec![
            want("id", Kind::Integer),
            want("new", Kind::Number),
            want("t", Kind::Integer),
        ];
        let plan = plan("x", &existing, wanted, &["id".into()], &TYPES).expect("plans");
        assert!(!plan.create);
        assert_eq!(plan.add, [("new".to_string(), Kind::Number)]);
        let names: Vec<_> = plan
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.source))
            .collect();
        assert_eq!(
            names,
            [
                ("id", Source::Property),
                ("old", Source::Gone),
                ("t", Source::Property),
                ("new", Source::Property)
            ]
        );
        assert_eq!(
            plan.type_changes,
            [("t".to_string(), "TEXT".to_string(), "INTEGER")]
        );
        // Values of the kept column are written for the type it has.
        assert_eq!(plan.columns[2].kind, Kind::Text);
    }

    #[test]
    fn refuses_changed_keys_and_empty_tables() {
        let existing = [has("id", "INTEGER", 1), has("b", "INTEGER", 0)];
        let err = plan("x", &existing, vec![], &["b".into()], &TYPES).expect_err("keys");
        assert_eq!(
            err.to_string(),
            r#"key_properties ["b"] differ from the primary key ["id"] of existing table `x`"#
        );
        assert_eq!(
            plan("x", &[], vec![], &[], &TYPES),
            Err(EvolutionError::NoColumns("x".into()))
        );
    }
}
