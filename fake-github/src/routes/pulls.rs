//! `GET /repos/{owner}/{repo}/pulls`: pull request objects (their own `id`). `state` defaults to
//! open; `sort` created|updated|popularity|long-running; `direction` defaults to desc for
//! `sort=created` or no sort, asc otherwise. There is no `since`.

use axum::response::Response;

use super::issues::state_filter;
use super::{ApiError, RepoRequest, page_of};
use crate::data::Issue;

pub(crate) async fn list(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    let by_state = state_filter(&req.params)?;
    let sort = req.params.get("sort").unwrap_or("created");
    let key: fn(&Issue) -> i64 = match sort {
        "created" => |i| i.created,
        "updated" => |i| i.updated,
        "popularity" => |i| i64::from(i.comments),
        "long-running" => |i| i.created,
        _ => {
            return Err(ApiError::validation(
                "sort must be created, updated, popularity or long-running",
            ));
        }
    };
    let desc = req.params.descending(sort == "created");
    let base = req.params.get("base");
    let mut items: Vec<&Issue> = r
        .repo
        .issues
        .iter()
        .filter(|i| i.is_pr() && by_state(i))
        .filter(|_| base.is_none_or(|b| b == r.repo.default_branch))
        // long-running: open for over a month and still active (approximated on our data).
        .filter(|i| sort != "long-running" || i.updated - i.created > 30 * 86_400)
        .collect();
    items.sort_by_key(|i| (key(i), i.number));
    if desc {
        items.reverse();
    }
    let frags: Vec<_> = items.iter().filter_map(|i| i.pr_frag.as_ref()).collect();
    Ok(page_of(&r, &req.origin, "pulls", &req.params, &frags))
}
