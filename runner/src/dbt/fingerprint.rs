//! What dbt's result depends on, reduced to one digest per part: each source table's content,
//! the project's files (profile and variables included), the environment dbt sees, its version,
//! the commands, and whether dbt's own tables are there. Equal fingerprints mean dbt would
//! build the same tables again.
//!
//! A table's digest leaves out the metadata a target rewrites on every upsert
//! ([`VOLATILE_COLUMNS`]), so records sent again with the same values (an incremental tap
//! re-sends its boundary records) do not count as change; any changed value, a new or deleted
//! row, or a new column does. Rows are hashed one by one and the hashes summed, so the digest
//! needs no ordering.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::plan::DbtPlan;

/// `_sdc_*` columns whose values change when a target writes a row again with the same data.
pub const VOLATILE_COLUMNS: [&str; 5] = [
    "_sdc_extracted_at",
    "_sdc_received_at",
    "_sdc_batched_at",
    "_sdc_sequence",
    "_sdc_table_version",
];

/// Folders of a dbt project that dbt writes into, not part of its sources.
const GENERATED_DIRS: [&str; 4] = ["target", "logs", "dbt_packages", ".venv"];

/// One digest per part dbt's result depends on, keyed `table:<name>`, `project`, `env`, `dbt`,
/// `commands`, `outputs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint(pub BTreeMap<String, String>);

/// Why a fingerprint could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    /// The raw database could not be read.
    #[error("reading {path}: {source}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A file of the dbt project could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// The digest of a source table that is not in the database: a model selection may leave it
/// unread, and the day it appears, the digest changes.
const ABSENT: &str = "absent";

/// Takes the fingerprint of `dbt`'s inputs; `target_path` holds the manifest of the last dbt
/// run, which names the source tables (without one, every table of the database counts).
/// Returns whether the manifest named them.
pub fn take(dbt: &DbtPlan, target_path: &Path) -> Result<(Fingerprint, bool), FingerprintError> {
    let mut parts = BTreeMap::new();
    let named = manifest_sources(&target_path.join("manifest.json"));
    let from_manifest = named.is_some();
    let db_err = |source| FingerprintError::Database {
        path: dbt.database.clone(),
        source,
    };
    let conn = Connection::open_with_flags(
        &dbt.database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db_err)?;
    let tables = match named {
        Some(tables) => tables,
        None => all_tables(&conn).map_err(db_err)?,
    };
    for table in tables {
        let digest = match table_digest(&conn, &table) {
            Err(rusqlite::Error::QueryReturnedNoRows) => ABSENT.to_string(),
            digest => digest.map_err(db_err)?,
        };
        parts.insert(format!("table:{table}"), digest);
    }
    let mut files = Sha256::new();
    hash_tree(&dbt.project_dir, &dbt.project_dir, &mut files)?;
    parts.insert("project".into(), hex(&files.finalize()));
    parts.insert("env".into(), env_digest(dbt)?);
    parts.insert("dbt".into(), version_digest(dbt));
    parts.insert(
        "commands".into(),
        digest_of(dbt.commands.join("\n").as_bytes()),
    );
    let outputs = dbt.schema_dir.join("main_dbt.db").is_file();
    parts.insert(
        "outputs".into(),
        if outputs { "present" } else { "missing" }.into(),
    );
    Ok((Fingerprint(parts), from_manifest))
}

impl Fingerprint {
    /// What differs from `earlier`, in words, e.g. `table commits, dbt project files`.
    pub fn changes_since(&self, earlier: &Fingerprint) -> Vec<String> {
        let keys: std::collections::BTreeSet<&String> =
            self.0.keys().chain(earlier.0.keys()).collect();
        keys.into_iter()
            .filter(|k| self.0.get(*k) != earlier.0.get(*k))
            .map(|k| describe(k))
            .collect()
    }
}

/// Words for a part's key.
fn describe(key: &str) -> String {
    const NAMES: [(&str, &str); 5] = [
        ("project", "dbt project files"),
        ("env", "dbt's environment"),
        ("dbt", "dbt version"),
        ("commands", "dbt commands"),
        ("outputs", "dbt's tables"),
    ];
    key.strip_prefix("table:").map_or_else(
        || {
            NAMES
                .iter()
                .find(|(k, _)| *k == key)
                .map_or_else(|| key.to_string(), |(_, words)| (*words).to_string())
        },
        |table| format!("table {table}"),
    )
}

