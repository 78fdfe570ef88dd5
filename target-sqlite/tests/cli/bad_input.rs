//! Bad input: each case is a one-line error naming the line, exit code 1, and the database
//! holds exactly what the last echoed STATE covers. The corpus shared by every target is in
//! `target-core/testsupport/corpus.rs`; the cases here are SQLite's own (files and folders).

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::corpus;
use crate::support::*;

/// Every case of the shared corpus.
#[test]
fn shared_bad_input_corpus() {
    for case in corpus::cases() {
        let (dir, out) = run_after_prefix(case.settings.clone(), &case.tail);
        let name = case.name;
        match &case.error {
            Some(start) => assert_error_starting(&out, start, name),
            None => assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out)),
        }
        assert_eq!(stdout_json(&out), case.stdout, "{name}: stdout");
        let ids: Vec<i64> = rows(&db_path(&dir), "SELECT id FROM users ORDER BY id")
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].as_i64().unwrap())
            .collect();
        assert_eq!(ids, case.ids, "{name}: rows");
        if name == "unknown type is a warning only" {
            let warnings = stderr_lines_with(&out, "unknown type");
            assert!(
                warnings.len() == 1
                    && warnings[0].contains("WARN")
                    && warnings[0].contains("BATCH"),
                "{warnings:?}"
            );
        }
    }
}

/// A line just over the 64 MiB default, streamed through a pipe in 1 MiB pieces.
#[test]
fn over_long_line() {
    const MAX: usize = 64 * 1024 * 1024;
    let (dir, _) = setup_with(json!({"batch_size_rows": 1}));
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(config_path(&dir))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        stdin.write_all(&users_prefix())?;
        let head = br#"{"type": "RECORD", "stream": "users", "record": {"id": 9, "name": ""#;
        let tail = b"\"}}\n";
        stdin.write_all(head)?;
        let chunk = vec![b'x'; 1 << 20];
        let mut left = MAX + 1 - head.len() - (tail.len() - 1);
        while left > 0 {
            let n = left.min(chunk.len());
            stdin.write_all(&chunk[..n])?;
            left -= n;
        }
        stdin.write_all(tail)?;
        stdin.write_all(record("users", json!({"id": 10})).as_bytes())?;
        stdin.write_all(b"\n")
    });
    let out = child.wait_with_output().unwrap();
    // The target may exit before the last line is written; a broken pipe is fine then.
    let _ = writer.join().unwrap();
    assert_error(&out, &format!("line 6: line longer than {MAX} bytes"));
    assert_only_first_state_committed(&dir, &out);
}

#[test]
fn database_folder_is_created() {
    let (dir, _) = setup();
    let db = dir.path().join("a/b/c/out.db");
    write_config(&dir, json!({"database": db}));
    let out = run_ok(&mut cmd(&dir), users_prefix());
    assert_eq!(stdout_json(&out), [json!({"n": 2})]);
    assert_eq!(
        rows(&db, "SELECT id FROM users ORDER BY id"),
        json!([[1], [2], [3]])
    );
}

#[test]
fn database_folder_that_cannot_be_created() {
    let (dir, _) = setup();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "not a folder").unwrap();
    let db = file.join("sub/out.db");
    write_config(&dir, json!({"database": db}));
    let out = run(&mut cmd(&dir), users_prefix());
    assert_error(
        &out,
        &format!(
            "cannot create folder {} for database {}: Not a directory (os error 20)",
            file.join("sub").display(),
            db.display()
        ),
    );
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder");
}

fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output();
    match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout).trim() == "0",
        Err(_) => std::env::var("USER").is_ok_and(|u| u == "root"),
    }
}

/// A read-only folder stops the target. Root writes anywhere, so as root (as in CI) the target
/// runs as `nobody` (uid and gid 65534) through `setpriv`, in a folder that user can reach.
#[test]
fn database_in_a_read_only_folder() {
    use std::os::unix::fs::PermissionsExt as _;
    let (dir, _) = setup();
    let folder = dir.path().join("ro");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
    let db = folder.join("out.db");
    write_config(&dir, json!({"database": db}));
    let mut target = if running_as_root() {
        // The temporary folder is root's (0700): let `nobody` in to read the config.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = assert_cmd::Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            BIN,
            "--config",
        ])
        .arg(config_path(&dir))
        .env_remove("TAPLINE_LOG");
        c
    } else {
        cmd(&dir)
    };
    let out = run(&mut target, users_prefix());
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_error(
        &out,
        &format!(
            "cannot open database {0}: unable to open database file: {0}",
            db.display()
        ),
    );
    assert!(out.stdout.is_empty());
    assert!(!db.exists());
}

#[test]
fn database_file_that_is_not_sqlite() {
    let (dir, mut cmd) = setup();
    let text = "name,id\nann,1\nbob,2\n".repeat(100);
    std::fs::write(db_path(&dir), &text).unwrap();
    let out = run(&mut cmd, users_prefix());
    assert_error(
        &out,
        &format!(
            "cannot use database {}: file is not a database",
            db_path(&dir).display()
        ),
    );
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(db_path(&dir)).unwrap(), text);
}

/// Stream and property names with quotes, spaces, SQL and unicode become safe identifiers;
/// nothing they contain runs as SQL.
#[test]
fn hostile_stream_and_property_names() {
    let (dir, mut cmd) = setup();
    let out = run_ok(&mut cmd, fixture("hostile_names.singer"));
    assert_eq!(stdout_json(&out), [json!({"done": true})]);
    let db = db_path(&dir);
    assert_eq!(
        tables(&db),
        ["_n_c_d_", "a_b", "user_events", "x_drop_table_y_", "y",]
    );
    let mut cols = data_columns(&db, "x_drop_table_y_");
    cols.sort();
    assert_eq!(cols, ["_drop_table_y_", "id", "sp_ace", "we_ird"]);
    assert_eq!(
        rows(
            &db,
            r#"SELECT id, we_ird, sp_ace, _drop_table_y_ FROM "x_drop_table_y_""#
        ),
        json!([[1, "q\"uote", "s p", "'); DROP TABLE y; --"]])
    );
    assert_eq!(rows(&db, "SELECT id FROM y"), json!([[1]]));
    assert_eq!(rows(&db, "SELECT id FROM user_events"), json!([[7]]));
    assert_eq!(
        rows(&db, "SELECT id, caf_ FROM _n_c_d_"),
        json!([["ü", "☕"]])
    );
    assert_eq!(rows(&db, "SELECT id FROM a_b"), json!([[1]]));
    let summary = stderr(&out);
    assert!(
        summary.contains("  x\"; DROP TABLE y; --: 1 inserted, 0 updated, 0 rejected"),
        "{summary}"
    );
}

/// Blank lines count as lines, and CRLF line ends are accepted, so the numbers in errors are
/// the numbers an editor shows.
#[test]
fn blank_lines_and_crlf_keep_line_numbers() {
    let input = [
        schema("s", json!({"id": {"type": "integer"}}), &["id"]),
        String::new(),
        record("s", json!({"id": 1})),
        "   ".to_string(),
        state(json!(1)),
        "{bad".to_string(),
    ]
    .join("\r\n");
    let (dir, mut cmd) = setup_with(json!({"batch_size_rows": 1}));
    let out = run(&mut cmd, input);
    assert_error(
        &out,
        "line 6: invalid JSON: key must be a string at line 1 column 2",
    );
    assert_eq!(stdout_json(&out), [json!(1)]);
    assert_eq!(rows(&db_path(&dir), "SELECT id FROM s"), json!([[1]]));
}
