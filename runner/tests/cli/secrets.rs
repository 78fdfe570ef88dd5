//! Tokens never appear in output, state, the database or files left behind, even when tapline
//! is SIGKILLed at any point of a run; the next run sweeps what a killed one left and marks it
//! `killed`.

use crate::support::*;

#[test]
fn the_token_is_never_printed_or_stored() {
    let token = "tapline-test-secret-0123456789";
    let fake = fake(&[("octo/app", 40, 10)], 0, Some(token));
    let p = Pipeline::github(
        &fake,
        &["octo/app"],
        ", auth_token = \"${TAPLINE_TEST_TOKEN}\"",
        "",
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = p
        .command(&["run", "--output", "json"])
        .env("TAPLINE_TEST_TOKEN", token)
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(token));
    assert!(!stderr(&out).contains(token));
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "temporary configs are removed"
    );
    for entry in walk(p.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token found in {}",
            entry.display()
        );
    }
    // A wrong token fails, and the error does not echo it either.
    let out = p
        .command(&["run"])
        .env("TAPLINE_TEST_TOKEN", "tapline-wrong-token-abcdef")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !stderr(&out).contains("tapline-wrong-token-abcdef"),
        "{}",
        stderr(&out)
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.file_name().is_some_and(|n| n != "tapline.toml") {
            out.push(path);
        }
    }
    out
}

const CANARY: &str = "tapline-canary-7f3a9c2e51d04b88";

/// Two repositories synced one after the other, slowly enough to be killed anywhere; every
/// request must carry the canary token.
fn canary_pipeline() -> (fake_github::RunningFake, Pipeline) {
    let repos = [("octo/a", 2000, 20), ("octo/b", 2000, 20)];
    let fake = fake(&repos, 50, Some(CANARY));
    let p = Pipeline::github(
        &fake,
        &["octo/a", "octo/b"],
        // A default, so that `state` and `runs` work without the variable.
        ", auth_token = \"${TAPLINE_TEST_TOKEN:-}\", max_concurrency = 1",
        "",
    );
    (fake, p)
}

/// `tapline run` of `p` with the canary in the environment and `tmp` as its temporary folder.
fn canary_run(p: &Pipeline, tmp: &std::path::Path) -> std::process::Command {
    let mut cmd = p.command(&["run", "--no-dbt", "-q"]);
    cmd.env("TAPLINE_TEST_TOKEN", CANARY)
        .env("TMPDIR", tmp)
        .env_remove(tapline::handoff::ON_DISK_VAR)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd
}

/// Every file under `dirs` that holds the canary.
fn holding_canary(dirs: &[&std::path::Path]) -> Vec<std::path::PathBuf> {
    dirs.iter()
        .flat_map(|dir| walk_all(dir))
        .filter(|path| {
            std::fs::read(path)
                .is_ok_and(|bytes| bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()))
        })
        .collect()
}

