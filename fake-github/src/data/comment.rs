//! Issue and pull request comments: appending one, editing one, and their JSON item.

use serde_json::json;

use super::frag::{Frag, Hole};
use super::generate::{HTML, NAMES, Pools, THINGS};
use super::{Comment, Repo};
use crate::util::{Rng, fmt_ts};

/// Appends a comment (ids grow with creation time, as on GitHub).
#[allow(clippy::too_many_arguments)]
pub(crate) fn push_comment(
    repo: &mut Repo,
    rng: &mut Rng,
    base: &str,
    pools: Pools,
    number: u32,
    author: u32,
    created: i64,
    updated: i64,
) {
    let id = repo.next_comment_id;
    repo.next_comment_id += 1 + rng.below(5);
    let mut comment = Comment {
        id,
        issue: number,
        author,
        created,
        updated,
        frag: Frag::default(),
    };
    let body = body(rng);
    comment.frag = render(repo, base, pools, &comment, &body);
    repo.comments.push(comment);
}

/// Edits comment `i` (by position) at time `at`: a new body and `updated_at`.
pub(crate) fn edit_comment(
    repo: &mut Repo,
    rng: &mut Rng,
    base: &str,
    pools: Pools,
    i: usize,
    at: i64,
) {
    let body = format!("{}\n\n_Edited._", body(rng));
    repo.comments[i].updated = at;
    let frag = render(repo, base, pools, &repo.comments[i], &body);
    repo.comments[i].frag = frag;
}

fn body(rng: &mut Rng) -> String {
    let thing = rng.pick(THINGS);
    match rng.below(4) {
        0 => format!("LGTM 👍 — “{thing}” looks right."),
        1 => {
            format!("I can reproduce this with {thing}:\r\n\r\n```\r\nerror: \"unexpected\"\r\n```")
        }
        2 => format!(
            "Danke! Ça marche avec {thing} maintenant.\n\n— {}",
            rng.pick(NAMES)
        ),
        _ => format!("Could you add a test for {thing}? <3"),
    }
}

fn render(repo: &Repo, base: &str, pools: Pools, c: &Comment, body: &str) -> Frag {
    let full = &repo.full_name;
    let api = format!("{base}/repos/{full}");
    let (id, number) = (c.id, c.issue);
    let kind = if repo.issues[number as usize - 1].is_pr() {
        "pull"
    } else {
        "issues"
    };
    let v = json!({
        "url": format!("{api}/issues/comments/{id}"),
        "html_url": format!("{HTML}/{full}/{kind}/{number}#issuecomment-{id}"),
        "issue_url": format!("{api}/issues/{number}"),
        "id": id,
        "node_id": format!("IC_kwDO{:X}", id),
        "user": Hole::User(c.author).marker(),
        "created_at": fmt_ts(c.created),
        "updated_at": fmt_ts(c.updated),
        "author_association": pools.association(repo, c.author),
        "body": body,
        "reactions": {
            "url": format!("{api}/issues/comments/{id}/reactions"),
            "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
            "confused": 0, "heart": 0, "rocket": 0, "eyes": 0
        },
        "performed_via_github_app": null,
    });
    Frag::new(&v)
}
