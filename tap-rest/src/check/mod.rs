//! `tap-rest check`: one request per stream against the real API (a child stream: for the
//! first record of its parent's first page), and for each what it asked, what came back, the
//! records found at the record path, the next page, the bookmark, and every schema mismatch,
//! with a one-line explanation of the usual mistakes. Exit 0 when every stream answered and
//! matched its schema, 1 otherwise. Nothing Singer is written.
//!
//! - [`probe`]: one stream's request and what its answer shows.
//! - [`diagnose`]: explanations of missing pointers, headers and error statuses.
//! - [`schema`]: records against the schema.
//! - [`report`]: what is found, and its text.

pub mod diagnose;
pub mod probe;
pub mod report;
pub mod schema;

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::cli::{CheckArgs, Output};
use crate::defs::Definitions;

/// Runs `check` and prints its report on stdout.
pub fn run(args: &CheckArgs, carried: Option<crate::Carried>) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("cannot read config {}", args.config.display()))?;
    let config_json: Value = serde_json::from_str(&text)
        .with_context(|| format!("config {}: not JSON", args.config.display()))?;
    let (mut engine, _) =
        crate::load_engine(args.definitions.as_deref(), Some(&config_json), carried)?;
    let config = crate::config::check(&engine.defs, &config_json)
        .with_context(|| format!("config {}", args.config.display()))?;
    let order = order(&engine.defs, &args.stream)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if engine.needs_preparing() {
        let http = config.http_options(&engine.defs);
        runtime.block_on(engine.prepare(&config.values, http, config.secrets.clone()))?;
    }
    let reports = runtime.block_on(probe::all(&engine, &config, &order));
    let ok = reports.iter().all(report::StreamReport::ok);
    let mut out = std::io::stdout().lock();
    match args.output {
        Output::Json => {
            let streams: Vec<Value> = reports
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                    if let Some(m) = v.as_object_mut() {
                        m.insert("ok".into(), Value::Bool(r.ok()));
                    }
                    v
                })
                .collect();
            let doc = json!({"ok": ok, "streams": streams});
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Output::Text => {
            for r in &reports {
                writeln!(out, "{}", r.text())?;
            }
            let failed: Vec<&str> = reports
                .iter()
                .filter(|r| !r.ok())
                .map(|r| r.stream.as_str())
                .collect();
            if failed.is_empty() {
                writeln!(out, "{} streams checked: all ok", reports.len())?;
            } else {
                writeln!(
                    out,
                    "{} streams checked: {} failed ({})",
                    reports.len(),
                    failed.len(),
                    failed.join(", ")
                )?;
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The streams to check, by index, each parent before its children: the named ones with their
/// ancestors, or all.
fn order(defs: &Definitions, named: &[String]) -> anyhow::Result<Vec<usize>> {
    for n in named {
        if defs.stream(n).is_none() {
            let names: Vec<&str> = defs.streams.iter().map(|s| s.name.as_str()).collect();
            anyhow::bail!(
                "--stream {n}: no such stream (streams: {})",
                names.join(", ")
            );
        }
    }
    let index = |name: &str| defs.streams.iter().position(|s| s.name == name);
    let mut out = Vec::new();
    for (i, s) in defs.streams.iter().enumerate() {
        if !named.is_empty() && !named.contains(&s.name) {
            continue;
        }
        // Ancestors first, outermost first.
        let mut chain = vec![i];
        let mut at = s;
        while let Some(p) = at.parent.as_ref().and_then(|p| index(&p.stream)) {
            if chain.contains(&p) {
                break;
            }
            chain.push(p);
            at = &defs.streams[p];
        }
        for c in chain.into_iter().rev() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    Ok(out)
}
