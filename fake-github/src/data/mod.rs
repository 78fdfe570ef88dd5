//! The synthetic GitHub: users, repositories and everything in them, generated deterministically
//! from a seed and sizes (`generate`), changed only by [`mutate`], and kept as pre-serialised items
//! ([`frag`]) so that serving a page is a concatenation. No HTTP here.

pub(crate) mod comment;
pub(crate) mod commit;
pub(crate) mod frag;
pub(crate) mod generate;
pub(crate) mod lineage;
pub(crate) mod mutate;
pub(crate) mod review;

use std::collections::HashMap;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use frag::{Fill, Frag};

/// First instant of generated history (2019-01-01T00:00:00Z).
pub(crate) const HISTORY_START: i64 = 1_546_300_800;
/// Last instant of generated history (2025-06-01T00:00:00Z); mutations add activity after it.
pub(crate) const HISTORY_END: i64 = 1_748_736_000;

/// How much data one repository holds. Build it with [`RepoSize::new`] or struct update syntax
/// over `RepoSize::default()` (an empty repository with the usual proportions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoSize {
    /// Commits on the default branch; 0 makes an empty repository (409 on `/commits`).
    pub commits: u32,
    /// Issues and pull requests together: they share one number sequence.
    pub issues: u32,
    /// Percentage of `issues` that are pull requests (none when there are no commits).
    pub pr_percent: u8,
    /// Average number of comments per issue or pull request.
    pub comments_per_issue: u32,
    /// Releases; `None` means one per 100 commits, at most 50.
    pub releases: Option<u32>,
    /// Stargazers; `None` means one per 10 commits, at most 300.
    pub stargazers: Option<u32>,
}

impl Default for RepoSize {
    fn default() -> RepoSize {
        RepoSize {
            commits: 0,
            issues: 0,
            pr_percent: 30,
            comments_per_issue: 2,
            releases: None,
            stargazers: None,
        }
    }
}

impl RepoSize {
    /// A repository with `commits` commits and `issues` issue numbers (30% of them pull
    /// requests), other streams sized in proportion.
    pub fn new(commits: u32, issues: u32) -> RepoSize {
        RepoSize {
            commits,
            issues,
            ..RepoSize::default()
        }
    }

    pub(crate) fn release_count(&self) -> u32 {
        self.releases.unwrap_or((self.commits / 100).min(50))
    }

    pub(crate) fn stargazer_count(&self) -> u32 {
        self.stargazers.unwrap_or((self.commits / 10).min(300))
    }
}

/// New activity to add to a repository. Everything it changes gets times strictly newer than
/// anything already there, except the committer dates of a merged branch, which are old on
/// purpose. Applied in this order: force push, new commits, merged branch, touched issues,
/// touched pull requests, edited comments, new issues; "existing" means before the mutation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mutation {
    /// Commits to push on the default branch.
    pub new_commits: u32,
    /// Existing issues or pull requests to touch: each gets a new comment, and some are closed
    /// (pull requests merged); a touched pull request may get a review, submitted at the touch.
    pub update_issues: u32,
    /// New issues or pull requests to open.
    pub new_issues: u32,
    /// Existing pull requests to touch, as `update_issues` does.
    #[serde(default)]
    pub update_pulls: u32,
    /// Existing comments to edit: a new body and `updated_at`.
    #[serde(default)]
    pub update_comments: u32,
    /// Commits of a merged branch, appended to the default branch with committer dates starting
    /// `merged_age_s` before the newest commit date so far and increasing among themselves.
    #[serde(default)]
    pub merged_commits: u32,
    /// How much older than the newest commit the merged branch starts, in seconds.
    #[serde(default)]
    pub merged_age_s: u64,
    /// Whether a merge commit (dated now) follows the merged commits; otherwise the branch is
    /// fast-forwarded and its head keeps an old date.
    #[serde(default)]
    pub merge_commit: bool,
    /// Commits to force-push: the last K commits of the branch are dropped (at least one commit
    /// stays) and K new ones pushed. Dropped commits stay known to compare (`diverged`).
    #[serde(default)]
    pub force_push: u32,
}

