//! Deterministic generation of accounts and repositories, and the JSON rendering of every item.
//! Rendering lives here too because mutations re-render the items they change.

use std::collections::HashMap;
use std::sync::RwLock;

use serde_json::{Value, json};

use super::comment::push_comment;
use super::commit::{NewCommit, push_commit};
use super::frag::{Frag, Hole};
use super::{
    Data, HISTORY_END, HISTORY_START, Issue, Label, Release, Repo, RepoFill, RepoSize, Star, User,
};
use crate::util::{Rng, fmt_ts};

/// Index of the `web-flow` account (GitHub's committer for merges made on the web).
pub(crate) const WEB_FLOW: u32 = 0;
/// Number of developer accounts that author commits, issues and comments.
const DEVS: u32 = 40;
pub(crate) const HTML: &str = "https://github.com";

const FIRST: &[&str] = &[
    "ada", "grace", "linus", "zoe", "jose", "li", "olga", "amara", "kenji", "noor", "emeka",
    "freya", "ravi", "ines", "tomasz", "yuki", "sven", "leila", "mateo", "aiko",
];
pub(crate) const NAMES: &[&str] = &[
    "Ada Lovelace",
    "Grace Hopper",
    "Linus T.",
    "Zoë Müller",
    "José Núñez",
    "李雷",
    "Ольга Петрова",
    "Amara O'Neil",
    "Kenji \"KJ\" Sato",
    "Noor Al-Fayed",
    "Emeka Obi",
    "Freya Ødegård",
    "Ravi Shankar",
    "Inês Araújo",
    "Tomasz Wójcik",
    "Yuki 佐藤",
    "Sven Bjørnsson",
    "Leila Ḥaddad",
    "Mateo García",
    "Aiko 🌸 Tanaka",
];
pub(crate) const THINGS: &[&str] = &[
    "parser",
    "pagination",
    "rate limiter",
    "CLI flags",
    "state handling",
    "schema discovery",
    "módulo de logs",
    "retry loop",
    "README",
    "SQLite loader",
    "timezone handling",
    "ETag cache",
];
const LABELS: &[(&str, &str, Option<&str>)] = &[
    ("bug", "d73a4a", Some("Something isn't working")),
    ("enhancement", "a2eeef", Some("New feature or request")),
    (
        "documentation",
        "0075ca",
        Some("Improvements or additions to documentation"),
    ),
    ("good first issue", "7057ff", Some("Good for newcomers")),
    (
        "question",
        "d876e3",
        Some("Further information is requested"),
    ),
    ("wontfix", "ffffff", Some("This will not be worked on")),
];

/// A repository to generate: `owner/name` and sizes.
#[derive(Debug, Clone)]
pub(crate) struct RepoSpec {
    pub owner: String,
    pub name: String,
    pub size: RepoSize,
}

