//! Commits: appending one to the branch (plain, or a merge commit with two parents) and its
//! `/commits` item.

use serde::{Serialize, Serializer};

use super::frag::{Frag, Hole};
use super::generate::{HTML, NAMES, Pools, THINGS, WEB_FLOW};
use super::{Commit, Repo, User};
use crate::util::{Rng, fmt_ts};

/// How a new commit is dated and what it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewCommit {
    /// Committer date, epoch seconds; it may be older than the head's.
    pub date: i64,
    /// When it lands on the branch: not before the head's.
    pub pushed: i64,
    /// `Some(mainline)` for a merge commit: its first parent is the commit at branch position
    /// `mainline` (none when the branch was empty), its second the current head.
    pub merge: Option<Option<usize>>,
}

impl NewCommit {
    /// A plain commit pushed when it is dated.
    pub(crate) fn at(date: i64) -> NewCommit {
        NewCommit {
            date,
            pushed: date,
            merge: None,
        }
    }
}

/// Top-level `author`/`committer` of a commit: an account, `{}` or `null` when the email is not
/// linked to any account.
enum TopUser {
    User(Hole),
    Empty,
    Null,
}

impl Serialize for TopUser {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TopUser::User(h) => h.serialize(s),
            TopUser::Empty => s
                .serialize_map(Some(0))
                .and_then(serde::ser::SerializeMap::end),
            TopUser::Null => s.serialize_none(),
        }
    }
}

#[derive(Serialize)]
struct GitUser<'a> {
    name: &'a str,
    email: &'a str,
    date: String,
}

#[derive(Serialize)]
struct Tree {
    sha: String,
    url: String,
}

#[derive(Serialize)]
struct Verification {
    verified: bool,
    reason: &'static str,
    signature: Option<String>,
    payload: Option<String>,
    verified_at: Option<String>,
}

#[derive(Serialize)]
struct GitCommit<'a> {
    author: GitUser<'a>,
    committer: GitUser<'a>,
    message: &'a str,
    tree: Tree,
    url: String,
    comment_count: u32,
    verification: Verification,
}

#[derive(Serialize)]
struct Parent {
    sha: String,
    url: String,
    html_url: String,
}

#[derive(Serialize)]
struct CommitItem<'a> {
    sha: &'a str,
    node_id: String,
    commit: GitCommit<'a>,
    url: String,
    html_url: String,
    comments_url: String,
    author: TopUser,
    committer: TopUser,
    parents: Vec<Parent>,
}

/// Appends a commit on top of the branch.
pub(crate) fn push_commit(
    repo: &mut Repo,
    rng: &mut Rng,
    base: &str,
    pools: Pools,
    users: &[User],
    new: NewCommit,
) {
    let date = new.date;
    let sha = rng.sha();
    let full = &repo.full_name;
    let linked = rng.chance(85);
    let (author, name, email) = if linked {
        let u = pools.dev(rng);
        let user = &users[u as usize];
        (Some(u), user.name.clone(), user.email.clone())
    } else {
        let k = rng.below(12);
        (
            None,
            format!("{} (laptop)", rng.pick(NAMES)),
            format!("dev{k}@corp.example.com"),
        )
    };
    let via_web = rng.chance(15) || new.merge.is_some();
    let thing = rng.pick(THINGS);
    let message = match new.merge.map(|_| rng.below(900) + 1) {
        Some(number) => format!(
            "Merge pull request #{number} from {}/feature/{}\n\nImprove {thing}",
            repo.owner,
            rng.below(99)
        ),
        None => plain_message(rng, thing, &name, &email),
    };
    let author_date = date - rng.below(3 * 86_400) as i64;
    let top_author = match author {
        Some(u) => TopUser::User(Hole::User(u)),
        None if rng.chance(50) => TopUser::Null,
        None => TopUser::Empty,
    };
    let (committer_name, committer_email, top_committer) = if via_web {
        (
            "GitHub".to_owned(),
            "noreply@github.com".to_owned(),
            TopUser::User(Hole::User(WEB_FLOW)),
        )
    } else {
        let top = match author {
            Some(u) => TopUser::User(Hole::User(u)),
            None => TopUser::Null,
        };
        (name.clone(), email.clone(), top)
    };
    let api = format!("{base}/repos/{full}");
    let mainline = new.merge.flatten().and_then(|i| repo.commits.get(i));
    let parents = mainline
        .into_iter()
        .chain(repo.commits.last())
        .map(|p| Parent {
            url: format!("{api}/commits/{}", p.sha),
            html_url: format!("{HTML}/{full}/commit/{}", p.sha),
            sha: p.sha.clone(),
        })
        .collect();
    let parent_count = mainline.iter().count() + usize::from(repo.commits.last().is_some());
    let tree_sha = rng.sha();
    let item = CommitItem {
        sha: &sha,
        node_id: format!("C_kwDO{:X}{}", repo.id, &sha[..12]),
        commit: GitCommit {
            author: GitUser {
                name: &name,
                email: &email,
                date: fmt_ts(author_date),
            },
            committer: GitUser {
                name: &committer_name,
                email: &committer_email,
                date: fmt_ts(date),
            },
            message: &message,
            tree: Tree {
                url: format!("{api}/git/trees/{tree_sha}"),
                sha: tree_sha,
            },
            url: format!("{api}/git/commits/{sha}"),
            comment_count: 0,
            verification: if via_web {
                Verification {
                    verified: true,
                    reason: "valid",
                    signature: Some("-----BEGIN PGP SIGNATURE-----\n\nwsBcBAABCAAQ\n-----END PGP SIGNATURE-----\n".into()),
                    payload: Some(format!("tree {}\n", &sha)),
                    verified_at: Some(fmt_ts(date)),
                }
            } else {
                Verification {
                    verified: false,
                    reason: "unsigned",
                    signature: None,
                    payload: None,
                    verified_at: None,
                }
            },
        },
        url: format!("{api}/commits/{sha}"),
        html_url: format!("{HTML}/{full}/commit/{sha}"),
        comments_url: format!("{api}/commits/{sha}/comments"),
        author: top_author,
        committer: top_committer,
        parents,
    };
    let frag = Frag::new(&item);
    repo.commits.push(Commit {
        sha,
        date,
        pushed: new.pushed,
        author,
        author_email: email,
        parents: parent_count,
        frag,
    });
}

/// The message of a commit that is not a merge.
fn plain_message(rng: &mut Rng, thing: &str, name: &str, email: &str) -> String {
    match rng.below(6) {
        0 => format!("Fix {thing} when the input is empty"),
        1 => format!(
            "Add “smart quotes” and 'single' handling to {thing}\n\nCloses #{}",
            rng.below(500) + 1
        ),
        2 => format!("Übersetzung aktualisiert: {thing} 🚀\n\nSigned-off-by: {name} <{email}>"),
        3 => format!(
            "Revert \"Refactor {thing}\"\n\nThis reverts commit {}.",
            rng.sha()
        ),
        4 => format!(
            "Merge pull request #{} from feature/{}\n\nImprove {thing}",
            rng.below(900) + 1,
            rng.below(99)
        ),
        _ => format!(
            "Refactor {thing} (步骤 {})\r\n\r\n* tidy\r\n* test",
            rng.below(9) + 1
        ),
    }
}
