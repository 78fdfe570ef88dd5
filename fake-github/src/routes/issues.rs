//! `GET /repos/{owner}/{repo}/issues`: issues and pull requests (with a `pull_request` key and
//! the issue's id). `state` defaults to **open**, `sort` created|updated|comments (default
//! created), `direction` default desc, `since` keeps `updated_at >= since`; `labels`, `creator`
//! and `assignee` filter. Pages are linked with an opaque `after=` cursor and no `rel="last"`,
//! as GitHub does today; `page=` is still accepted. The cursor holds the last item's key (a walk
//! never skips) or, with [`IssueCursor::Offset`], a position (items shift under changes).

use axum::http::StatusCode;
use axum::response::Response;

use super::{ApiError, Params, RepoRequest, json_array, json_response};
use crate::data::Issue;
use crate::world::IssueCursor;

/// Where the next page starts, as the opaque `after=` value holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    /// After the item with this sort key and number ([`IssueCursor::Keyset`]).
    After { key: i64, number: u32 },
    /// At this position of the sorted list ([`IssueCursor::Offset`]).
    At(usize),
}

const KEYSET_PREFIX: &str = "Y3Vyc29yOnYyOp";
const OFFSET_PREFIX: &str = "Y3Vyc29yOnYyOo";

impl Cursor {
    fn encode(self) -> String {
        match self {
            Cursor::After { key, number } => {
                format!("{KEYSET_PREFIX}{:016x}{number:08x}", key as u64)
            }
            Cursor::At(position) => format!("{OFFSET_PREFIX}{position:024x}"),
        }
    }

    fn parse(s: &str) -> Option<Cursor> {
        let hex = |prefix: &str| s.strip_prefix(prefix).filter(|h| h.len() == 24);
        if let Some(h) = hex(KEYSET_PREFIX) {
            let key = u64::from_str_radix(&h[..16], 16).ok()? as i64;
            let number = u32::from_str_radix(&h[16..], 16).ok()?;
            return Some(Cursor::After { key, number });
        }
        let position = u128::from_str_radix(hex(OFFSET_PREFIX)?, 16).ok()?;
        usize::try_from(position).ok().map(Cursor::At)
    }
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
    let start = match req.params.get("after").map(Cursor::parse) {
        Some(None) => return Err(ApiError::validation("invalid after cursor")),
        Some(Some(Cursor::After { key: k, number: n })) => items.partition_point(|i| {
            if desc {
                (key(i), i.number) >= (k, n)
            } else {
                (key(i), i.number) <= (k, n)
            }
        }),
        Some(Some(Cursor::At(position))) => position.min(items.len()),
        None => (req.params.page() - 1)
            .saturating_mul(per_page)
            .min(items.len()),
    };
    let end = (start + per_page).min(items.len());
    let body = json_array(items[start..end].iter().map(|i| &i.frag), &r.fill());
    let link = (end < items.len() && end > start).then(|| {
        let last = items[end - 1];
        let cursor = match req.world.config.issue_cursor {
            IssueCursor::Keyset => Cursor::After {
                key: key(last),
                number: last.number,
            },
            IssueCursor::Offset => Cursor::At(end),
        };
        let next = req
            .params
            .with("after", &cursor.encode(), &["page", "before"]);
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
    fn cursors_round_trip() {
        let keyset = Cursor::After {
            key: 1_700_000_000,
            number: 42,
        };
        assert_eq!(Cursor::parse(&keyset.encode()), Some(keyset));
        assert_eq!(
            Cursor::parse(&Cursor::At(90).encode()),
            Some(Cursor::At(90))
        );
        assert_ne!(keyset.encode(), Cursor::At(42).encode());
        assert_eq!(Cursor::parse("nope"), None);
        assert_eq!(Cursor::parse("Y3Vyc29yOnYyOoXYZ"), None);
    }
}
