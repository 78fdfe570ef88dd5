//! New activity for incremental tests: commits (plain, merged from an old branch, force-pushed),
//! touched issues and pull requests, edited comments and new issues. All of it is strictly newer
//! than anything the repository held before (merged commit dates excepted) and deterministic:
//! the caller seeds the generator (the k-th mutation of a repository, or a churn's request
//! number).

use super::comment::{edit_comment, push_comment};
use super::commit::{NewCommit, push_commit};
use super::generate::{Pools, new_issue, refresh, render_issue};
use super::{Data, Dropped, Mutation, Repo};
use crate::util::Rng;

/// Applies `m` to `repo`, drawing from a generator seeded by the world seed, the repository and
/// the number of mutations it had (counted here).
pub(crate) fn apply_next(data: &Data, repo: &mut Repo, m: Mutation) {
    repo.mutations += 1;
    let label = format!("{}#mutation{}", repo.full_name, repo.mutations);
    apply(data, repo, m, &mut Rng::new(data.seed, &label));
}

/// Applies `m` to `repo`, drawing from `rng`.
pub(crate) fn apply(data: &Data, repo: &mut Repo, m: Mutation, rng: &mut Rng) {
    let mut ctx = Ctx {
        data,
        pools: Pools::of(&data.users),
        clock: repo.clock,
        rng,
    };
    let newest_date = repo.commits.iter().map(|c| c.date).max();
    let (issues, comments) = (repo.issues.len(), repo.comments.len());

    if m.force_push > 0 {
        force_push(&mut ctx, repo, m.force_push);
    }
    for _ in 0..m.new_commits {
        let at = ctx.tick();
        ctx.commit(repo, NewCommit::at(at));
    }
    if m.merged_commits > 0 {
        let start = newest_date.unwrap_or(repo.clock) - m.merged_age_s as i64;
        merge_branch(&mut ctx, repo, m, start);
    }
    let all: Vec<usize> = (0..issues).collect();
    for i in ctx.choose(&all, m.update_issues) {
        touch_issue(&mut ctx, repo, i);
    }
    let pulls: Vec<usize> = (0..issues).filter(|i| repo.issues[*i].is_pr()).collect();
    for i in ctx.choose(&pulls, m.update_pulls) {
        touch_issue(&mut ctx, repo, i);
    }
    let existing: Vec<usize> = (0..comments).collect();
    for i in ctx.choose(&existing, m.update_comments) {
        let at = ctx.tick();
        edit_comment(repo, ctx.rng, &data.base, ctx.pools, i, at);
    }
    for _ in 0..m.new_issues {
        let at = ctx.tick();
        let number = repo.issues.len() as u32 + 1;
        let is_pr = !repo.commits.is_empty() && ctx.rng.chance(u64::from(repo.size.pr_percent));
        let issue = new_issue(repo, ctx.rng, ctx.pools, number, at, is_pr);
        repo.issues.push(issue);
        render_issue(repo, &data.base, ctx.pools, number as usize - 1);
    }
    repo.clock = ctx.clock;
    refresh(repo, &data.base, &data.users, &data.user_json);
}

/// What every step of a mutation draws from.
struct Ctx<'a> {
    data: &'a Data,
    pools: Pools,
    /// The newest time handed out so far.
    clock: i64,
    rng: &'a mut Rng,
}

impl Ctx<'_> {
    /// A new time, one to eleven minutes after the previous one.
    fn tick(&mut self) -> i64 {
        self.clock += 60 + self.rng.below(600) as i64;
        self.clock
    }

    fn commit(&mut self, repo: &mut Repo, new: NewCommit) {
        let data = self.data;
        push_commit(repo, self.rng, &data.base, self.pools, &data.users, new);
    }

    /// Up to `n` distinct elements of `from`, in their order: a partial Fisher-Yates shuffle.
    fn choose(&mut self, from: &[usize], n: u32) -> Vec<usize> {
        let mut order = from.to_vec();
        let take = (n as usize).min(order.len());
        for k in 0..take {
            let j = k + self.rng.below((order.len() - k) as u64) as usize;
            order.swap(k, j);
        }
        order.truncate(take);
        order.sort_unstable();
        order
    }
}

/// Drops the last `k` commits (keeping at least one) and pushes `k` new ones.
fn force_push(ctx: &mut Ctx<'_>, repo: &mut Repo, k: u32) {
    let keep = repo.commits.len().saturating_sub(k as usize).max(1);
    if keep < repo.commits.len() {
        let gone = repo.commits.split_off(keep);
        let mut parent = repo.commits[keep - 1].sha.clone();
        for commit in gone {
            let sha = commit.sha.clone();
            repo.dropped.push(Dropped { commit, parent });
            parent = sha;
        }
    }
    for _ in 0..k {
        let at = ctx.tick();
        ctx.commit(repo, NewCommit::at(at));
    }
}

/// Appends a branch of old-dated commits, then a merge commit when `m.merge_commit`.
fn merge_branch(ctx: &mut Ctx<'_>, repo: &mut Repo, m: Mutation, start: i64) {
    let mainline = repo.commits.len().checked_sub(1);
    let landed = ctx.tick();
    let mut date = start;
    for k in 0..m.merged_commits {
        if k > 0 {
            date += 60 + ctx.rng.below(3_600) as i64;
        }
        let new = NewCommit {
            date,
            pushed: landed,
            merge: None,
        };
        ctx.commit(repo, new);
    }
    if m.merge_commit {
        let new = NewCommit {
            date: landed,
            pushed: landed,
            merge: Some(mainline),
        };
        ctx.commit(repo, new);
    }
}

/// Touches issue `i` (by position): a new comment, and maybe closed (a pull request merged).
fn touch_issue(ctx: &mut Ctx<'_>, repo: &mut Repo, i: usize) {
    let at = ctx.tick();
    let number = repo.issues[i].number;
    let author = ctx.pools.dev(ctx.rng);
    let base = &ctx.data.base;
    push_comment(repo, ctx.rng, base, ctx.pools, number, author, at, at);
    let close = repo.issues[i].closed.is_none() && ctx.rng.chance(40);
    let issue = &mut repo.issues[i];
    issue.comments += 1;
    issue.updated = at;
    if close {
        issue.closed = Some(at);
        if issue.is_pr() && ctx.rng.chance(70) {
            issue.merged = Some(at);
            issue.merge_sha = Some(ctx.rng.sha());
        }
    }
    render_issue(repo, base, ctx.pools, i);
    if repo.issues[i].is_pr() {
        super::review::on_touch(repo, ctx.data.seed, base, ctx.pools, number, at);
    }
}
