//! Partition sources: values listed in a setting, or the items of a list endpoint for each value
//! of a setting. Duplicates are dropped (first one wins), ignoring case where the definitions
//! say names compare that way. Each partition remembers what a 404 for it means.

use std::collections::BTreeSet;

use serde_json::Value;

use super::error::Error;
use super::http::Client;
use super::paginator::{PageView, Pager};
use super::request::{Request, Scope};
use crate::defs::partitions::{Missing, PartitionSource, PartitionsDef};
use crate::defs::template::Target;

/// One partition value and what a 404 for it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionValue {
    /// The value of the partition key.
    pub value: String,
    /// A 404 fails the run (the user named it) or is a warning (it was discovered).
    pub missing: Missing,
}

/// What resolving the partitions found.
#[derive(Debug, Default)]
pub struct Resolved {
    /// The partitions, in source order.
    pub values: Vec<PartitionValue>,
    /// Setting values whose list answered 404 and that the user named (`missing = "fail"`).
    pub missing: Vec<String>,
}

/// Lists the partition values of every source.
pub async fn resolve(
    def: &PartitionsDef,
    scope: &Scope,
    client: &Client,
) -> Result<Resolved, Error> {
    let mut out = Resolved::default();
    let mut seen = BTreeSet::new();
    let mut push = |v: String, missing: Missing, out: &mut Resolved| {
        let key = if def.case_insensitive {
            v.to_lowercase()
        } else {
            v.clone()
        };
        if seen.insert(key) {
            out.values.push(PartitionValue { value: v, missing });
        }
    };
    for source in &def.sources {
        let values: Vec<String> = match scope.settings.get(source.setting()) {
            Some(Value::Array(items)) => items.iter().map(text).collect(),
            _ => Vec::new(),
        };
        match source {
            PartitionSource::Setting { missing, .. } => {
                for v in values {
                    push(v, *missing, &mut out);
                }
            }
            PartitionSource::List {
                setting,
                item_missing,
                missing,
                ..
            } => {
                for v in values {
                    match list(client, source, scope, &v).await? {
                        Some(found) => {
                            if found.is_empty() {
                                tracing::warn!("{setting} `{v}` lists no {}", def.key);
                            }
                            for value in found {
                                push(value, *item_missing, &mut out);
                            }
                        }
                        None if *missing == Missing::Fail => {
                            tracing::error!("{setting} `{v}` was not found (404)");
                            out.missing.push(format!("{setting} `{v}`"));
                        }
                        None => tracing::warn!("{setting} `{v}` was not found (404); skipped"),
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The values one list gives for setting value `value`; `None` when the list answers 404.
async fn list(
    client: &Client,
    source: &PartitionSource,
    scope: &Scope,
    value: &str,
) -> Result<Option<Vec<String>>, Error> {
    let PartitionSource::List {
        path,
        params,
        records,
        field,
        paginator,
        ..
    } = source
    else {
        return Ok(Some(Vec::new()));
    };
    let scope = scope.with("value", Value::String(value.to_owned()));
    let what = "partitions.sources.path";
    let url = client.url(&scope.fill(path, Target::Path, what)?);
    let params = scope.params(params, what)?;
    let mut pager = Pager::new(paginator);
    let mut req = pager.first(Request::get(super::request::with_query(&url, &params)?))?;
    let mut out = Vec::new();
    loop {
        let resp = client.send(path.source(), &req, None, &[]).await?;
        let (items, body) = match resp.status {
            200..=299 => super::records::parse(what, &req.url, &resp.body, records)?,
            404 if out.is_empty() => return Ok(None),
            status => {
                return Err(Error::Status {
                    stream: path.source().to_owned(),
                    url: req.url.clone(),
                    status,
                    message: client.mask(&super::http::message(&resp.body)),
                });
            }
        };
        out.extend(items.iter().filter_map(|i| i.pointer(field)).map(text));
        let view = PageView {
            headers: &resp.headers,
            body: &body,
            records: items.len(),
            link_next: resp.next.as_deref(),
        };
        match pager.next(what, &req, view)? {
            Some(next) => req = client.without_credentials(next),
            None => return Ok(Some(out)),
        }
    }
}

/// A JSON value as a partition value.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
