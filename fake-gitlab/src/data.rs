//! The synthetic GitLab: groups, projects and everything in them, generated from a seed, changed
//! by mutations, and read back as the ground truth. No HTTP here: items are kept as the JSON
//! bodies the API serves.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// 2025-01-01T00:00:00Z: generated history starts here.
const EPOCH: i64 = 1_735_689_600;

/// How much a project holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSize {
    /// Commits on the default branch.
    pub commits: usize,
    /// Issues.
    pub issues: usize,
    /// Merge requests.
    pub merge_requests: usize,
}

impl ProjectSize {
    /// A size from its three counts.
    pub fn new(commits: usize, issues: usize, merge_requests: usize) -> ProjectSize {
        ProjectSize {
            commits,
            issues,
            merge_requests,
        }
    }
}

/// A change to the data, applied at the fake clock's next minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mutation {
    /// A new issue.
    NewIssue,
    /// An issue's title changes (its `updated_at` moves).
    UpdateIssue {
        /// The issue's iid.
        iid: u64,
    },
    /// A new merge request.
    NewMergeRequest,
    /// A merge request is merged or edited.
    UpdateMergeRequest {
        /// The merge request's iid.
        iid: u64,
    },
    /// A note on an issue (it touches the issue, as GitLab does).
    NoteOnIssue {
        /// The issue's iid.
        iid: u64,
    },
    /// A note on a merge request (it touches the merge request).
    NoteOnMergeRequest {
        /// The merge request's iid.
        iid: u64,
    },
    /// New commits pushed to the default branch.
    Push {
        /// How many.
        commits: usize,
    },
    /// A new release on the newest commit.
    NewRelease,
}

/// Everything one project holds, as the API serves it: the ground truth of a test.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// The project itself.
    pub project: Value,
    /// Commits, newest first.
    pub commits: Vec<Value>,
    /// Issues by iid.
    pub issues: Vec<Value>,
    /// Merge requests by iid.
    pub merge_requests: Vec<Value>,
    /// Notes on issues.
    pub issue_notes: Vec<Value>,
    /// Notes on merge requests.
    pub merge_request_notes: Vec<Value>,
    /// Releases, newest first.
    pub releases: Vec<Value>,
}

/// A group (namespace).
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: u64,
    pub full_path: String,
    pub parent: Option<String>,
}

/// A project and its contents.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    pub id: u64,
    pub path: String,
    pub namespace: String,
    pub body: Value,
    /// Newest first.
    pub commits: Vec<Value>,
    pub issues: Vec<Value>,
    pub merge_requests: Vec<Value>,
    pub issue_notes: BTreeMap<u64, Vec<Value>>,
    pub mr_notes: BTreeMap<u64, Vec<Value>>,
    pub releases: Vec<Value>,
}

/// The whole instance.
#[derive(Debug, Clone)]
pub(crate) struct Data {
    pub groups: Vec<Group>,
    pub projects: Vec<Project>,
    pub users: Vec<Value>,
    /// The fake clock, seconds since the Unix epoch: after every generated item.
    pub now: i64,
    ids: u64,
    rng: Rng,
    web: String,
}

/// splitmix64: small, fast, deterministic.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn sha(&mut self) -> String {
        format!(
            "{:016x}{:016x}{:08x}",
            self.next(),
            self.next(),
            self.next() as u32
        )
    }
}

/// `2025-01-01T00:00:00.000Z`, GitLab's way of writing instants.
pub(crate) fn iso(secs: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z");
    t.format(&f).unwrap_or_default()
}

/// Parses an ISO 8601 instant as GitLab accepts it in `since`, `updated_after`, ….
pub(crate) fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .or_else(|| {
            // A date alone means its midnight UTC.
            let f = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(s, &f)
                .ok()
                .map(|d| d.midnight().assume_utc())
        })
        .map(|t| t.unix_timestamp())
}

/// The instant of an item's field.
pub(crate) fn instant(v: &Value, field: &str) -> i64 {
    v.get(field)
        .and_then(Value::as_str)
        .and_then(parse_instant)
        .unwrap_or(0)
}

const WORDS: [&str; 12] = [
    "cache", "parser", "login", "export", "search", "theme", "upload", "api", "docs", "queue",
    "metrics", "sync",
];

