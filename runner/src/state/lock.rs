//! Run locks beside a SQLite state database, and the key of a pipeline's PostgreSQL advisory
//! locks. A run of the whole pipeline holds `<name>.lock` exclusively; each shard of a sharded
//! run holds it shared (so shards run together, never with an unsharded run) and
//! `<name>.shard-<K>.lock` exclusively, with its N written inside for a shard of another N to
//! read and be refused.

use std::fs::{File, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

pub use tap_rest::engine::shard::Shard;
use tap_rest::engine::shard::fnv1a64;

use super::StateError;
use crate::state_store::StoreError;

/// The first int4 of a pipeline's advisory lock keys: 31 bits of FNV-1a of its name.
pub fn pipeline_key(pipeline: &str) -> i64 {
    i64::try_from(fnv1a64(pipeline.as_bytes()) & 0x7fff_ffff).unwrap_or(0)
}

/// The lock files of one shard; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct FileLocks {
    _files: Vec<File>,
}

impl super::Held for FileLocks {}

impl FileLocks {
    /// Takes the locks of `shard` of `pipeline` whose state database is `db`.
    pub fn take(db: &Path, pipeline: &str, shard: Shard) -> Result<Self, StateError> {
        let name: String = pipeline
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let whole_path = db.with_file_name(format!("{name}.lock"));
        let whole = open(&whole_path)?;
        match whole.try_lock_shared() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StateError::Locked(format!(
                    "pipeline `{pipeline}` is running unsharded (lock {}); wait for it to finish",
                    whole_path.display()
                )));
            }
            Err(TryLockError::Error(source)) => return Err(io(&whole_path, source)),
        }
        let mine_path = shard_path(db, &name, shard.index);
        let mut mine = open(&mine_path)?;
        match mine.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StateError::Locked(format!(
                    "shard {}/{} of pipeline `{pipeline}` is already running (lock {}); wait for it to finish",
                    shard.index,
                    shard.count,
                    mine_path.display()
                )));
            }
            Err(TryLockError::Error(source)) => return Err(io(&mine_path, source)),
        }
        mine.set_len(0)
            .and_then(|()| mine.rewind())
            .and_then(|()| write!(mine, "{}", shard.count))
            .and_then(|()| mine.sync_all())
            .map_err(|e| io(&mine_path, e))?;
        // Written before looking: of two shards of different N started together, the later to
        // look sees the other's N.
        for other in 1..=running_bound(db, &name) {
            if other == shard.index {
                continue;
            }
            let path = shard_path(db, &name, other);
            let Ok(mut file) = File::open(&path) else {
                continue;
            };
            if let Err(TryLockError::WouldBlock) = file.try_lock_shared() {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                if let Ok(count) = text.trim().parse::<u64>()
                    && count != shard.count
                {
                    return Err(StateError::Locked(format!(
                        "pipeline `{pipeline}` is running as {count} shards (shard {other}/{count} is running); this run asks for {}: every shard of a run must use the same N",
                        shard.count
                    )));
                }
            }
        }
        Ok(Self {
            _files: vec![whole, mine],
        })
    }
}

fn shard_path(db: &Path, name: &str, index: u64) -> PathBuf {
    db.with_file_name(format!("{name}.shard-{index}.lock"))
}

/// The highest shard number with a lock file beside `db`.
fn running_bound(db: &Path, name: &str) -> u64 {
    let prefix = format!("{name}.shard-");
    let dir = db.parent().unwrap_or(Path::new("."));
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            file.strip_prefix(&prefix)?
                .strip_suffix(".lock")?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

fn open(path: &Path) -> Result<File, StateError> {
    File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| io(path, e))
}

fn io(path: &Path, source: std::io::Error) -> StateError {
    StateError::Sqlite(StoreError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: u64, count: u64) -> Shard {
        Shard { index, count }
    }

    #[test]
    fn shards_of_one_n_run_together_and_another_n_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("state.db");
        let first = FileLocks::take(&db, "p", shard(1, 3)).expect("locks");
        let second = FileLocks::take(&db, "p", shard(2, 3)).expect("same N");
        let again = FileLocks::take(&db, "p", shard(2, 3)).expect_err("shard 2 runs");
        assert!(
            again
                .to_string()
                .contains("shard 2/3 of pipeline `p` is already running"),
            "{again}"
        );
        let other_n = FileLocks::take(&db, "p", shard(3, 4)).expect_err("N differs");
        assert!(
            other_n.to_string().contains("running as 3 shards"),
            "{other_n}"
        );
        drop((first, second));
        FileLocks::take(&db, "p", shard(3, 4)).expect("nothing runs");
    }

    #[test]
    fn an_unsharded_run_and_shards_exclude_each_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("state.db");
        let store = crate::state_store::StateStore::open(&db).expect("opens");
        let whole = store.lock("p").expect("locks");
        let err = FileLocks::take(&db, "p", shard(1, 2)).expect_err("unsharded runs");
        assert!(err.to_string().contains("running unsharded"), "{err}");
        drop(whole);
        let _shard = FileLocks::take(&db, "p", shard(1, 2)).expect("locks");
        assert!(store.lock("p").is_err());
    }
}