impl Mutation {
    /// A mutation that changes nothing; a base for struct update syntax in `const` items.
    pub const NONE: Mutation = Mutation {
        new_commits: 0,
        update_issues: 0,
        new_issues: 0,
        update_pulls: 0,
        update_comments: 0,
        merged_commits: 0,
        merged_age_s: 0,
        merge_commit: false,
        force_push: 0,
    };
}

/// A user or organization account.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub login: String,
    pub id: u64,
    pub name: String,
    pub email: String,
    pub org: bool,
}

/// One commit on the default branch.
#[derive(Debug)]
pub(crate) struct Commit {
    pub sha: String,
    /// Committer date, epoch seconds. It may go backwards along the branch: a merged branch
    /// brings commits dated before the head it lands on.
    pub date: i64,
    /// When the commit landed on the branch, epoch seconds; never decreases along the branch.
    pub pushed: i64,
    /// Author's linked account, if the email belongs to one.
    pub author: Option<u32>,
    pub author_email: String,
    /// Number of parents: 0 for the first commit, 2 for a merge commit, else 1.
    pub parents: usize,
    pub frag: Frag,
}

/// A commit that a force push removed from the branch.
#[derive(Debug)]
pub(crate) struct Dropped {
    pub commit: Commit,
    /// The commit before it on the branch when it was dropped (a branch commit or another
    /// dropped one).
    pub parent: String,
}

/// An issue or a pull request (they share the number sequence).
#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub number: u32,
    pub id: u64,
    /// The `/pulls` object's id, for pull requests.
    pub pr_id: Option<u64>,
    pub title: String,
    pub body: Option<String>,
    pub author: u32,
    pub assignee: Option<u32>,
    pub labels: Vec<usize>,
    pub milestone: bool,
    pub locked: bool,
    pub created: i64,
    pub updated: i64,
    pub closed: Option<i64>,
    pub merged: Option<i64>,
    pub closed_by: Option<u32>,
    pub comments: u32,
    /// Head and merge commit shas, for pull requests.
    pub head_sha: String,
    pub merge_sha: Option<String>,
    pub draft: bool,
    /// The `/issues` item.
    pub frag: Frag,
    /// The `/pulls` item, for pull requests.
    pub pr_frag: Option<Frag>,
}

impl Issue {
    pub(crate) fn is_pr(&self) -> bool {
        self.pr_id.is_some()
    }
}

/// A comment on an issue or pull request.
#[derive(Debug)]
pub(crate) struct Comment {
    pub id: u64,
    pub issue: u32,
    pub author: u32,
    pub created: i64,
    pub updated: i64,
    pub frag: Frag,
}