impl Data {
    /// Generates every project of `specs` (paths `group[/sub…]/name`), each group on the way.
    pub fn generate(seed: u64, specs: &[(String, ProjectSize)], web: &str) -> Data {
        let mut d = Data {
            groups: vec![],
            projects: vec![],
            users: vec![],
            now: EPOCH,
            ids: 1000,
            rng: Rng(seed ^ 0x6769_746c_6162),
            web: web.trim_end_matches('/').to_owned(),
        };
        for i in 0..8u64 {
            let name = ["ada", "bo", "cy", "dee", "eli", "fay", "gus", "hal"][i as usize];
            d.users.push(json!({
                "id": 100 + i, "username": name, "name": format!("{} Lovelace", name),
                "state": "active", "locked": false,
                "avatar_url": format!("{}/uploads/{name}.png", d.web),
                "web_url": format!("{}/{name}", d.web),
            }));
        }
        for (path, size) in specs {
            d.add_project(path, *size);
        }
        d.now = EPOCH + 200 * 86_400;
        d
    }

    fn id(&mut self) -> u64 {
        self.ids += 1;
        self.ids
    }

    fn user(&mut self) -> Value {
        let n = self.rng.below(self.users.len() as u64) as usize;
        self.users[n].clone()
    }

    fn ensure_group(&mut self, full_path: &str) {
        if self.groups.iter().any(|g| g.full_path == full_path) {
            return;
        }
        let parent = full_path.rsplit_once('/').map(|(p, _)| p.to_owned());
        if let Some(p) = &parent {
            self.ensure_group(p);
        }
        let id = self.id();
        self.groups.push(Group {
            id,
            full_path: full_path.to_owned(),
            parent,
        });
    }

    fn add_project(&mut self, path: &str, size: ProjectSize) {
        let (namespace, name) = path.rsplit_once('/').unwrap_or(("users", path));
        self.ensure_group(namespace);
        let id = self.id();
        let created = EPOCH + self.rng.below(86_400) as i64;
        let web_url = format!("{}/{path}", self.web);
        let ns = self.group(namespace).map(|g| g.id).unwrap_or_default();
        let body = json!({
            "id": id, "description": format!("The {name} project"), "name": name,
            "name_with_namespace": path.replace('/', " / "), "path": name,
            "path_with_namespace": path, "created_at": iso(created),
            "default_branch": "main", "tag_list": [], "topics": [],
            "ssh_url_to_repo": format!("git@fake-gitlab:{path}.git"),
            "http_url_to_repo": format!("{web_url}.git"), "web_url": web_url,
            "visibility": "private", "archived": false, "star_count": (id % 17),
            "forks_count": (id % 5), "open_issues_count": 0,
            "last_activity_at": iso(created), "updated_at": iso(created),
            "namespace": {
                "id": ns, "name": namespace.rsplit('/').next().unwrap_or(namespace),
                "path": namespace.rsplit('/').next().unwrap_or(namespace),
                "kind": "group", "full_path": namespace,
            },
        });
        self.projects.push(Project {
            id,
            path: path.to_owned(),
            namespace: namespace.to_owned(),
            body,
            commits: vec![],
            issues: vec![],
            merge_requests: vec![],
            issue_notes: BTreeMap::new(),
            mr_notes: BTreeMap::new(),
            releases: vec![],
        });
        let p = self.projects.len() - 1;
        let span = 150 * 86_400i64;
        let step = |n: usize| span / (n.max(1) as i64);
        let mut t = created;
        for _ in 0..size.commits {
            t += 1 + self.rng.below(step(size.commits) as u64) as i64;
            self.push_commit(p, t);
        }
        let mut t = created;
        for _ in 0..size.issues {
            t += 1 + self.rng.below(step(size.issues) as u64) as i64;
            self.new_item(p, t, false, true);
        }
        let mut t = created;
        for _ in 0..size.merge_requests {
            t += 1 + self.rng.below(step(size.merge_requests) as u64) as i64;
            self.new_item(p, t, true, true);
        }
        let tags = size.commits / 40;
        for k in 0..tags {
            let at = (k * 40).min(size.commits.saturating_sub(1));
            let when = created + (k as i64 + 1) * span / (tags as i64 + 1);
            self.release(p, at, when);
        }
        self.touch_project(p, created + span);
    }

    fn touch_project(&mut self, p: usize, at: i64) {
        let open = self.projects[p]
            .issues
            .iter()
            .filter(|i| i["state"] == "opened")
            .count();
        let b = &mut self.projects[p].body;
        b["open_issues_count"] = json!(open);
        b["last_activity_at"] = json!(iso(at));
        b["updated_at"] = json!(iso(at));
    }

    fn push_commit(&mut self, p: usize, at: i64) {
        let sha = self.rng.sha();
        let parent = self.projects[p].commits.first().map(|c| c["id"].clone());
        let author = self.user();
        let word = WORDS[self.rng.below(WORDS.len() as u64) as usize];
        let title = format!("Improve {word} handling");
        let name = author["name"].clone();
        let email = format!("{}@example.com", author["username"].as_str().unwrap_or("x"));
        let commit = json!({
            "id": sha, "short_id": &sha[..8], "title": title,
            "message": format!("{title}\n\nDetails about {word}.\n"),
            "author_name": name, "author_email": email, "authored_date": iso(at - 60),
            "committer_name": name, "committer_email": email, "committed_date": iso(at),
            "created_at": iso(at), "parent_ids": parent.into_iter().collect::<Vec<_>>(),
            "web_url": format!("{}/{}/-/commit/{sha}", self.web, self.projects[p].path),
            "trailers": {}, "extended_trailers": {},
        });
        self.projects[p].commits.insert(0, commit);
    }