/// The tables of schema `main` that the manifest's sources name, if it can be read.
fn manifest_sources(path: &Path) -> Option<Vec<String>> {
    #[derive(Deserialize)]
    struct Manifest {
        sources: BTreeMap<String, Source>,
    }
    #[derive(Deserialize)]
    struct Source {
        schema: String,
        identifier: String,
    }
    let text = std::fs::read(path).ok()?;
    let manifest: Manifest = serde_json::from_slice(&text).ok()?;
    let mut tables: Vec<String> = manifest
        .sources
        .into_values()
        .filter(|s| s.schema == "main")
        .map(|s| s.identifier)
        .collect();
    tables.sort();
    tables.dedup();
    Some(tables)
}

/// Every user table of the database.
fn all_tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// Row count, column names and the sum of the rows' hashes (without [`VOLATILE_COLUMNS`]).
fn table_digest(conn: &Connection, table: &str) -> rusqlite::Result<String> {
    let quoted = format!("\"{}\"", table.replace('"', "\"\""));
    let columns: Vec<String> = conn
        .prepare(&format!("PRAGMA table_info({quoted})"))?
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<rusqlite::Result<_>>()?;
    let columns: Vec<String> = columns
        .into_iter()
        .filter(|c| !VOLATILE_COLUMNS.contains(&c.as_str()))
        .collect();
    if columns.is_empty() {
        return Err(rusqlite::Error::QueryReturnedNoRows);
    }
    let list = columns
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare(&format!("SELECT {list} FROM {quoted}"))?;
    let mut rows = stmt.query([])?;
    let (mut count, mut sum) = (0u64, 0u128);
    let mut hasher = Sha256::new();
    while let Some(row) = rows.next()? {
        for i in 0..columns.len() {
            hash_value(&mut hasher, row.get_ref(i)?);
        }
        let digest = hasher.finalize_reset();
        let mut low = [0u8; 16];
        low.copy_from_slice(&digest[..16]);
        sum = sum.wrapping_add(u128::from_le_bytes(low));
        count += 1;
    }
    Ok(format!(
        "{count} rows, {} columns {}, sum {sum:032x}",
        columns.len(),
        digest_of(list.as_bytes())
    ))
}

/// Feeds a value with its type and length, so no two rows' values run together.
fn hash_value(hasher: &mut Sha256, value: ValueRef<'_>) {
    let (tag, bytes): (u8, std::borrow::Cow<'_, [u8]>) = match value {
        ValueRef::Null => (0, (&[][..]).into()),
        ValueRef::Integer(i) => (1, i.to_le_bytes().to_vec().into()),
        ValueRef::Real(f) => (2, f.to_le_bytes().to_vec().into()),
        ValueRef::Text(t) => (3, t.into()),
        ValueRef::Blob(b) => (4, b.into()),
    };
    hasher.update([tag]);
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(&bytes);
}

/// Every file under `dir` (but [`GENERATED_DIRS`] at the top), by relative path and content.
fn hash_tree(root: &Path, dir: &Path, hasher: &mut Sha256) -> Result<(), FingerprintError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FingerprintError::Io { path, source }
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .collect::<Result<_, _>>()
        .map_err(io(dir))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        if dir == root && GENERATED_DIRS.iter().any(|g| name == *g) {
            continue;
        }
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_dir() {
            hash_tree(root, &path, hasher)?;
        } else if kind.is_file() || kind.is_symlink() {
            let content = std::fs::read(&path).map_err(io(&path))?;
            let relative = path.strip_prefix(root).unwrap_or(&path);
            hasher.update(relative.to_string_lossy().as_bytes());
            hasher.update([0]);
            hasher.update((content.len() as u64).to_le_bytes());
            hasher.update(&content);
        }
    }
    Ok(())
}