/// Generates every account and repository.
pub(crate) fn generate(seed: u64, base: &str, specs: &[RepoSpec], orgs: &[String]) -> Data {
    let mut users = vec![User {
        login: "web-flow".into(),
        id: 19_864_447,
        name: "GitHub".into(),
        email: "noreply@github.com".into(),
        org: false,
    }];
    let mut owner_index: HashMap<String, u32> = HashMap::new();
    let owner_names = orgs
        .iter()
        .cloned()
        .chain(specs.iter().map(|s| s.owner.clone()));
    for login in owner_names {
        let key = login.to_ascii_lowercase();
        if owner_index.contains_key(&key) {
            continue;
        }
        let is_org = orgs.iter().any(|o| o.eq_ignore_ascii_case(&login));
        let id = 9_000_000 + (crate::util::fnv1a(key.as_bytes()) % 1_000_000);
        owner_index.insert(key, users.len() as u32);
        users.push(User {
            email: format!("{login}@users.noreply.github.com"),
            name: login.clone(),
            login,
            id,
            org: is_org,
        });
    }
    let dev_start = users.len() as u32;
    let mut rng = Rng::new(seed, "users");
    for i in 0..DEVS {
        let k = (i as usize) % FIRST.len();
        let login = format!("{}-{}{}", FIRST[k], i, rng.below(90) + 10);
        users.push(User {
            email: format!(
                "{}+{login}@users.noreply.github.com",
                40_000_000 + u64::from(i)
            ),
            name: NAMES[k].to_owned(),
            login,
            id: 40_000_000 + u64::from(i) * 7,
            org: false,
        });
    }
    let star_start = users.len() as u32;
    let max_stars = specs
        .iter()
        .map(|s| s.size.stargazer_count())
        .max()
        .unwrap_or(0);
    for i in 0..max_stars {
        users.push(User {
            login: format!("stargazer-{i}"),
            id: 60_000_000 + u64::from(i),
            name: format!("Star Gazer {i}"),
            email: format!("stargazer-{i}@example.org"),
            org: false,
        });
    }
    let user_json: Vec<Box<str>> = users
        .iter()
        .map(|u| render_user(base, u).into_boxed_str())
        .collect();
    let pools = Pools {
        dev_start,
        star_start,
    };
    let mut repos = Vec::with_capacity(specs.len());
    let mut by_name = HashMap::new();
    let mut by_id = HashMap::new();
    for (index, spec) in specs.iter().enumerate() {
        let owner_user = owner_index[&spec.owner.to_ascii_lowercase()];
        let repo = generate_repo(
            seed, base, index, spec, owner_user, &users, &user_json, pools,
        );
        by_name.insert(repo.full_name.to_ascii_lowercase(), index);
        by_id.insert(repo.id, index);
        repos.push(RwLock::new(repo));
    }
    let orgs = orgs
        .iter()
        .map(|o| (o.to_ascii_lowercase(), owner_index[&o.to_ascii_lowercase()]))
        .collect();
    Data {
        seed,
        base: base.to_owned(),
        users,
        user_json,
        repos,
        by_name,
        by_id,
        orgs,
    }
}

/// Where the account pools start in the user table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pools {
    pub dev_start: u32,
    pub star_start: u32,
}

impl Pools {
    /// A developer, skewed so that a few do most of the work, as in real projects.
    pub(crate) fn dev(self, rng: &mut Rng) -> u32 {
        let bound = rng.below(u64::from(DEVS)) + 1;
        let k = rng.below(bound);
        self.dev_start + k as u32
    }

