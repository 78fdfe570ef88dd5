//! New activity for incremental tests: commits, touched issues and new issues, all strictly newer
//! than anything the repository held before, and deterministic (the k-th mutation of a repository
//! draws from a generator seeded by the world seed, the repository and k).

use super::commit::{NewCommit, push_commit};
use super::generate::{Pools, new_issue, push_comment, refresh, render_issue};
use super::{Data, Mutation, Repo};
use crate::util::Rng;

/// Applies `m` to repository `index`.
pub(crate) fn apply(data: &Data, repo: &mut Repo, m: Mutation) {
    let pools = Pools::of(&data.users);
    let base = data.base.as_str();
    repo.mutations += 1;
    let mut rng = Rng::new(
        data.seed,
        &format!("{}#mutation{}", repo.full_name, repo.mutations),
    );
    let mut clock = repo.clock;
    let mut tick = |rng: &mut Rng| {
        clock += 60 + rng.below(600) as i64;
        clock
    };

    for _ in 0..m.new_commits {
        let at = tick(&mut rng);
        push_commit(repo, &mut rng, base, pools, &data.users, NewCommit::at(at));
    }

    // Touch distinct existing issues: a partial Fisher-Yates shuffle of their positions.
    let existing = repo.issues.len();
    let mut order: Vec<usize> = (0..existing).collect();
    let touch = (m.update_issues as usize).min(existing);
    for k in 0..touch {
        let j = k + rng.below((existing - k) as u64) as usize;
        order.swap(k, j);
    }
    let mut touched: Vec<usize> = order[..touch].to_vec();
    touched.sort_unstable();
    for i in touched {
        let at = tick(&mut rng);
        let number = repo.issues[i].number;
        let author = pools.dev(&mut rng);
        push_comment(repo, &mut rng, base, pools, number, author, at, at);
        let close = repo.issues[i].closed.is_none() && rng.chance(40);
        let issue = &mut repo.issues[i];
        issue.comments += 1;
        issue.updated = at;
        if close {
            issue.closed = Some(at);
            if issue.is_pr() && rng.chance(70) {
                issue.merged = Some(at);
                issue.merge_sha = Some(rng.sha());
            }
        }
        render_issue(repo, base, pools, i);
    }

    for _ in 0..m.new_issues {
        let at = tick(&mut rng);
        let number = repo.issues.len() as u32 + 1;
        let is_pr = !repo.commits.is_empty() && rng.chance(u64::from(repo.size.pr_percent));
        let issue = new_issue(repo, &mut rng, pools, number, at, is_pr);
        repo.issues.push(issue);
        render_issue(repo, base, pools, number as usize - 1);
    }
    repo.clock = clock;
    refresh(repo, base, &data.users, &data.user_json);
}