/// The variables dbt sees that can change its result: every `DBT_*` one, the ones the project
/// reads with `env_var(…)`, and the two tapline sets.
fn env_digest(dbt: &DbtPlan) -> Result<String, FingerprintError> {
    let mut names = std::collections::BTreeSet::new();
    collect_env_names(&dbt.project_dir, &dbt.project_dir, &mut names)?;
    names.extend(
        std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| k.starts_with("DBT_")),
    );
    let mut hasher = Sha256::new();
    hasher.update(dbt.database.as_os_str().as_encoded_bytes());
    hasher.update([0]);
    hasher.update(dbt.schema_dir.as_os_str().as_encoded_bytes());
    for name in names {
        hasher.update([0]);
        hasher.update(name.as_bytes());
        hasher.update([1]);
        if let Some(value) = std::env::var_os(&name) {
            hasher.update(value.as_encoded_bytes());
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// Names in `env_var('NAME'…)` calls of the project's `.sql` and `.yml` files.
fn collect_env_names(
    root: &Path,
    dir: &Path,
    names: &mut std::collections::BTreeSet<String>,
) -> Result<(), FingerprintError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FingerprintError::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if dir == root && GENERATED_DIRS.iter().any(|g| entry.file_name() == *g) {
            continue;
        }
        if path.is_dir() {
            collect_env_names(root, &path, names)?;
        } else if path
            .extension()
            .is_some_and(|e| e == "sql" || e == "yml" || e == "yaml")
        {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            names.extend(env_var_names(&text));
        }
    }
    Ok(())
}

/// The first arguments of `env_var(...)` calls in `text`.
fn env_var_names(text: &str) -> Vec<String> {
    text.match_indices("env_var(")
        .filter_map(|(at, call)| {
            let rest = text[at + call.len()..].trim_start();
            let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            let name = &rest[1..];
            name.find(quote).map(|end| name[..end].to_string())
        })
        .collect()
}

/// The installed dbt packages (`dbt_*.dist-info` folder names of its environment), else the
/// executable's path, size and modification time.
fn version_digest(dbt: &DbtPlan) -> String {
    let exe = dbt
        .executable
        .clone()
        .unwrap_or_else(|| managed_dbt(&dbt.project_dir));
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    let mut found: Vec<String> = exe
        .parent()
        .and_then(Path::parent)
        .map(|venv| venv.join("lib"))
        .and_then(|lib| std::fs::read_dir(lib).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|python| std::fs::read_dir(python.path().join("site-packages")).ok())
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dbt") && n.ends_with(".dist-info"))
        .collect();
    found.sort();
    if found.is_empty() {
        let meta = std::fs::metadata(&exe).ok();
        found.push(format!(
            "{} {:?} {:?}",
            exe.display(),
            meta.as_ref().map(std::fs::Metadata::len),
            meta.and_then(|m| m.modified().ok())
        ));
    }
    digest_of(found.join("\n").as_bytes())
}

/// Where the managed dbt for this project's requirements lives (installed or not).
fn managed_dbt(project_dir: &Path) -> PathBuf {
    let requirements = std::fs::read(project_dir.join("requirements.txt")).unwrap_or_default();
    super::venv::dbt_in(&super::venv::venv_dir(&requirements))
}