    pub(crate) fn association(self, repo: &Repo, user: u32) -> &'static str {
        if user == repo.owner_user {
            "OWNER"
        } else if user >= self.dev_start && user < self.dev_start + 4 {
            "MEMBER"
        } else if user >= self.dev_start && user < self.star_start {
            "CONTRIBUTOR"
        } else {
            "NONE"
        }
    }

    /// The pools of a generated world (recomputed from the user table).
    pub(crate) fn of(users: &[User]) -> Pools {
        let dev_start = users
            .iter()
            .position(|u| u.id >= 40_000_000 && u.id < 60_000_000)
            .unwrap_or(0) as u32;
        Pools {
            dev_start,
            star_start: dev_start + DEVS,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn generate_repo(
    seed: u64,
    base: &str,
    index: usize,
    spec: &RepoSpec,
    owner_user: u32,
    users: &[User],
    user_json: &[Box<str>],
    pools: Pools,
) -> Repo {
    let full_name = format!("{}/{}", spec.owner, spec.name);
    let mut rng = Rng::new(seed, &full_name);
    let size = spec.size;
    let created = HISTORY_START - 30 * 86_400 - rng.below(300 * 86_400) as i64;
    let mut repo = Repo {
        index,
        id: 700_000_000 + index as u64 * 1_000 + rng.below(1_000),
        owner: spec.owner.clone(),
        name: spec.name.clone(),
        full_name,
        owner_user,
        default_branch: "main".into(),
        created,
        size,
        json: String::new(),
        commits: Vec::with_capacity(size.commits as usize),
        dropped: Vec::new(),
        issues: Vec::with_capacity(size.issues as usize),
        comments: Vec::new(),
        releases: Vec::new(),
        stars: Vec::new(),
        labels: LABELS
            .iter()
            .enumerate()
            .map(|(k, (name, color, description))| Label {
                id: 5_000_000_000 + index as u64 * 100 + k as u64,
                name,
                color,
                description: *description,
                default: k < 4,
            })
            .collect(),
        contributors: Vec::new(),
        clock: HISTORY_END,
        mutations: 0,
        next_comment_id: 3_000_000_000 + index as u64 * 100_000_000,
        reviews: Vec::new(),
        next_review_id: super::review::first_id(index),
    };

    // Commits: generated history has increasing committer dates (only merges bring old ones).
    let n = i64::from(size.commits);
    let span = HISTORY_END - HISTORY_START - 86_400;
    for i in 0..n {
        let slot = (span / n.max(1)).max(1);
        let date = HISTORY_START
            + (i128::from(i) * i128::from(span) / i128::from(n)) as i64
            + rng.below(slot as u64) as i64;
        push_commit(&mut repo, &mut rng, base, pools, users, NewCommit::at(date));
    }

    // Issues and pull requests, sharing one number sequence, plus their comments.
    let total = i64::from(size.issues);
    let mut pending_comments: Vec<(i64, u32, u32)> = Vec::new();
    for k in 0..total {
        let slot = (span / total.max(1)).max(1);
        let created = HISTORY_START
            + (i128::from(k) * i128::from(span) / i128::from(total)) as i64
            + rng.below(slot as u64) as i64;
        let is_pr = size.commits > 0 && rng.chance(u64::from(size.pr_percent));
        let number = k as u32 + 1;
        let mut issue = new_issue(&repo, &mut rng, pools, number, created, is_pr);
        let n_comments = rng.below(u64::from(size.comments_per_issue) * 2 + 1) as u32;
        let mut last = created;
        for _ in 0..n_comments {
            let at = (created + 60 + rng.below(60 * 86_400) as i64).min(HISTORY_END - 1);
            let author = if rng.chance(15) && pools.star_start < users.len() as u32 {
                pools.star_start
                    + rng.below(u64::from(users.len() as u32 - pools.star_start)) as u32
            } else {
                pools.dev(&mut rng)
            };
            pending_comments.push((at, number, author));
            last = last.max(at);
        }
        issue.comments = n_comments;
        if rng.chance(65) {
            let closed = (created + 3_600 + rng.below(45 * 86_400) as i64).min(HISTORY_END - 1);
            issue.closed = Some(closed);
            issue.closed_by = Some(pools.dev(&mut rng));
            if is_pr && rng.chance(75) {
                issue.merged = Some(closed);
                issue.merge_sha = Some(rng.sha());
            }
            last = last.max(closed);
        } else if is_pr {
            issue.draft = rng.chance(10);
        }
        issue.updated = (last + rng.below(600) as i64).min(HISTORY_END);
        repo.issues.push(issue);
    }
    pending_comments.sort();
    for (at, number, author) in pending_comments {
        let updated = if rng.chance(20) {
            (at + rng.below(86_400) as i64).min(HISTORY_END)
        } else {
            at
        };
        push_comment(
            &mut repo, &mut rng, base, pools, number, author, at, updated,
        );
    }

    // Releases on evenly spaced commits, stars spread over the repository's life.
    let releases = if size.commits == 0 {
        0
    } else {
        size.release_count()
    };
    for k in 0..releases {
        let at =
            ((u64::from(k) + 1) * u64::from(size.commits) / (u64::from(releases) + 1)) as usize;
        let created = repo.commits[at.min(repo.commits.len() - 1)].date;
        let release = new_release(&repo, base, &mut rng, pools, k, created);
        repo.releases.push(release);
    }
    let stars = i64::from(size.stargazer_count());
    for k in 0..stars {
        let life = HISTORY_END - repo.created;
        let at = repo.created
            + (i128::from(k) * i128::from(life) / i128::from(stars)) as i64
            + rng.below((life / stars).max(1) as u64) as i64;
        repo.stars.push(Star {
            user: pools.star_start + k as u32,
            at,
        });
    }

    for i in 0..repo.issues.len() {
        render_issue(&mut repo, base, pools, i);
    }
    super::review::generate(&mut repo, seed, base, pools);
    refresh(&mut repo, base, users, user_json);
    repo
}

/// Recomputes what depends on everything: contributors, the repository object and the clock.
pub(crate) fn refresh(repo: &mut Repo, base: &str, users: &[User], user_json: &[Box<str>]) {
    let mut counts: HashMap<u32, u32> = HashMap::new();
    for c in &repo.commits {
        if let Some(a) = c.author {
            *counts.entry(a).or_default() += 1;
        }
    }
    let mut contributors: Vec<(u32, u32)> = counts.into_iter().collect();
    contributors.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(users[a.0 as usize].id.cmp(&users[b.0 as usize].id))
    });
    repo.contributors = contributors;
    let latest = [
        repo.commits.iter().map(|c| c.date).max(),
        repo.commits.last().map(|c| c.pushed),
        repo.issues.iter().map(|i| i.updated).max(),
        repo.comments.iter().map(|c| c.updated).max(),
    ];
    repo.clock = latest.into_iter().flatten().fold(repo.clock, i64::max);
    let frag = Frag::new(&render_repo(repo, base, users));
    let mut out = Vec::new();
    frag.write(
        &mut out,
        &RepoFill {
            user_json,
            repo_json: "{}",
        },
    );
    repo.json = String::from_utf8(out).expect("rendered JSON is UTF-8");
}