/// A review of a pull request.
#[derive(Debug)]
pub(crate) struct Review {
    pub id: u64,
    /// The pull request's number.
    pub pull: u32,
    pub author: u32,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED` or `PENDING`.
    pub state: &'static str,
    /// Submission time; `None` for a pending review.
    pub submitted: Option<i64>,
    pub frag: Frag,
}

/// A published release.
#[derive(Debug)]
pub(crate) struct Release {
    pub id: u64,
    pub tag: String,
    pub created: i64,
    pub published: i64,
    pub frag: Frag,
}

/// A star given to the repository.
#[derive(Debug)]
pub(crate) struct Star {
    pub user: u32,
    pub at: i64,
}

/// A label defined in a repository.
#[derive(Debug, Clone)]
pub(crate) struct Label {
    pub id: u64,
    pub name: &'static str,
    pub color: &'static str,
    pub description: Option<&'static str>,
    pub default: bool,
}

/// One repository and all its streams.
#[derive(Debug)]
pub(crate) struct Repo {
    pub index: usize,
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub full_name: String,
    pub owner_user: u32,
    pub default_branch: String,
    pub created: i64,
    pub size: RepoSize,
    /// The repository object (`full-repository` shaped), refreshed by mutations.
    pub json: String,
    /// Branch order (each commit's parent before it): the head is the last element.
    pub commits: Vec<Commit>,
    /// Commits force-pushed away, oldest drop first.
    pub dropped: Vec<Dropped>,
    /// By number: `issues[n - 1]` is number `n`.
    pub issues: Vec<Issue>,
    /// By id, ascending.
    pub comments: Vec<Comment>,
    /// Pull request reviews, by id ascending (oldest first).
    pub reviews: Vec<Review>,
    /// Oldest first.
    pub releases: Vec<Release>,
    /// Oldest first.
    pub stars: Vec<Star>,
    pub labels: Vec<Label>,
    /// (user, contributions), in GitHub's order: most contributions first.
    pub contributors: Vec<(u32, u32)>,
    /// Latest timestamp of any activity; mutations happen after it.
    pub clock: i64,
    /// Mutations applied so far (seeds the next one).
    pub mutations: u32,
    pub next_comment_id: u64,
    pub next_review_id: u64,
}

/// The fill context of one repository: world users plus this repository's object.
pub(crate) struct RepoFill<'a> {
    pub user_json: &'a [Box<str>],
    pub repo_json: &'a str,
}

impl Fill for RepoFill<'_> {
    fn user(&self, i: u32) -> &str {
        &self.user_json[i as usize]
    }
    fn repo(&self) -> &str {
        self.repo_json
    }
}

/// All generated data: accounts and repositories.
#[derive(Debug)]
pub(crate) struct Data {
    pub seed: u64,
    /// API base used in URLs inside items (`url`, `comments_url`, …), without trailing slash.
    pub base: String,
    pub users: Vec<User>,
    pub user_json: Vec<Box<str>>,
    pub repos: Vec<RwLock<Repo>>,
    /// Lower-cased `owner/name` to index (GitHub names are case-insensitive).
    pub by_name: HashMap<String, usize>,
    pub by_id: HashMap<u64, usize>,
    /// Lower-cased organization logins to their user index.
    pub orgs: HashMap<String, u32>,
}

impl Repo {
    /// Position on the branch of a reference: the default branch's name or `HEAD` (the head), or
    /// a full sha or a prefix of at least 7 hex digits.
    pub(crate) fn position(&self, reference: &str) -> Option<usize> {
        if reference == self.default_branch || reference == "HEAD" {
            return self.commits.len().checked_sub(1);
        }
        if reference.len() < 7 {
            return None;
        }
        self.commits
            .iter()
            .rposition(|c| c.sha.starts_with(reference))
    }
}

impl Data {
    /// Index of a repository by `owner/name`, case-insensitively.
    pub(crate) fn find(&self, full_name: &str) -> Option<usize> {
        self.by_name.get(&full_name.to_ascii_lowercase()).copied()
    }
}

/// Everything a test needs to check what a tap extracted: see `GET /_fake/truth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truth {
    /// `owner/name`.
    pub repo: String,
    /// Number of items per stream.
    pub counts: TruthCounts,
    /// Every commit, newest first (the order of `/commits`).
    pub commits: Vec<TruthCommit>,
    /// Every issue and pull request, by number.
    pub issues: Vec<TruthIssue>,
    /// Every issue comment, by id.
    pub comments: Vec<TruthComment>,
    /// Every release, newest first (the order of `/releases`).
    #[serde(default)]
    pub releases: Vec<TruthRelease>,
    /// Every stargazer, oldest star first (the order of `/stargazers`).
    #[serde(default)]
    pub stargazers: Vec<TruthStargazer>,
    /// Every contributor, most contributions first (the order of `/contributors`).
    #[serde(default)]
    pub contributors: Vec<TruthContributor>,
    /// Every pull request review, by pull request number, then oldest first (the order of each
    /// `/pulls/{number}/reviews`).
    #[serde(default)]
    pub reviews: Vec<TruthReview>,
}

/// Item counts per stream of one repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthCounts {
    /// Commits on the default branch.
    pub commits: usize,
    /// Plain issues (not pull requests).
    pub issues: usize,
    /// Pull requests.
    pub pulls: usize,
    /// Items of `/issues?state=all` (issues plus pull requests).
    pub issues_and_pulls: usize,
    /// Issue and pull request comments.
    pub comments: usize,
    /// Releases.
    pub releases: usize,
    /// Stargazers.
    pub stargazers: usize,
    /// Contributors (linked commit authors).
    pub contributors: usize,
    /// Pull request reviews.
    #[serde(default)]
    pub reviews: usize,
}