    fn new_item(&mut self, p: usize, created: i64, mr: bool, may_close: bool) {
        let id = self.id();
        let list = if mr {
            &self.projects[p].merge_requests
        } else {
            &self.projects[p].issues
        };
        let iid = list.len() as u64 + 1;
        let author = self.user();
        let word = WORDS[self.rng.below(WORDS.len() as u64) as usize];
        let project_id = self.projects[p].id;
        let kind = if mr { "merge_requests" } else { "issues" };
        let web_url = format!("{}/{}/-/{kind}/{iid}", self.web, self.projects[p].path);
        let roll = self.rng.below(10);
        let ended = created + 3600 + self.rng.below(20 * 86_400) as i64;
        let closed = may_close && roll < 5;
        let mut item = json!({
            "id": id, "iid": iid, "project_id": project_id,
            "title": format!("{} {word}", if mr { "Rework" } else { "Broken" }),
            "description": format!("Steps about {word}."),
            "state": "opened", "created_at": iso(created), "updated_at": iso(created),
            "closed_at": null, "closed_by": null, "labels": [word],
            "author": author, "assignees": [], "user_notes_count": 0,
            "upvotes": 0, "downvotes": 0, "web_url": web_url,
            "references": { "short": format!("{}{iid}", if mr { "!" } else { "#" }) },
        });
        if mr {
            item["source_branch"] = json!(format!("topic-{iid}"));
            item["target_branch"] = json!("main");
            item["merged_at"] = Value::Null;
            item["draft"] = json!(roll == 9);
            item["sha"] = json!(self.rng.sha());
            item["merge_status"] = json!("can_be_merged");
        } else {
            item["confidential"] = json!(false);
            item["issue_type"] = json!("issue");
        }
        let list = if mr {
            &mut self.projects[p].merge_requests
        } else {
            &mut self.projects[p].issues
        };
        list.push(item);
        let notes = if may_close { self.rng.below(4) } else { 0 };
        for k in 0..notes {
            self.note(p, iid, mr, created + 600 * (k as i64 + 1));
        }
        if closed {
            let at = self.item_mut(p, iid, mr).map(|i| instant(i, "updated_at"));
            let at = at.unwrap_or(created).max(ended);
            if let Some(i) = self.item_mut(p, iid, mr) {
                let merged = mr && roll < 3;
                i["state"] = json!(if merged { "merged" } else { "closed" });
                i[if merged { "merged_at" } else { "closed_at" }] = json!(iso(at));
                i["updated_at"] = json!(iso(at));
            }
        }
    }

    fn item_mut(&mut self, p: usize, iid: u64, mr: bool) -> Option<&mut Value> {
        let list = if mr {
            &mut self.projects[p].merge_requests
        } else {
            &mut self.projects[p].issues
        };
        list.iter_mut().find(|i| i["iid"] == iid)
    }

    fn note(&mut self, p: usize, iid: u64, mr: bool, at: i64) -> bool {
        let id = self.id();
        let author = self.user();
        let project_id = self.projects[p].id;
        let Some(item) = self.item_mut(p, iid, mr) else {
            return false;
        };
        let noteable_id = item["id"].clone();
        let count = item["user_notes_count"].as_u64().unwrap_or(0) + 1;
        item["user_notes_count"] = json!(count);
        if instant(item, "updated_at") < at {
            item["updated_at"] = json!(iso(at));
        }
        let note = json!({
            "id": id, "type": null, "body": format!("Comment {count} by {}", author["username"]),
            "attachment": null, "author": author, "created_at": iso(at), "updated_at": iso(at),
            "system": false, "noteable_id": noteable_id,
            "noteable_type": if mr { "MergeRequest" } else { "Issue" },
            "project_id": project_id, "noteable_iid": iid, "resolvable": false,
            "confidential": false, "internal": false,
        });
        let notes = if mr {
            &mut self.projects[p].mr_notes
        } else {
            &mut self.projects[p].issue_notes
        };
        notes.entry(iid).or_default().push(note);
        true
    }