/// The `simple-user` object of an account.
fn render_user(base: &str, u: &User) -> String {
    let login = &u.login;
    let url = format!("{base}/users/{login}");
    let v = json!({
        "login": login,
        "id": u.id,
        "node_id": format!("{}_kgDO{:X}", if u.org { "O" } else { "U" }, u.id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", u.id),
        "gravatar_id": "",
        "url": url,
        "html_url": format!("{HTML}/{login}"),
        "followers_url": format!("{url}/followers"),
        "following_url": format!("{url}/following{{/other_user}}"),
        "gists_url": format!("{url}/gists{{/gist_id}}"),
        "starred_url": format!("{url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"),
        "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events{{/privacy}}"),
        "received_events_url": format!("{url}/received_events"),
        "type": if u.org { "Organization" } else { "User" },
        "user_view_type": "public",
        "site_admin": false,
    });
    v.to_string()
}

fn render_repo(repo: &Repo, base: &str, users: &[User]) -> Value {
    let full = &repo.full_name;
    let api = format!("{base}/repos/{full}");
    let html = format!("{HTML}/{full}");
    let open = repo.issues.iter().filter(|i| i.closed.is_none()).count();
    let pushed = repo.commits.last().map_or(repo.created, |c| c.pushed);
    let owner = &users[repo.owner_user as usize];
    let mut v = json!({
        "id": repo.id,
        "node_id": format!("R_kgDO{:X}", repo.id),
        "name": repo.name,
        "full_name": full,
        "private": false,
        "owner": Hole::User(repo.owner_user).marker(),
        "html_url": html,
        "description": format!("Synthetic repository {full} — “deterministic” test data ✓"),
        "fork": false,
        "url": api,
        "forks_url": format!("{api}/forks"),
        "keys_url": format!("{api}/keys{{/key_id}}"),
        "collaborators_url": format!("{api}/collaborators{{/collaborator}}"),
        "teams_url": format!("{api}/teams"),
        "hooks_url": format!("{api}/hooks"),
        "issue_events_url": format!("{api}/issues/events{{/number}}"),
        "events_url": format!("{api}/events"),
        "assignees_url": format!("{api}/assignees{{/user}}"),
        "branches_url": format!("{api}/branches{{/branch}}"),
        "tags_url": format!("{api}/tags"),
        "blobs_url": format!("{api}/git/blobs{{/sha}}"),
        "git_tags_url": format!("{api}/git/tags{{/sha}}"),
        "git_refs_url": format!("{api}/git/refs{{/sha}}"),
        "trees_url": format!("{api}/git/trees{{/sha}}"),
        "statuses_url": format!("{api}/statuses/{{sha}}"),
        "languages_url": format!("{api}/languages"),
        "stargazers_url": format!("{api}/stargazers"),
        "contributors_url": format!("{api}/contributors"),
        "subscribers_url": format!("{api}/subscribers"),
        "subscription_url": format!("{api}/subscription"),
        "commits_url": format!("{api}/commits{{/sha}}"),
        "git_commits_url": format!("{api}/git/commits{{/sha}}"),
        "comments_url": format!("{api}/comments{{/number}}"),
        "issue_comment_url": format!("{api}/issues/comments{{/number}}"),
        "contents_url": format!("{api}/contents/{{+path}}"),
        "compare_url": format!("{api}/compare/{{base}}...{{head}}"),
        "merges_url": format!("{api}/merges"),
        "archive_url": format!("{api}/{{archive_format}}{{/ref}}"),
        "downloads_url": format!("{api}/downloads"),
        "issues_url": format!("{api}/issues{{/number}}"),
        "pulls_url": format!("{api}/pulls{{/number}}"),
        "milestones_url": format!("{api}/milestones{{/number}}"),
        "notifications_url": format!("{api}/notifications{{?since,all,participating}}"),
        "labels_url": format!("{api}/labels{{/name}}"),
        "releases_url": format!("{api}/releases{{/id}}"),
        "deployments_url": format!("{api}/deployments"),
        "created_at": fmt_ts(repo.created),
        "updated_at": fmt_ts(repo.clock),
        "pushed_at": fmt_ts(pushed),
        "git_url": format!("git://github.com/{full}.git"),
        "ssh_url": format!("git@github.com:{full}.git"),
        "clone_url": format!("{html}.git"),
        "svn_url": html,
        "homepage": null,
        "size": repo.commits.len() * 3,
        "stargazers_count": repo.stars.len(),
        "watchers_count": repo.stars.len(),
        "language": if repo.commits.is_empty() { Value::Null } else { json!("Rust") },
        "has_issues": true,
        "has_projects": true,
        "has_downloads": true,
        "has_wiki": true,
        "has_pages": false,
        "has_discussions": false,
        "forks_count": 0,
        "mirror_url": null,
        "archived": false,
        "disabled": false,
        "open_issues_count": open,
        "license": {
            "key": "apache-2.0",
            "name": "Apache License 2.0",
            "spdx_id": "Apache-2.0",
            "url": format!("{base}/licenses/apache-2.0"),
            "node_id": "MDc6TGljZW5zZTI="
        },
        "allow_forking": true,
        "is_template": false,
        "web_commit_signoff_required": false,
        "topics": ["etl", "singer"],
        "visibility": "public",
        "forks": 0,
        "open_issues": open,
        "watchers": repo.stars.len(),
        "default_branch": repo.default_branch,
        "network_count": 0,
        "subscribers_count": (repo.stars.len() / 10) + 1,
    });
    if owner.org {
        v["organization"] = json!(Hole::User(repo.owner_user).marker());
    }
    v
}