fn walk_all(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_all(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Tapline's children (and theirs): their command lines never hold the canary, and their
/// environments hold it only in the variable the user set. Returns how many were looked at.
fn assert_children_keep_it_out_of_argv(tapline_pid: u32) -> usize {
    let mut pids = children(tapline_pid);
    let mut seen = 0;
    while let Some(pid) = pids.pop() {
        pids.extend(children(pid));
        let (Ok(cmdline), Ok(environ)) = (
            std::fs::read(format!("/proc/{pid}/cmdline")),
            std::fs::read(format!("/proc/{pid}/environ")),
        ) else {
            continue;
        };
        seen += 1;
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        assert!(!cmdline.contains(CANARY), "argv of {pid}: {cmdline}");
        for var in environ.split(|b| *b == 0) {
            let var = String::from_utf8_lossy(var);
            assert!(
                !var.contains(CANARY) || var == format!("TAPLINE_TEST_TOKEN={CANARY}"),
                "environment of {pid} ({cmdline}): {var}"
            );
        }
    }
    seen
}

/// A seed from the process's random hasher keys, printed so a failure can be replayed.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let seed = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    std::env::var("TAPLINE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(seed)
}

#[test]
fn sigkill_at_random_points_leaves_the_canary_nowhere_and_the_runs_show_killed() {
    let (fake, p) = canary_pipeline();
    let tmp = tempfile::tempdir().unwrap();
    let seed = random_seed();
    eprintln!("seed {seed} (TAPLINE_TEST_SEED replays it)");
    let mut rng = seed;
    let mut next = || {
        // xorshift64*: enough to spread the kill points.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng | 1
    };
    // Random points from before the first request to mid-load, then one after a stored bookmark.
    let mut delays: Vec<Option<u64>> = (0..4).map(|_| Some(next() % 1500)).collect();
    delays.push(None);
    let mut killed_with_bookmark = Vec::new();
    for delay in delays {
        // Each run loads everything, so each is long enough to be killed mid-way.
        assert!(p.tapline(&["state", "clear"]).status.success());
        let mut run = canary_run(&p, tmp.path()).spawn().unwrap();
        let started = std::time::Instant::now();
        match delay {
            Some(ms) => {
                std::thread::sleep(std::time::Duration::from_millis(ms / 2));
                assert_children_keep_it_out_of_argv(run.id());
                std::thread::sleep(std::time::Duration::from_millis(ms - ms / 2));
            }
            None => {
                let stored = || p.path().join(".tapline/state.db").exists() && p.state().is_some();
                assert!(
                    wait_for(std::time::Duration::from_secs(60), stored),
                    "no bookmark stored (seed {seed})"
                );
                assert!(assert_children_keep_it_out_of_argv(run.id()) >= 2);
            }
        }
        let kids = children(run.id());
        run.kill().unwrap();
        run.wait().unwrap();
        let elapsed = started.elapsed().as_secs_f64();
        assert!(
            wait_for(std::time::Duration::from_secs(5), || kids
                .iter()
                .all(|k| !alive(*k))),
            "children outlived tapline (seed {seed})"
        );
        if delay.is_none() {
            killed_with_bookmark.push(elapsed);
        }
        let found = holding_canary(&[tmp.path(), p.path()]);
        assert!(
            found.is_empty(),
            "killed after {delay:?} ms: the canary is in {found:?} (seed {seed})"
        );
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "nothing left in the temporary folder (seed {seed})"
        );
    }

    // The next run takes the lock, marks the killed ones and completes the load.
    let out = canary_run(&p, tmp.path())
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(holding_canary(&[tmp.path(), p.path()]).is_empty());
    let (mut shas, _) = truth_keys(&fake, "octo/a");
    shas.extend(truth_keys(&fake, "octo/b").0);
    assert_eq!(p.keys("commits", "sha"), shas);

    let out = p.tapline(&["runs", "--output", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs[0]["status"], "success");
    let statuses: Vec<&str> = runs[1..]
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert!(
        !statuses.is_empty() && statuses.iter().all(|s| *s == "killed"),
        "{statuses:?} (seed {seed})"
    );
    // The run killed after a stored bookmark lasted until that bookmark: more than nothing, at
    // most until it was killed.
    let last_killed = &runs[1];
    let seconds = last_killed["seconds"].as_f64().expect("a duration");
    assert!(
        seconds > 0.0 && seconds <= killed_with_bookmark[0],
        "{seconds} s vs killed after {} s",
        killed_with_bookmark[0]
    );
    let text = p.tapline(&["runs"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("killed"));
}

#[test]
fn on_disk_the_canary_is_only_in_a_private_folder_which_the_next_run_sweeps() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_fake, p) = canary_pipeline();
    let tmp = tempfile::tempdir().unwrap();
    let mut run = canary_run(&p, tmp.path())
        .env(tapline::handoff::ON_DISK_VAR, "1")
        .spawn()
        .unwrap();
    let stored = || p.path().join(".tapline/state.db").exists() && p.state().is_some();
    assert!(wait_for(std::time::Duration::from_secs(60), stored));
    let folders: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    let folder = &folders[0];
    let name = folder.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with(&format!("tapline-{}-", run.id())),
        "the name records the owner: {name}"
    );
    assert_eq!(
        std::fs::metadata(folder).unwrap().permissions().mode() & 0o777,
        0o700
    );
    // The canary shows which files ever held the token: the tap's config, nothing else.
    assert_eq!(
        holding_canary(&[tmp.path(), p.path()]),
        vec![folder.join("tap.json")]
    );
    run.kill().unwrap();
    run.wait().unwrap();
    assert!(folder.exists(), "a killed run cannot remove its folder");

    // Another pipeline's run sweeps it.
    let other = script_pipeline("");
    script(&other, "tap.sh", "exit 0");
    let out = other
        .command(&["run", "--no-dbt", "-q"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!folder.exists(), "swept by the next run");
    assert!(holding_canary(&[tmp.path(), p.path()]).is_empty());
    let runs = p.tapline(&["runs", "--output", "json"]);
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(
        runs[0]["status"], "running",
        "only its own pipeline's next run says killed"
    );
    // Its own pipeline's next run (a short one) marks it.
    let out = canary_run(&p, tmp.path())
        .args(["--select", "repositories"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let runs = p.tapline(&["runs", "--output", "json"]);
    let runs: Vec<serde_json::Value> = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs[1]["status"], "killed");
}

#[test]
fn a_python_tap_reads_its_config_and_state_from_memory_like_a_file() {
    let p = script_pipeline("");
    let text = std::fs::read_to_string(p.path().join("tapline.toml")).unwrap();
    std::fs::write(
        p.path().join("tapline.toml"),
        text.replace(
            "executable = \"./tap.sh\"",
            "executable = \"./tap.sh\"\nconfig = { auth_token = \"${TAPLINE_TEST_TOKEN:-}\" }",
        ),
    )
    .unwrap();
    // What the Meltano SDK and singer-python do with the paths they are given: check that it is
    // a file, open it, maybe open it again.
    script(
        &p,
        "tap.sh",
        r#"exec python3 -c '
import json, pathlib, sys
args = sys.argv[1:]
def read(flag):
    if flag not in args:
        return None
    path = pathlib.Path(args[args.index(flag) + 1])
    assert path.is_file(), path
    first = json.loads(path.read_text())
    with open(path) as again:
        assert json.load(again) == first
    return first
config, state = read("--config"), read("--state")
runs = (state or {}).get("runs", 0) + 1
print(json.dumps({"type": "SCHEMA", "stream": "seen", "key_properties": ["run"],
                  "schema": {"properties": {"run": {"type": "integer"}, "token_length": {"type": "integer"}}}}))
print(json.dumps({"type": "RECORD", "stream": "seen", "record": {"run": runs, "token_length": len(config["auth_token"])}}))
print(json.dumps({"type": "STATE", "value": {"runs": runs}}))
' "$@""#,
    );
    for _ in 0..2 {
        let out = p
            .command(&["run", "--no-dbt", "-q"])
            .env("TAPLINE_TEST_TOKEN", CANARY)
            .env_remove(tapline::handoff::ON_DISK_VAR)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(p.state(), Some(serde_json::json!({"runs": 2})));
    let lengths: i64 = p
        .db()
        .query_row("SELECT sum(token_length) FROM seen", [], |r| r.get(0))
        .unwrap();
    assert_eq!(lengths, 2 * CANARY.len() as i64);
}