    fn release(&mut self, p: usize, commit_index: usize, at: i64) {
        let Some(commit) = self.projects[p].commits.get(commit_index).cloned() else {
            return;
        };
        let n = self.projects[p].releases.len() + 1;
        let tag = format!("v1.{n}.0");
        let author = self.user();
        let web = format!("{}/{}/-/releases/{tag}", self.web, self.projects[p].path);
        let release = json!({
            "tag_name": tag, "name": format!("Release {tag}"),
            "description": format!("Changes in {tag}."), "created_at": iso(at),
            "released_at": iso(at), "upcoming_release": false, "author": author,
            "commit": { "id": commit["id"], "short_id": commit["short_id"], "title": commit["title"] },
            "commit_path": format!("/{}/-/commit/{}", self.projects[p].path, commit["id"].as_str().unwrap_or("")),
            "tag_path": format!("/{}/-/tags/{tag}", self.projects[p].path),
            "_links": { "self": web },
        });
        self.projects[p].releases.insert(0, release);
    }

    /// The index of the project with this numeric id or full path.
    pub fn project_index(&self, id_or_path: &str) -> Option<usize> {
        self.projects
            .iter()
            .position(|p| p.path == id_or_path || p.id.to_string() == id_or_path)
    }

    /// The group with this numeric id or full path.
    pub fn group(&self, id_or_path: &str) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.full_path == id_or_path || g.id.to_string() == id_or_path)
    }

    /// The group as `/groups/:id` serves it (without its projects).
    pub fn group_body(&self, g: &Group) -> Value {
        let path = g.full_path.rsplit('/').next().unwrap_or(&g.full_path);
        let parent = g
            .parent
            .as_deref()
            .and_then(|p| self.group(p))
            .map(|p| p.id);
        json!({
            "id": g.id, "name": path, "path": path, "full_name": g.full_path.replace('/', " / "),
            "full_path": g.full_path, "parent_id": parent, "visibility": "private",
            "web_url": format!("{}/groups/{}", self.web, g.full_path),
            "description": "", "created_at": iso(EPOCH),
        })
    }

    /// Projects of a group (and of its subgroups when `deep`), by id.
    pub fn group_projects(&self, g: &Group, deep: bool) -> Vec<Value> {
        let prefix = format!("{}/", g.full_path);
        self.projects
            .iter()
            .filter(|p| p.namespace == g.full_path || (deep && p.namespace.starts_with(&prefix)))
            .map(|p| p.body.clone())
            .collect()
    }

    /// Moves `updated_at` of one issue or merge request to the next minute (churn).
    pub fn touch(&mut self, p: usize, iid: u64, mr: bool) {
        self.now += 60;
        let now = self.now;
        if let Some(i) = self.item_mut(p, iid, mr) {
            i["updated_at"] = json!(iso(now));
        }
    }

    /// Applies a mutation to the project at index `p`.
    pub fn mutate(&mut self, p: usize, m: &Mutation) -> Result<(), String> {
        self.now += 60;
        let now = self.now;
        let missing = |what: &str, iid: u64| format!("no {what} {iid}");
        match *m {
            Mutation::NewIssue => {
                self.new_item(p, now, false, false);
            }
            Mutation::NewMergeRequest => {
                self.new_item(p, now, true, false);
            }
            Mutation::UpdateIssue { iid } | Mutation::UpdateMergeRequest { iid } => {
                let mr = matches!(m, Mutation::UpdateMergeRequest { .. });
                let i = self
                    .item_mut(p, iid, mr)
                    .ok_or_else(|| missing("item", iid))?;
                let title = format!("{} (edited)", i["title"].as_str().unwrap_or(""));
                i["title"] = json!(title);
                i["updated_at"] = json!(iso(now));
                if mr && i["state"] == "opened" {
                    i["state"] = json!("merged");
                    i["merged_at"] = json!(iso(now));
                }
            }
            Mutation::NoteOnIssue { iid } => {
                if !self.note(p, iid, false, now) {
                    return Err(missing("issue", iid));
                }
            }
            Mutation::NoteOnMergeRequest { iid } => {
                if !self.note(p, iid, true, now) {
                    return Err(missing("merge request", iid));
                }
            }
            Mutation::Push { commits } => {
                for k in 0..commits {
                    self.push_commit(p, now - (commits - k) as i64);
                }
            }
            Mutation::NewRelease => self.release(p, 0, now),
        }
        self.touch_project(p, now);
        Ok(())
    }

    /// The ground truth of the project at index `p`.
    pub fn truth(&self, p: usize) -> Truth {
        let pr = &self.projects[p];
        let flat = |m: &BTreeMap<u64, Vec<Value>>| m.values().flatten().cloned().collect();
        Truth {
            project: pr.body.clone(),
            commits: pr.commits.clone(),
            issues: pr.issues.clone(),
            merge_requests: pr.merge_requests.clone(),
            issue_notes: flat(&pr.issue_notes),
            merge_request_notes: flat(&pr.mr_notes),
            releases: pr.releases.clone(),
        }
    }
}