/// A new issue or pull request (not yet rendered: call [`render_issue`]).
pub(crate) fn new_issue(
    repo: &Repo,
    rng: &mut Rng,
    pools: Pools,
    number: u32,
    created: i64,
    is_pr: bool,
) -> Issue {
    let thing = rng.pick(THINGS);
    let title = match rng.below(5) {
        0 => format!("{thing} crashes on “unicode” input ✗"),
        1 => format!("Support \"quoted\" values in {thing}"),
        2 => format!("Docs: explain {thing}"),
        3 => format!("{thing}: handle 'since' correctly"),
        _ => format!("Verbessere {thing} — étape {number}"),
    };
    let body = if rng.chance(20) {
        None
    } else {
        Some(format!(
            "### Steps\r\n\r\n1. Run `tapline run`\r\n2. Look at {thing}\r\n\r\n> Expected “it works” 🙂\r\n\r\nRef #{}",
            rng.below(u64::from(number)) + 1
        ))
    };
    let mut labels: Vec<usize> = Vec::new();
    for _ in 0..rng.below(3) {
        let l = rng.below(LABELS.len() as u64) as usize;
        if !labels.contains(&l) {
            labels.push(l);
        }
    }
    labels.sort_unstable();
    let index = repo.index as u64;
    Issue {
        number,
        id: 2_000_000_000 + index * 100_000_000 + u64::from(number) * 3,
        pr_id: is_pr.then(|| 1_500_000_000 + index * 100_000_000 + u64::from(number) * 3),
        title,
        body,
        author: pools.dev(rng),
        assignee: rng.chance(40).then(|| pools.dev(rng)),
        labels,
        milestone: rng.chance(10),
        locked: rng.chance(3),
        created,
        updated: created,
        closed: None,
        merged: None,
        closed_by: None,
        comments: 0,
        head_sha: rng.sha(),
        merge_sha: None,
        draft: false,
        frag: Frag::default(),
        pr_frag: None,
    }
}

fn label_json(repo: &Repo, base: &str, l: &Label) -> Value {
    json!({
        "id": l.id,
        "node_id": format!("LA_kwDO{:X}", l.id),
        "url": format!("{base}/repos/{}/labels/{}", repo.full_name, l.name.replace(' ', "%20")),
        "name": l.name,
        "color": l.color,
        "default": l.default,
        "description": l.description,
    })
}

