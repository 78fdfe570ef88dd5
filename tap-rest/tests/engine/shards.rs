//! The `shard` setting: a shard runs only its partitions of the partitioned incremental
//! streams; full-table and unpartitioned streams are left to an unsharded run (no request, no
//! ACTIVATE_VERSION that would retire the other shards' rows).

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tap_rest::engine::shard::Shard;

use crate::support::{Api, Reply, engine, records, schema, sync};

const DEFS: &str = r#"
add_fields = [{ name = "board", context = "board" }]

[connector]
name = "kanban"
[settings]
api_url = { type = "string" }
boards = { type = "array" }
[http]
base_url = "{api_url:raw}"
[partitions]
key = "board"
case_insensitive = true
sources = [{ kind = "setting", setting = "boards" }]

[[stream]]
name = "cards"
path = "/boards/{board}/cards"
primary_key = ["board", "id"]
replication = { mode = "since_param", param = "since", key = "/changed", order = "ascending" }
paginator = { kind = "none" }

[[stream]]
name = "members"
path = "/boards/{board}/members"
primary_key = ["board", "id"]
replication = { mode = "full_table" }
paginator = { kind = "none" }

[[stream]]
name = "labels"
path = "/labels"
partitioned = false
primary_key = ["id"]
replication = { mode = "full_table" }
paginator = { kind = "none" }
"#;

fn boards() -> Vec<String> {
    (0..12).map(|i| format!("Board-{i}")).collect()
}

async fn run(shard: Option<&str>) -> Result<(Vec<Value>, Vec<String>), String> {
    let api =
        Api::start(|_| Reply::json(json!([{"id": 1, "changed": "2024-01-01T00:00:00Z"}]))).await;
    let row = schema(&[
        ("board", "string"),
        ("id", "integer"),
        ("changed", "string"),
    ]);
    let engine = engine(
        DEFS,
        &[
            ("cards", row.clone()),
            ("members", row.clone()),
            ("labels", row),
        ],
    );
    let mut config = json!({"api_url": api.url, "boards": boards(), "max_concurrency": 1});
    if let Some(shard) = shard {
        config["shard"] = json!(shard);
    }
    let (messages, _) = sync(&engine, config, singer::State::default())
        .await
        .map_err(|e| e.to_string())?;
    Ok((messages, api.lines()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_split_the_partitions_and_leave_full_table_streams_alone() {
    let mut seen = BTreeSet::new();
    for k in 1..=3u64 {
        let (messages, lines) = run(Some(&format!("{k}/3"))).await.unwrap();
        let shard = Shard { index: k, count: 3 };
        let mine: BTreeSet<String> = boards()
            .into_iter()
            .filter(|b| shard.holds(b, true))
            .collect();
        let want: Vec<String> = mine
            .iter()
            .map(|b| format!("GET /boards/{b}/cards"))
            .collect();
        let mut got: Vec<String> = lines
            .iter()
            .map(|l| l.split('?').next().unwrap_or_default().to_owned())
            .collect();
        got.sort();
        assert_eq!(got, want, "shard {k}/3 asks only for its boards' cards");
        let loaded: BTreeSet<String> = records(&messages, "cards")
            .iter()
            .map(|r| r["board"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(loaded, mine);
        assert!(
            !messages.iter().any(|m| m["type"] == "ACTIVATE_VERSION"),
            "no version is activated by a shard"
        );
        assert!(
            records(&messages, "members").is_empty() && records(&messages, "labels").is_empty()
        );
        assert!(
            mine.iter().all(|b| seen.insert(b.clone())),
            "a board in two shards"
        );
    }
    assert_eq!(seen.len(), boards().len(), "every board in some shard");

    // Unsharded: every board, and the full-table streams with their versions.
    let (messages, lines) = run(None).await.unwrap();
    assert_eq!(lines.len(), 12 * 2 + 1);
    assert_eq!(
        messages
            .iter()
            .filter(|m| m["type"] == "ACTIVATE_VERSION")
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_that_is_not_k_of_n_is_refused() {
    let err = run(Some("4/3")).await.unwrap_err();
    assert!(
        err.contains("`shard`: `4/3` is not K/N with 1 <= K <= N"),
        "{err}"
    );
}
