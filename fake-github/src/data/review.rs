//! Pull request reviews: generated ones (0–3 per pull request, between its creation and its last
//! update), the ones mutations add, and their JSON item.
//!
//! Reviews draw from generators of their own (seeded by the repository, or by the pull request
//! and the time of a mutation's touch), never from the repository's: adding them changed no other
//! item of the fake.

use serde_json::json;

use super::frag::{Frag, Hole};
use super::generate::{HTML, Pools, THINGS};
use super::{Repo, Review};
use crate::util::{Rng, fmt_ts};

/// First review id of repository `index` (ids grow with creation time, as on GitHub).
pub(crate) fn first_id(index: usize) -> u64 {
    4_000_000_000 + index as u64 * 100_000_000
}

/// Generates the reviews of every pull request of a freshly generated repository.
pub(crate) fn generate(repo: &mut Repo, seed: u64, base: &str, pools: Pools) {
    let mut rng = Rng::new(seed, &format!("{}#reviews", repo.full_name));
    // (created, number, author, state): created is the submission time, or when a pending
    // review was started.
    let mut pending: Vec<(i64, u32, u32, &'static str)> = Vec::new();
    for issue in repo.issues.iter().filter(|i| i.is_pr()) {
        for _ in 0..rng.below(4) {
            let span = (issue.updated - issue.created).max(0) as u64;
            let at = issue.created + rng.below(span + 1) as i64;
            let author = pools.dev(&mut rng);
            let state = state(&mut rng, author == issue.author, true);
            pending.push((at, issue.number, author, state));
        }
    }
    pending.sort();
    for (at, number, author, state) in pending {
        push(repo, &mut rng, base, pools, number, author, state, at);
    }
}

/// Maybe adds a review submitted at `at` to pull request `number`, just touched by a mutation
/// at that time. Its generator is seeded by the repository, the pull request and `at`, so the
/// mutation's own draws stay those it made before reviews existed.
pub(crate) fn on_touch(repo: &mut Repo, seed: u64, base: &str, pools: Pools, number: u32, at: i64) {
    let mut rng = Rng::new(seed, &format!("{}#review{number}@{at}", repo.full_name));
    if !rng.chance(60) {
        return;
    }
    let author = pools.dev(&mut rng);
    let own = author == repo.issues[number as usize - 1].author;
    let state = state(&mut rng, own, false);
    push(repo, &mut rng, base, pools, number, author, state, at);
}

/// A review state: an author can only comment on their own pull request; `pending` allows a
/// review that was started and not submitted (it has no `submitted_at`).
fn state(rng: &mut Rng, own: bool, pending: bool) -> &'static str {
    if own {
        return "COMMENTED";
    }
    match rng.below(100) {
        0..45 => "APPROVED",
        45..70 => "COMMENTED",
        70..90 => "CHANGES_REQUESTED",
        90..96 => "DISMISSED",
        _ if pending => "PENDING",
        _ => "COMMENTED",
    }
}

#[allow(clippy::too_many_arguments)]
fn push(
    repo: &mut Repo,
    rng: &mut Rng,
    base: &str,
    pools: Pools,
    number: u32,
    author: u32,
    state: &'static str,
    at: i64,
) {
    let id = repo.next_review_id;
    repo.next_review_id += 1 + rng.below(7);
    let body = body(rng, state);
    let mut review = Review {
        id,
        pull: number,
        author,
        state,
        submitted: (state != "PENDING").then_some(at),
        frag: Frag::default(),
    };
    review.frag = render(repo, base, pools, &review, &body);
    repo.reviews.push(review);
}

fn body(rng: &mut Rng, state: &str) -> String {
    let thing = rng.pick(THINGS);
    match (state, rng.below(3)) {
        // Approvals are mostly given without a word.
        ("APPROVED", 0 | 1) => String::new(),
        ("APPROVED", _) => format!("LGTM ✅ — the {thing} part reads “much” better."),
        ("CHANGES_REQUESTED", 0) => {
            format!("Please don't change the {thing} here:\r\n\r\n```\r\nerror: \"broken\"\r\n```")
        }
        ("CHANGES_REQUESTED", _) => format!("Needs a test for the {thing} — siehe oben."),
        (_, 0) => String::new(),
        (_, 1) => format!("A few nits on the {thing}; nothing blocking."),
        _ => format!("Question: why does {thing} need this? <3"),
    }
}

fn render(repo: &Repo, base: &str, pools: Pools, r: &Review, body: &str) -> Frag {
    let full = &repo.full_name;
    let (id, n) = (r.id, r.pull);
    let html = format!("{HTML}/{full}/pull/{n}#pullrequestreview-{id}");
    let pull = format!("{base}/repos/{full}/pulls/{n}");
    let mut v = json!({
        "id": id,
        "node_id": format!("PRR_kwDO{:X}", id),
        "user": Hole::User(r.author).marker(),
        "body": body,
        "state": r.state,
        "html_url": html,
        "pull_request_url": pull,
        "author_association": pools.association(repo, r.author),
        "_links": {
            "html": {"href": html},
            "pull_request": {"href": pull},
        },
        "submitted_at": r.submitted.map(fmt_ts),
        "commit_id": repo.issues[n as usize - 1].head_sha,
    });
    if r.submitted.is_none()
        && let Some(o) = v.as_object_mut()
    {
        // GitHub leaves `submitted_at` out of a review that is not submitted.
        o.remove("submitted_at");
    }
    Frag::new(&v)
}