fn milestone_json(repo: &Repo, base: &str) -> Value {
    let api = format!("{base}/repos/{}", repo.full_name);
    json!({
        "url": format!("{api}/milestones/1"),
        "html_url": format!("{HTML}/{}/milestone/1", repo.full_name),
        "labels_url": format!("{api}/milestones/1/labels"),
        "id": 8_000_000 + repo.index as u64,
        "node_id": format!("MI_kwDO{:X}", repo.id),
        "number": 1,
        "title": "v1.0",
        "description": "The “first” stable release",
        "creator": Hole::User(repo.owner_user).marker(),
        "open_issues": 4,
        "closed_issues": 8,
        "state": "open",
        "created_at": fmt_ts(HISTORY_START),
        "updated_at": fmt_ts(HISTORY_START + 86_400),
        "due_on": null,
        "closed_at": null,
    })
}

/// Renders issue `i` (by position) into its `/issues` item and, for a pull request, its `/pulls`
/// item.
pub(crate) fn render_issue(repo: &mut Repo, base: &str, pools: Pools, i: usize) {
    let issue = &repo.issues[i];
    let full = &repo.full_name;
    let api = format!("{base}/repos/{full}");
    let n = issue.number;
    let kind = if issue.is_pr() { "pull" } else { "issues" };
    let html = format!("{HTML}/{full}/{kind}/{n}");
    let labels: Vec<Value> = issue
        .labels
        .iter()
        .map(|l| label_json(repo, base, &repo.labels[*l]))
        .collect();
    let milestone = if issue.milestone {
        milestone_json(repo, base)
    } else {
        Value::Null
    };
    let assignee = issue.assignee.map(|u| Hole::User(u).marker());
    let assignees: Vec<String> = assignee.iter().cloned().collect();
    let state = if issue.closed.is_some() {
        "closed"
    } else {
        "open"
    };
    let association = pools.association(repo, issue.author);
    let reactions = json!({
        "url": format!("{api}/issues/{n}/reactions"),
        "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
        "confused": 0, "heart": 0, "rocket": 0, "eyes": 0
    });
    let mut v = json!({
        "url": format!("{api}/issues/{n}"),
        "repository_url": api,
        "labels_url": format!("{api}/issues/{n}/labels{{/name}}"),
        "comments_url": format!("{api}/issues/{n}/comments"),
        "events_url": format!("{api}/issues/{n}/events"),
        "html_url": html,
        "id": issue.id,
        "node_id": format!("{}_kwDO{:X}", if issue.is_pr() { "PR" } else { "I" }, issue.id),
        "number": n,
        "title": issue.title,
        "user": Hole::User(issue.author).marker(),
        "labels": labels,
        "state": state,
        "locked": issue.locked,
        "assignee": assignee,
        "assignees": assignees,
        "milestone": milestone,
        "comments": issue.comments,
        "created_at": fmt_ts(issue.created),
        "updated_at": fmt_ts(issue.updated),
        "closed_at": issue.closed.map(fmt_ts),
        "author_association": association,
        "type": null,
        "active_lock_reason": if issue.locked { json!("resolved") } else { Value::Null },
        "body": issue.body,
        "reactions": reactions,
        "timeline_url": format!("{api}/issues/{n}/timeline"),
        "performed_via_github_app": null,
        "state_reason": if issue.closed.is_some() {
            json!(if issue.is_pr() || !issue.number.is_multiple_of(5) { "completed" } else { "not_planned" })
        } else { Value::Null },
    });
    if issue.is_pr() {
        v["draft"] = json!(issue.draft);
        v["pull_request"] = json!({
            "url": format!("{api}/pulls/{n}"),
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "merged_at": issue.merged.map(fmt_ts),
        });
    }
    let frag = Frag::new(&v);
    let pr_frag = issue.pr_id.map(|pr_id| {
        let owner = &repo.owner;
        let base_sha = base_sha(repo, issue.created);
        let branch = |r: &str, sha: &str| {
            json!({
                "label": format!("{owner}:{r}"),
                "ref": r,
                "sha": sha,
                "user": Hole::User(repo.owner_user).marker(),
                "repo": Hole::Repo.marker(),
            })
        };
        let pr_api = format!("{api}/pulls/{n}");
        let mut p = json!({
            "url": pr_api,
            "id": pr_id,
            "node_id": format!("PR_kwDO{:X}", pr_id),
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "issue_url": format!("{api}/issues/{n}"),
            "number": n,
            "state": state,
            "locked": issue.locked,
            "title": issue.title,
            "user": Hole::User(issue.author).marker(),
            "body": issue.body,
            "created_at": fmt_ts(issue.created),
            "updated_at": fmt_ts(issue.updated),
            "closed_at": issue.closed.map(fmt_ts),
            "merged_at": issue.merged.map(fmt_ts),
            "merge_commit_sha": issue.merge_sha.clone().unwrap_or_else(|| issue.head_sha.chars().rev().collect()),
            "assignee": v["assignee"].clone(),
            "assignees": v["assignees"].clone(),
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": v["labels"].clone(),
            "milestone": v["milestone"].clone(),
            "draft": issue.draft,
            "commits_url": format!("{pr_api}/commits"),
            "review_comments_url": format!("{pr_api}/comments"),
            "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
            "comments_url": format!("{api}/issues/{n}/comments"),
            "statuses_url": format!("{api}/statuses/{}", issue.head_sha),
            "head": branch(&format!("feature/{n}"), &issue.head_sha),
            "base": branch(&repo.default_branch, &base_sha),
            "_links": {
                "self": {"href": pr_api},
                "html": {"href": html},
                "issue": {"href": format!("{api}/issues/{n}")},
                "comments": {"href": format!("{api}/issues/{n}/comments")},
                "review_comments": {"href": format!("{pr_api}/comments")},
                "review_comment": {"href": format!("{api}/pulls/comments{{/number}}")},
                "commits": {"href": format!("{pr_api}/commits")},
                "statuses": {"href": format!("{api}/statuses/{}", issue.head_sha)},
            },
            "author_association": association,
            "auto_merge": null,
            "active_lock_reason": v["active_lock_reason"].clone(),
        });
        if p["merge_commit_sha"].as_str().is_some_and(str::is_empty) {
            p["merge_commit_sha"] = Value::Null;
        }
        Frag::new(&p)
    });
    let issue = &mut repo.issues[i];
    issue.frag = frag;
    issue.pr_frag = pr_frag;
}

