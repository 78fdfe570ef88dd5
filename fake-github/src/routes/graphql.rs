//! `POST /graphql`: only the repository lookup MeltanoLabs tap-github sends before it syncs, so
//! the Python peer can run against the fake. The query is a list of aliased fields,
//! `repo0: repository(name: "app", owner: "octo") { nameWithOwner databaseId }`, optionally
//! followed by `rateLimit { cost }`; each alias answers its repository or `null` with a
//! `NOT_FOUND` error, as GitHub does. Any other query is a 400 naming what is supported.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{ApiError, json_response};
use crate::world::SharedWorld;

/// One `alias: repository(name: "…", owner: "…")` field of a query.
#[derive(Debug, PartialEq)]
struct Lookup {
    alias: String,
    owner: String,
    name: String,
}

pub(crate) async fn query(
    State(world): State<SharedWorld>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let text = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("query").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| bad_request("the body must be JSON with a `query` string"))?;
    let lookups = parse(&text).ok_or_else(|| {
        bad_request("only `alias: repository(name: \"…\", owner: \"…\") { nameWithOwner databaseId }` fields are supported")
    })?;
    let mut data = Map::new();
    let mut errors = Vec::new();
    for l in lookups {
        let full = format!("{}/{}", l.owner, l.name);
        let found = world.data.find(&full).map(|i| {
            let repo = world.data.repos[i]
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            json!({"nameWithOwner": repo.full_name, "databaseId": repo.id})
        });
        if found.is_none() {
            errors.push(json!({
                "type": "NOT_FOUND",
                "path": [l.alias],
                "message": format!("Could not resolve to a Repository with the name '{full}'."),
            }));
        }
        data.insert(l.alias, found.unwrap_or(Value::Null));
    }
    if text.contains("rateLimit") {
        data.insert("rateLimit".into(), json!({"cost": 1}));
    }
    let mut answer = json!({ "data": data });
    if !errors.is_empty() {
        answer["errors"] = Value::Array(errors);
    }
    Ok(json_response(
        StatusCode::OK,
        answer.to_string().into_bytes(),
        None,
    ))
}

fn bad_request(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

/// The repository lookups of a query, or `None` when it asks for anything else.
fn parse(query: &str) -> Option<Vec<Lookup>> {
    let body = query.trim().strip_prefix("query")?.trim_start();
    let body = body.strip_prefix('{')?.trim_end().strip_suffix('}')?;
    let mut rest = body.trim();
    let mut lookups = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("rateLimit") {
            rest = skip_selection(after)?;
            continue;
        }
        let (alias, after) = rest.split_once(':')?;
        let after = after.trim_start().strip_prefix("repository")?.trim_start();
        let (args, after) = after.strip_prefix('(')?.split_once(')')?;
        lookups.push(Lookup {
            alias: alias.trim().to_owned(),
            owner: argument(args, "owner")?,
            name: argument(args, "name")?,
        });
        rest = skip_selection(after)?;
    }
    Some(lookups)
}

/// The text after a `{ … }` selection set (no nested braces) that `text` starts with.
fn skip_selection(text: &str) -> Option<&str> {
    let (_, after) = text.trim_start().strip_prefix('{')?.split_once('}')?;
    Some(after.trim_start())
}

/// The string value of `key: "value"` in an argument list.
fn argument(args: &str, key: &str) -> Option<String> {
    args.split(',').find_map(|pair| {
        let (k, v) = pair.split_once(':')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(alias: &str, owner: &str, name: &str) -> Lookup {
        Lookup {
            alias: alias.into(),
            owner: owner.into(),
            name: name.into(),
        }
    }

    #[test]
    fn parses_the_meltanolabs_repository_lookup() {
        let q = r#"query {repo0: repository(name: "app", owner: "octo") { nameWithOwner databaseId } repo1: repository(name: "lib", owner: "acme") { nameWithOwner databaseId } rateLimit { cost } }"#;
        assert_eq!(
            parse(q),
            Some(vec![
                lookup("repo0", "octo", "app"),
                lookup("repo1", "acme", "lib")
            ])
        );
    }

    #[test]
    fn refuses_other_queries() {
        assert_eq!(parse("query { viewer { login } }"), None);
        assert_eq!(parse("mutation { x }"), None);
        assert_eq!(parse(r#"query { r: repository(name: "a") { id } }"#), None);
    }
}
