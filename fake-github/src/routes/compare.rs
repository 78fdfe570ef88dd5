//! `GET /repos/{owner}/{repo}/compare/{base}...{head}`: what `head` has that `base` lacks.
//! `base`/`head` are shas (or prefixes of at least 7), the default branch or `HEAD`, including
//! commits a force push removed. `status` is `identical`, `ahead`, `behind` or `diverged`;
//! `commits` are oldest first, up to 250 without `page`/`per_page`, else paged with a `Link`
//! header; `files` (always empty) comes on the first page only.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::{ApiError, RepoRequest, json_response, page_link};
use crate::data::generate::HTML;

/// Commits in one answer when the client does not page.
const UNPAGED: usize = 250;

pub(crate) async fn compare(req: RepoRequest) -> Result<Response, ApiError> {
    let r = req.repo()?;
    let repo = &*r.repo;
    let basehead = req.path.get("basehead").map_or("", String::as_str);
    let (base_ref, head_ref) = basehead.split_once("...").ok_or_else(ApiError::not_found)?;
    let base = repo.lineage(base_ref).ok_or_else(ApiError::not_found)?;
    let head = repo.lineage(head_ref).ok_or_else(ApiError::not_found)?;
    let common = base.common(&head);
    let merge_base = common
        .checked_sub(1)
        .and_then(|k| head.get(repo, k))
        .ok_or_else(ApiError::not_found)?;
    let (Some(base_commit), Some(head_commit)) = (base.tip(repo), head.tip(repo)) else {
        return Err(ApiError::not_found());
    };
    let (ahead_by, behind_by) = (head.len() - common, base.len() - common);
    let status = match (ahead_by, behind_by) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };

    let paged = req.params.get("page").is_some() || req.params.get("per_page").is_some();
    let (per_page, page) = if paged {
        (req.params.per_page(), req.params.page())
    } else {
        (UNPAGED, 1)
    };
    let start = common + (page - 1).saturating_mul(per_page).min(ahead_by);
    let end = (start + per_page).min(head.len());

    let full = &repo.full_name;
    let owner = &repo.owner;
    let html = format!("{HTML}/{full}/compare/{basehead}");
    let head_fields = json!({
        "url": format!("{}/repos/{full}/compare/{basehead}", req.world.data.base),
        "html_url": html,
        "permalink_url": format!(
            "{HTML}/{full}/compare/{owner}:{}...{owner}:{}",
            base_commit.sha, head_commit.sha
        ),
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
    })
    .to_string();
    let tail = json!({
        "status": status,
        "ahead_by": ahead_by,
        "behind_by": behind_by,
        "total_commits": ahead_by,
    })
    .to_string();

    // `{head fields, "base_commit": …, "merge_base_commit": …, tail fields, "commits": […]}`
    let fill = r.fill();
    let mut out = Vec::with_capacity(4_096 + (end - start) * 3_000);
    out.extend_from_slice(&head_fields.as_bytes()[..head_fields.len() - 1]);
    out.extend_from_slice(b",\"base_commit\":");
    base_commit.frag.write(&mut out, &fill);
    out.extend_from_slice(b",\"merge_base_commit\":");
    merge_base.frag.write(&mut out, &fill);
    out.push(b',');
    out.extend_from_slice(&tail.as_bytes()[1..tail.len() - 1]);
    out.extend_from_slice(b",\"commits\":[");
    for (n, k) in (start..end).enumerate() {
        if n > 0 {
            out.push(b',');
        }
        head.get(repo, k)
            .ok_or_else(ApiError::not_found)?
            .frag
            .write(&mut out, &fill);
    }
    out.push(b']');
    if page == 1 {
        out.extend_from_slice(b",\"files\":[]");
    }
    out.push(b'}');
    let link = paged
        .then(|| {
            page_link(
                &r.link_url(&req.origin, &format!("compare/{basehead}")),
                &req.params,
                page,
                ahead_by,
                per_page,
            )
        })
        .flatten();
    Ok(json_response(StatusCode::OK, out, link))
}