/// One commit as the truth sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthCommit {
    /// Commit sha.
    pub sha: String,
    /// `commit.committer.date`.
    pub committer_date: String,
    /// Top-level `author.login`, when the email is linked to an account.
    pub author_login: Option<String>,
    /// `commit.author.email`.
    pub author_email: String,
    /// Number of `parents`: 0 for the first commit, 2 for a merge commit, else 1.
    pub parents: usize,
}

/// One issue or pull request as the truth sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthIssue {
    /// Issue number.
    pub number: u32,
    /// Issue id (the `id` in `/issues`).
    pub id: u64,
    /// Whether it is a pull request.
    pub is_pr: bool,
    /// The pull request's own id (the `id` in `/pulls`).
    pub pr_id: Option<u64>,
    /// `open` or `closed`.
    pub state: String,
    /// Creation time.
    pub created_at: String,
    /// Last update.
    pub updated_at: String,
    /// Closing time.
    pub closed_at: Option<String>,
    /// Merge time (pull requests).
    pub merged_at: Option<String>,
    /// `user.login`.
    pub author_login: String,
    /// Number of comments.
    pub comments: u32,
}

/// One comment as the truth sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthComment {
    /// Comment id.
    pub id: u64,
    /// Number of the issue or pull request it belongs to.
    pub issue_number: u32,
    /// `user.login`.
    pub author_login: String,
    /// Creation time.
    pub created_at: String,
    /// Last update.
    pub updated_at: String,
}

/// One release as the truth sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthRelease {
    /// Release id.
    pub id: u64,
    /// `tag_name`.
    pub tag_name: String,
    /// Creation time.
    pub created_at: String,
    /// Publication time.
    pub published_at: String,
}

/// One stargazer as the truth sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthStargazer {
    /// `user.id`.
    pub user_id: u64,
    /// `user.login`.
    pub login: String,
    /// `starred_at` (star media type).
    pub starred_at: String,
}

/// One contributor as the truth sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthContributor {
    /// The account's `id`.
    pub user_id: u64,
    /// The account's `login`.
    pub login: String,
    /// Commits on the default branch authored by the account.
    pub contributions: u32,
}