/// Sha of the branch head at time `at` (the first commit if none was pushed before).
fn base_sha(repo: &Repo, at: i64) -> String {
    // Push times, unlike committer dates, are sorted along the branch.
    let k = repo.commits.partition_point(|c| c.pushed <= at);
    repo.commits
        .get(k.saturating_sub(1))
        .map(|c| c.sha.clone())
        .unwrap_or_default()
}

/// The `k`-th release of a repository, rendered.
fn new_release(
    repo: &Repo,
    base: &str,
    rng: &mut Rng,
    pools: Pools,
    k: u32,
    created: i64,
) -> Release {
    let id = 90_000_000 + repo.index as u64 * 1_000_000 + u64::from(k) * 11;
    let tag = format!("v{}.{}.0", k / 10, k % 10 + 1);
    let published = created + 60;
    let full = &repo.full_name;
    let api = format!("{base}/repos/{full}");
    let prerelease = rng.chance(10);
    let v = json!({
        "url": format!("{api}/releases/{id}"),
        "assets_url": format!("{api}/releases/{id}/assets"),
        "upload_url": format!("https://uploads.github.com/repos/{full}/releases/{id}/assets{{?name,label}}"),
        "html_url": format!("{HTML}/{full}/releases/tag/{tag}"),
        "id": id,
        "author": Hole::User(pools.dev(rng)).marker(),
        "node_id": format!("RE_kwDO{:X}", id),
        "tag_name": tag,
        "target_commitish": repo.default_branch,
        "name": format!("{tag} — “{}”", rng.pick(THINGS)),
        "draft": false,
        "immutable": false,
        "prerelease": prerelease,
        "created_at": fmt_ts(created),
        "updated_at": fmt_ts(created + 120),
        "published_at": fmt_ts(published),
        "assets": [],
        "tarball_url": format!("{api}/tarball/{tag}"),
        "zipball_url": format!("{api}/zipball/{tag}"),
        "body": format!("## What's changed\r\n\r\n* Better {} by @{}\r\n", rng.pick(THINGS), repo.owner),
    });
    Release {
        id,
        tag,
        created,
        published,
        frag: Frag::new(&v),
    }
}
