//! Partition sources: values listed in a setting, or the items of a paged list endpoint for
//! each value of a setting. Duplicates (case-insensitive) are dropped, first one wins.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::definition::Paginator;
use super::definition::{PartitionSource, PartitionsDef};
use super::error::Error;
use super::http::Client;
use super::paginator::PageCursor;

/// Lists the partition values of every source.
pub async fn resolve(
    def: &PartitionsDef,
    settings: &BTreeMap<String, Vec<String>>,
    client: &Client,
) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push = |v: String, out: &mut Vec<String>| {
        if seen.insert(v.to_ascii_lowercase()) {
            out.push(v);
        }
    };
    for source in &def.sources {
        match source {
            PartitionSource::Setting { setting } => {
                for v in settings.get(setting).into_iter().flatten() {
                    push(v.clone(), &mut out);
                }
            }
            PartitionSource::List {
                setting,
                path,
                params,
                field,
            } => {
                for v in settings.get(setting).into_iter().flatten() {
                    let values = list(client, path, params, field, v).await?;
                    if values.is_empty() {
                        tracing::warn!("{setting} `{v}` lists no {}", def.key);
                    }
                    for value in values {
                        push(value, &mut out);
                    }
                }
            }
        }
    }
    Ok(out)
}

async fn list(
    client: &Client,
    path: &str,
    params: &BTreeMap<String, String>,
    field: &str,
    value: &str,
) -> Result<Vec<String>, Error> {
    let first = super::http::with_query(&client.url(&path.replace("{value}", value)), params)?;
    let mut cursor = PageCursor::new(Paginator::LinkHeader, &first);
    let mut url = first;
    let mut out = Vec::new();
    loop {
        let resp = client.get(path, &url, &BTreeMap::new(), None).await?;
        match resp.status {
            200 => {}
            204 => break,
            404 => {
                tracing::warn!("{url} answered 404; skipping `{value}`");
                break;
            }
            status => {
                return Err(Error::Status {
                    stream: path.to_owned(),
                    url,
                    status,
                    message: String::from_utf8_lossy(&resp.body)
                        .chars()
                        .take(200)
                        .collect(),
                });
            }
        }
        let items: Vec<Value> = serde_json::from_slice(&resp.body).map_err(|e| Error::Body {
            stream: path.to_owned(),
            url: url.clone(),
            why: e.to_string(),
        })?;
        out.extend(
            items
                .iter()
                .filter_map(|i| i.pointer(field).and_then(Value::as_str))
                .map(str::to_owned),
        );
        match cursor.advance(path, resp.next.clone())? {
            Some(next) => url = next,
            None => break,
        }
    }
    Ok(out)
}