/// One pull request review as the truth sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthReview {
    /// Review id.
    pub id: u64,
    /// Number of the pull request it belongs to.
    pub pull_number: u32,
    /// `user.login`.
    pub user_login: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED` or `PENDING`.
    pub state: String,
    /// Submission time; `None` for a pending review (the item has no `submitted_at`).
    pub submitted_at: Option<String>,
}

impl Repo {
    /// Reviews of pull request `number`, oldest first (the order of its `/reviews`).
    pub(crate) fn reviews_of(&self, number: u32) -> impl Iterator<Item = &Review> {
        self.reviews.iter().filter(move |r| r.pull == number)
    }

    /// Every review, by pull request number, then oldest first.
    pub(crate) fn reviews_by_pull(&self) -> Vec<&Review> {
        let mut all: Vec<&Review> = self.reviews.iter().collect();
        all.sort_by_key(|r| (r.pull, r.id));
        all
    }

    /// Releases in the order of `/releases`: newest first.
    pub(crate) fn releases_newest_first(&self) -> Vec<&Release> {
        let mut releases: Vec<(usize, &Release)> = self.releases.iter().enumerate().collect();
        releases.sort_by_key(|(k, x)| std::cmp::Reverse((x.created, *k)));
        releases.into_iter().map(|(_, x)| x).collect()
    }

    /// The ground truth of this repository.
    pub(crate) fn truth(&self, users: &[User]) -> Truth {
        use crate::util::fmt_ts;
        let login = |u: u32| users[u as usize].login.clone();
        let pulls = self.issues.iter().filter(|i| i.is_pr()).count();
        Truth {
            repo: self.full_name.clone(),
            counts: TruthCounts {
                commits: self.commits.len(),
                issues: self.issues.len() - pulls,
                pulls,
                issues_and_pulls: self.issues.len(),
                comments: self.comments.len(),
                releases: self.releases.len(),
                stargazers: self.stars.len(),
                contributors: self.contributors.len(),
                reviews: self.reviews.len(),
            },
            commits: self
                .commits
                .iter()
                .rev()
                .map(|c| TruthCommit {
                    sha: c.sha.clone(),
                    committer_date: fmt_ts(c.date),
                    author_login: c.author.map(login),
                    author_email: c.author_email.clone(),
                    parents: c.parents,
                })
                .collect(),
            issues: self
                .issues
                .iter()
                .map(|i| TruthIssue {
                    number: i.number,
                    id: i.id,
                    is_pr: i.is_pr(),
                    pr_id: i.pr_id,
                    state: if i.closed.is_some() { "closed" } else { "open" }.to_owned(),
                    created_at: fmt_ts(i.created),
                    updated_at: fmt_ts(i.updated),
                    closed_at: i.closed.map(fmt_ts),
                    merged_at: i.merged.map(fmt_ts),
                    author_login: login(i.author),
                    comments: i.comments,
                })
                .collect(),
            comments: self
                .comments
                .iter()
                .map(|c| TruthComment {
                    id: c.id,
                    issue_number: c.issue,
                    author_login: login(c.author),
                    created_at: fmt_ts(c.created),
                    updated_at: fmt_ts(c.updated),
                })
                .collect(),
            releases: self
                .releases_newest_first()
                .into_iter()
                .map(|r| TruthRelease {
                    id: r.id,
                    tag_name: r.tag.clone(),
                    created_at: fmt_ts(r.created),
                    published_at: fmt_ts(r.published),
                })
                .collect(),
            stargazers: self
                .stars
                .iter()
                .map(|s| TruthStargazer {
                    user_id: users[s.user as usize].id,
                    login: login(s.user),
                    starred_at: fmt_ts(s.at),
                })
                .collect(),
            contributors: self
                .contributors
                .iter()
                .map(|(u, n)| TruthContributor {
                    user_id: users[*u as usize].id,
                    login: login(*u),
                    contributions: *n,
                })
                .collect(),
            reviews: self
                .reviews_by_pull()
                .into_iter()
                .map(|r| TruthReview {
                    id: r.id,
                    pull_number: r.pull,
                    user_login: login(r.author),
                    state: r.state.to_owned(),
                    submitted_at: r.submitted.map(fmt_ts),
                })
                .collect(),
        }
    }

    /// Bytes held by pre-serialised items (for the memory figures of the bench).
    pub(crate) fn heap_size(&self) -> usize {
        let commits: usize = self
            .commits
            .iter()
            .map(|c| c.frag.heap_size() + c.sha.len() + c.author_email.len() + 64)
            .sum();
        let issues: usize = self
            .issues
            .iter()
            .map(|i| i.frag.heap_size() + i.pr_frag.as_ref().map_or(0, Frag::heap_size) + 256)
            .sum();
        let comments: usize = self.comments.iter().map(|c| c.frag.heap_size() + 48).sum();
        let reviews: usize = self.reviews.iter().map(|r| r.frag.heap_size() + 48).sum();
        commits + issues + comments + reviews + self.json.len()
    }
}
