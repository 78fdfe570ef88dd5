//! `GET /repos/{owner}/{repo}/issues`: issues and pull requests (with a `pull_request` key and
//! the issue's id). `state` defaults to **open**, `sort` created|updated|comments (default
//! created), `direction` default desc, `since` keeps `updated_at >= since`; `labels`, `creator`
//! and `assignee` filter. Pages are linked with an opaque `after=` cursor and no `rel="last"`,
//! as GitHub does today; `page=` is still accepted.

use axum::http::StatusCode;
use axum::response::Response;

use super::{ApiError, Params, RepoRequest, json_array, json_response};
use crate::data::Issue;

const CURSOR_PREFIX: &str = "Y3Vyc29yOnYyOp";

fn cursor(key: i64, number: u32) -> String {
    format!("{CURSOR_PREFIX}{:016x}{number:08x}", key as u64)
}

fn parse_cursor(s: &str) -> Option<(i64, u32)> {
    let hex = s.strip_prefix(CURSOR_PREFIX)?;
    if hex.len() != 24 {
        return None;
    }
    let key = u64::from_str_radix(&hex[..16], 16).ok()? as i64;
    let number = u32::from_str_radix(&hex[16..], 16).ok()?;
    Some((key, number))
}

/// Keeps issues matching `state` (`open` by default).
pub(crate) fn state_filter(params: &Params) -> Result<impl Fn(&Issue) -> bool, ApiError> {
    let state = params.get("state").unwrap_or("open").to_owned();
    if !["open", "closed", "all"].contains(&state.as_str()) {
        return Err(ApiError::validation("state must be open, closed or all"));
    }
    Ok(move |i: &Issue| match state.as_str() {
        "open" => i.closed.is_none(),
        "closed" => i.closed.is_some(),
        _ => true,
    })
}

pub(crate) async fn list(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    let by_state = state_filter(&req.params)?;
    let since = req
        .params
        .time("since")
        .map_err(|e| ApiError::validation(&e))?;
    let key: fn(&Issue) -> i64 = match req.params.get("sort").unwrap_or("created") {
        "created" => |i| i.created,
        "updated" => |i| i.updated,
        "comments" => |i| i64::from(i.comments),
        _ => {
            return Err(ApiError::validation(
                "sort must be created, updated or comments",
            ));
        }
    };
    let desc = req.params.descending(true);
    let users = &req.world.data.users;
    let login = |u: u32| users[u as usize].login.as_str();
    let labels: Vec<&str> = req
        .params
        .get("labels")
        .map(|l| l.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let creator = req.params.get("creator");
    let assignee = req.params.get("assignee");
    let repo = &*r.repo;
    let mut items: Vec<&Issue> = repo
        .issues
        .iter()
        .filter(|i| by_state(i))
        .filter(|i| since.is_none_or(|s| i.updated >= s))
        .filter(|i| {
            labels.iter().all(|l| {
                i.labels
                    .iter()
                    .any(|k| repo.labels[*k].name.eq_ignore_ascii_case(l))
            })
        })
        .filter(|i| creator.is_none_or(|c| login(i.author).eq_ignore_ascii_case(c)))
        .filter(|i| match assignee {
            None => true,
            Some("none") => i.assignee.is_none(),
            Some("*") => i.assignee.is_some(),
            Some(a) => i.assignee.is_some_and(|u| login(u).eq_ignore_ascii_case(a)),
        })
        .collect();
    items.sort_by_key(|i| (key(i), i.number));
    if desc {
        items.reverse();
    }
    let per_page = req.params.per_page();
    let start = match req.params.get("after") {
        Some(c) => {
            let (k, n) =
                parse_cursor(c).ok_or_else(|| ApiError::validation("invalid after cursor"))?;
            items.partition_point(|i| {
                if desc {
                    (key(i), i.number) >= (k, n)
                } else {
                    (key(i), i.number) <= (k, n)
                }
            })
        }
        None => (req.params.page() - 1)
            .saturating_mul(per_page)
            .min(items.len()),
    };
    let end = (start + per_page).min(items.len());
    let body = json_array(items[start..end].iter().map(|i| &i.frag), &r.fill());
    let link = (end < items.len() && end > start).then(|| {
        let last = items[end - 1];
        let next = req.params.with(
            "after",
            &cursor(key(last), last.number),
            &["page", "before"],
        );
        format!(
            "<{}?{next}>; rel=\"next\"",
            r.link_url(&req.origin, "issues")
        )
    });
    Ok(json_response(StatusCode::OK, body, link))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        assert_eq!(
            parse_cursor(&cursor(1_700_000_000, 42)),
            Some((1_700_000_000, 42))
        );
        assert_eq!(parse_cursor("nope"), None);
    }
}