fn digest_of(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(dir: &Path) -> DbtPlan {
        let project_dir = dir.join("project");
        std::fs::create_dir_all(project_dir.join("models")).unwrap();
        std::fs::write(project_dir.join("dbt_project.yml"), "name: t\n").unwrap();
        std::fs::write(
            project_dir.join("models/m.sql"),
            "select '{{ env_var(\"TAPLINE_FP_TEST\", \"x\") }}'",
        )
        .unwrap();
        DbtPlan {
            project_dir,
            commands: vec!["build".into()],
            executable: Some(dir.join("dbt")),
            database: dir.join("raw.db"),
            schema_dir: dir.join("raw_dbt"),
        }
    }

    fn exec(db: &Path, sql: &str) {
        Connection::open(db).unwrap().execute_batch(sql).unwrap();
    }

    fn take_now(dbt: &DbtPlan, dir: &Path) -> Fingerprint {
        take(dbt, &dir.join("target")).unwrap().0
    }

    const TABLE: &str = "CREATE TABLE commits (sha TEXT PRIMARY KEY, msg TEXT, _sdc_sequence INTEGER, _sdc_received_at TEXT, _sdc_deleted_at TEXT);
         INSERT INTO commits VALUES ('a', 'one', 1, '2026-01-01', NULL), ('b', 'two', 2, '2026-01-01', NULL);";

    #[test]
    fn identical_upserts_leave_it_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let dbt = plan(dir.path());
        exec(&dbt.database, TABLE);
        let before = take_now(&dbt, dir.path());
        exec(
            &dbt.database,
            "INSERT OR REPLACE INTO commits VALUES ('b', 'two', 9, '2026-02-02', NULL)",
        );
        let after = take_now(&dbt, dir.path());
        assert_eq!(after.changes_since(&before), Vec::<String>::new());
    }

    #[test]
    fn a_changed_value_a_new_row_or_a_deletion_is_change() {
        let dir = tempfile::tempdir().unwrap();
        let dbt = plan(dir.path());
        exec(&dbt.database, TABLE);
        for sql in [
            "UPDATE commits SET msg = 'TWO' WHERE sha = 'b'",
            "INSERT INTO commits VALUES ('c', 'three', 3, '2026-01-01', NULL)",
            "UPDATE commits SET _sdc_deleted_at = '2026-03-03' WHERE sha = 'a'",
            "ALTER TABLE commits ADD COLUMN extra TEXT",
        ] {
            let before = take_now(&dbt, dir.path());
            exec(&dbt.database, sql);
            let after = take_now(&dbt, dir.path());
            assert_eq!(after.changes_since(&before), vec!["table commits"], "{sql}");
        }
    }

    #[test]
    fn project_files_env_and_outputs_are_parts() {
        let dir = tempfile::tempdir().unwrap();
        let dbt = plan(dir.path());
        exec(&dbt.database, TABLE);
        let before = take_now(&dbt, dir.path());
        std::fs::write(dbt.project_dir.join("models/m.sql"), "select 2").unwrap();
        let after = take_now(&dbt, dir.path());
        // The model no longer reads the variable, so the environment's digest moves too.
        assert_eq!(
            after.changes_since(&before),
            vec!["dbt's environment", "dbt project files"]
        );
        // Written by dbt, not read by it.
        std::fs::create_dir_all(dbt.project_dir.join("target")).unwrap();
        std::fs::write(dbt.project_dir.join("target/x"), "1").unwrap();
        std::fs::create_dir_all(&dbt.schema_dir).unwrap();
        std::fs::write(dbt.schema_dir.join("main_dbt.db"), "").unwrap();
        let again = take_now(&dbt, dir.path());
        assert_eq!(again.changes_since(&after), vec!["dbt's tables"]);
    }

    #[test]
    fn the_manifest_names_the_source_tables() {
        let dir = tempfile::tempdir().unwrap();
        let dbt = plan(dir.path());
        exec(&dbt.database, TABLE);
        exec(&dbt.database, "CREATE TABLE unread (x)");
        std::fs::create_dir_all(dir.path().join("target")).unwrap();
        std::fs::write(
            dir.path().join("target/manifest.json"),
            r#"{"sources": {"source.t.g.commits": {"schema": "main", "identifier": "commits"},
                "source.t.g.other": {"schema": "elsewhere", "identifier": "unread"}}}"#,
        )
        .unwrap();
        let (fp, from_manifest) = take(&dbt, &dir.path().join("target")).unwrap();
        assert!(from_manifest);
        let tables: Vec<&String> = fp.0.keys().filter(|k| k.starts_with("table:")).collect();
        assert_eq!(tables, vec!["table:commits"]);
        // A source no model of the selection reads may be missing: it is a part like any other.
        exec(&dbt.database, "DROP TABLE commits");
        let (gone, _) = take(&dbt, &dir.path().join("target")).unwrap();
        assert_eq!(gone.0["table:commits"], ABSENT);
        assert_eq!(gone.changes_since(&fp), vec!["table commits"]);
        let (still_gone, _) = take(&dbt, &dir.path().join("target")).unwrap();
        assert!(still_gone.changes_since(&gone).is_empty());
    }

    #[test]
    fn env_var_names_are_found() {
        assert_eq!(
            env_var_names("{{ env_var('A') }} {{ env_var( \"B_2\", 'x') }} env_var(x)"),
            vec!["A", "B_2"]
        );
    }
}
