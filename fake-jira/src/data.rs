//! The site's data: users, projects, issues with their comments and worklogs; generated from a
//! seed, changed by mutations, and rendered as Jira renders it (v3: rich text as Atlassian
//! Document Format; v2: as plain strings). No HTTP here.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Statuses: (id, name, category id, category key, category name).
const STATUSES: [(&str, &str, u64, &str, &str); 3] = [
    ("10000", "To Do", 2, "new", "To Do"),
    ("3", "In Progress", 4, "indeterminate", "In Progress"),
    ("10001", "Done", 3, "done", "Done"),
];
const TYPES: [(&str, &str); 3] = [("10002", "Task"), ("10003", "Bug"), ("10004", "Story")];
const PRIORITIES: [(&str, &str); 3] = [("2", "High"), ("3", "Medium"), ("4", "Low")];
const TEAMS: [(&str, &str); 3] = [
    ("10100", "Platform"),
    ("10101", "Payments"),
    ("10102", "Mobile"),
];
const WORDS: [&str; 12] = [
    "login",
    "crash",
    "export",
    "report",
    "timeout",
    "billing",
    "search",
    "upload",
    "cache",
    "migration",
    "invoice",
    "sync",
];

/// How many comments and worklogs an issue embeds in its `comment` and `worklog` fields (Jira
/// caps the worklogs it embeds at 20; the same cap is assumed for comments).
pub const EMBEDDED: usize = 20;

/// How many of each thing a generated site holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    /// Projects (keys `ALPHA`, `BETA`, …).
    pub projects: usize,
    /// Issues, spread over the projects.
    pub issues: usize,
    /// Users.
    pub users: usize,
}

impl Default for Size {
    fn default() -> Size {
        Size {
            projects: 3,
            issues: 120,
            users: 7,
        }
    }
}

/// A user.
#[derive(Debug, Clone)]
pub struct User {
    /// `accountId`.
    pub account_id: String,
    /// `displayName`.
    pub name: String,
    /// `emailAddress`.
    pub email: String,
    /// `active`.
    pub active: bool,
}

/// A project.
#[derive(Debug, Clone)]
pub struct Project {
    /// Numeric id.
    pub id: u64,
    /// Key, e.g. `ALPHA`.
    pub key: String,
    /// Name.
    pub name: String,
}

/// A comment on an issue.
#[derive(Debug, Clone)]
pub struct Comment {
    /// Id.
    pub id: u64,
    /// Index of the author in the users.
    pub author: usize,
    /// Text.
    pub body: String,
    /// Created.
    pub created: Timestamp,
    /// Updated.
    pub updated: Timestamp,
}

/// Time logged on an issue.
#[derive(Debug, Clone)]
pub struct Worklog {
    /// Id.
    pub id: u64,
    /// Index of the author in the users.
    pub author: usize,
    /// Text.
    pub comment: String,
    /// When the work started.
    pub started: Timestamp,
    /// Seconds spent.
    pub seconds: u64,
    /// Created.
    pub created: Timestamp,
    /// Updated.
    pub updated: Timestamp,
}

/// An issue.
#[derive(Debug, Clone)]
pub struct Issue {
    /// Numeric id.
    pub id: u64,
    /// Key, e.g. `ALPHA-12`.
    pub key: String,
    /// Index of its project.
    pub project: usize,
    /// Summary.
    pub summary: String,
    /// Index into the statuses.
    pub status: usize,
    /// Index into the issue types.
    pub kind: usize,
    /// Index into the priorities.
    pub priority: usize,
    /// Index of the assignee.
    pub assignee: Option<usize>,
    /// Index of the reporter.
    pub reporter: usize,
    /// Labels.
    pub labels: Vec<String>,
    /// Description text.
    pub description: String,
    /// Created.
    pub created: Timestamp,
    /// Updated.
    pub updated: Timestamp,
    /// `customfield_10001`, story points.
    pub points: Option<f64>,
    /// `customfield_10002`, a select option (index into the teams).
    pub team: Option<usize>,
    /// `customfield_10003`, a date-time.
    pub due: Option<Timestamp>,
    /// Comments, oldest first.
    pub comments: Vec<Comment>,
    /// Worklogs, oldest first.
    pub worklogs: Vec<Worklog>,
}

/// A change to the site, as `POST /_fake/mutate` takes it (JSON, `kind` tagged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mutation {
    /// A new issue in project `project` (a key).
    CreateIssue {
        /// Project key.
        project: String,
    },
    /// Edits an issue's summary and story points.
    UpdateIssue {
        /// Issue key.
        key: String,
    },
    /// A new comment on an issue (its `updated` moves too).
    AddComment {
        /// Issue key.
        key: String,
    },
    /// Edits an issue's first comment (its `updated` moves too).
    EditComment {
        /// Issue key.
        key: String,
    },
    /// New time logged on an issue (its `updated` moves too).
    AddWorklog {
        /// Issue key.
        key: String,
    },
}

impl Mutation {
    /// The issue key it touches, if it names one.
    pub fn key(&self) -> Option<&str> {
        match self {
            Mutation::CreateIssue { .. } => None,
            Mutation::UpdateIssue { key }
            | Mutation::AddComment { key }
            | Mutation::EditComment { key }
            | Mutation::AddWorklog { key } => Some(key),
        }
    }
}

/// Everything the site holds, as the API renders it with every field: what a complete
/// extraction must equal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Projects as `/project/search` gives them.
    pub projects: Vec<Value>,
    /// Users as `/users/search` gives them.
    pub users: Vec<Value>,
    /// Fields as `/field` gives them.
    pub fields: Vec<Value>,
    /// Issues as `/search/jql?fields=*all` gives them (without the embedded `comment` and
    /// `worklog` fields).
    pub issues: Vec<Value>,
    /// Comments as `/issue/{key}/comment` gives them, each with `issueKey`.
    pub comments: Vec<Value>,
    /// Worklogs as `/issue/{key}/worklog` gives them.
    pub worklogs: Vec<Value>,
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The site: its data and the clock mutations are dated by.
#[derive(Debug, Clone)]
pub struct Site {
    /// Users.
    pub users: Vec<User>,
    /// Projects.
    pub projects: Vec<Project>,
    /// Issues, by creation.
    pub issues: Vec<Issue>,
    /// The site's clock: each change is dated one second after the one before.
    pub clock: Timestamp,
    rng: Rng,
    next_id: u64,
}

fn secs(n: u64) -> SignedDuration {
    SignedDuration::from_secs(n as i64)
}

const NAMES: [&str; 10] = [
    "ALPHA", "BETA", "GAMMA", "DELTA", "EPSILON", "ZETA", "ETA", "THETA", "IOTA", "KAPPA",
];

impl Site {
    /// Generates a site from `seed`: issues created from 2025-03-01 on, a few hours apart,
    /// updated up to three days later; the clock starts at the last update.
    pub fn generate(seed: u64, size: Size) -> Site {
        let mut rng = Rng::new(seed);
        let users: Vec<User> = (0..size.users.max(1))
            .map(|i| User {
                account_id: format!("5b10ac8d82e05b22cc7d{:04x}", 0x4d00 + i),
                name: format!("User {}", i + 1),
                email: format!("user{}@example.com", i + 1),
                active: i % 5 != 4,
            })
            .collect();
        let projects: Vec<Project> = (0..size.projects.clamp(1, NAMES.len()))
            .map(|i| Project {
                id: 10000 + i as u64,
                key: NAMES[i].to_owned(),
                name: format!("{}{}", &NAMES[i][..1], NAMES[i][1..].to_ascii_lowercase()),
            })
            .collect();
        let base: Timestamp = "2025-03-01T08:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let mut site = Site {
            users,
            projects,
            issues: Vec::new(),
            clock: base,
            rng: Rng::new(0),
            next_id: 10000,
        };
        let mut created = base;
        for i in 0..size.issues {
            created = created
                .saturating_add(secs(3600 + rng.next() % 7200))
                .unwrap_or(created);
            let project = i % site.projects.len();
            site.rng = Rng::new(rng.next());
            let issue = site.new_issue(project, created);
            site.issues.push(issue);
        }
        // Updates a while after creation, with comments and worklogs in between.
        for n in 0..site.issues.len() {
            let mut r = Rng::new(rng.next());
            let created = site.issues[n].created;
            let mut at = created;
            for _ in 0..r.below(4) {
                at = at
                    .saturating_add(secs(60 + r.next() % 20_000))
                    .unwrap_or(at);
                site.rng = Rng::new(r.next());
                let c = site.new_comment(at);
                site.issues[n].comments.push(c);
            }
            for _ in 0..r.below(3) {
                at = at
                    .saturating_add(secs(60 + r.next() % 20_000))
                    .unwrap_or(at);
                site.rng = Rng::new(r.next());
                let w = site.new_worklog(at);
                site.issues[n].worklogs.push(w);
            }
            at = at.saturating_add(secs(r.next() % 3600)).unwrap_or(at);
            site.issues[n].updated = at;
        }
        site.clock = site.issues.iter().map(|i| i.updated).max().unwrap_or(base);
        site.rng = Rng::new(rng.next());
        site
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| WORDS[self.rng.below(WORDS.len())])
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn new_issue(&mut self, project: usize, at: Timestamp) -> Issue {
        let number = self.issues.iter().filter(|i| i.project == project).count() + 1;
        let users = self.users.len();
        let summary = self.words(3);
        let description = self.words(8);
        let label = self.words(1);
        let r = &mut self.rng;
        let points = (r.below(3) != 0).then(|| [1.0, 2.0, 3.0, 5.0, 8.0, 0.5][r.below(6)]);
        let team = (r.below(4) != 0).then(|| r.below(TEAMS.len()));
        let due = (r.below(2) == 0).then(|| at.saturating_add(secs(86_400 * 7)).unwrap_or(at));
        let (status, kind, priority) = (r.below(3), r.below(3), r.below(3));
        let assignee = (r.below(5) != 0).then(|| r.below(users));
        let reporter = r.below(users);
        let labels = if r.below(2) == 0 { vec![label] } else { vec![] };
        Issue {
            id: self.id(),
            key: format!("{}-{number}", self.projects[project].key),
            project,
            summary,
            status,
            kind,
            priority,
            assignee,
            reporter,
            labels,
            description,
            created: at,
            updated: at,
            points,
            team,
            due,
            comments: Vec::new(),
            worklogs: Vec::new(),
        }
    }

    fn new_comment(&mut self, at: Timestamp) -> Comment {
        let body = self.words(6);
        Comment {
            id: self.id(),
            author: self.rng.below(self.users.len()),
            body,
            created: at,
            updated: at,
        }
    }

    fn new_worklog(&mut self, at: Timestamp) -> Worklog {
        let comment = self.words(4);
        let seconds = 900 * (1 + self.rng.below(16) as u64);
        Worklog {
            id: self.id(),
            author: self.rng.below(self.users.len()),
            comment,
            started: at.saturating_sub(secs(seconds)).unwrap_or(at),
            seconds,
            created: at,
            updated: at,
        }
    }

    /// Advances the clock by a second and returns it.
    pub fn tick(&mut self) -> Timestamp {
        self.clock = self.clock.saturating_add(secs(1)).unwrap_or(self.clock);
        self.clock
    }

    /// The index of the issue `key`.
    pub fn find(&self, key: &str) -> Option<usize> {
        self.issues
            .iter()
            .position(|i| i.key.eq_ignore_ascii_case(key))
    }

    /// Applies `m`; the index of the issue it changed, or why it cannot.
    pub fn apply(&mut self, m: &Mutation) -> Result<usize, String> {
        let at = self.tick();
        if let Mutation::CreateIssue { project } = m {
            let p = self
                .projects
                .iter()
                .position(|p| p.key.eq_ignore_ascii_case(project))
                .ok_or_else(|| format!("no project {project}"))?;
            let issue = self.new_issue(p, at);
            self.issues.push(issue);
            return Ok(self.issues.len() - 1);
        }
        let key = m.key().unwrap_or_default();
        let n = self.find(key).ok_or_else(|| format!("no issue {key}"))?;
        match m {
            Mutation::CreateIssue { .. } => {}
            Mutation::UpdateIssue { .. } => {
                let summary = self.words(4);
                let issue = &mut self.issues[n];
                issue.summary = summary;
                issue.points = Some(issue.points.unwrap_or(0.0) + 1.0);
                issue.status = (issue.status + 1) % STATUSES.len();
            }
            Mutation::AddComment { .. } => {
                let c = self.new_comment(at);
                self.issues[n].comments.push(c);
            }
            Mutation::EditComment { .. } => {
                let body = self.words(5);
                let c = self.issues[n]
                    .comments
                    .first_mut()
                    .ok_or_else(|| format!("{key} has no comment"))?;
                c.body = body;
                c.updated = at;
            }
            Mutation::AddWorklog { .. } => {
                let w = self.new_worklog(at);
                self.issues[n].worklogs.push(w);
            }
        }
        self.issues[n].updated = at;
        Ok(n)
    }
}

/// Renders the site's data as one API version shows it to one user.
#[derive(Debug, Clone)]
pub struct Render<'a> {
    /// `https://HOST` of item `self` links.
    pub base: &'a str,
    /// The user's zone: dates are written in it.
    pub zone: &'a TimeZone,
    /// `2` or `3`.
    pub version: u8,
}

/// Which fields a search returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSel {
    all: bool,
    names: Vec<String>,
    minus: Vec<String>,
}

impl FieldSel {
    /// Reads a `fields` parameter (`*all`, `*navigable`, names, `-name`); none: only `id`.
    pub fn parse(param: Option<&str>) -> FieldSel {
        let mut sel = FieldSel {
            all: false,
            names: Vec::new(),
            minus: Vec::new(),
        };
        for f in param.unwrap_or("id").split(',').map(str::trim) {
            match f {
                "*all" | "*navigable" => sel.all = true,
                "" => {}
                f if f.starts_with('-') => sel.minus.push(f[1..].to_owned()),
                f => sel.names.push(f.to_owned()),
            }
        }
        sel
    }

    fn wants(&self, name: &str) -> bool {
        (self.all || self.names.iter().any(|n| n == name)) && !self.minus.iter().any(|n| n == name)
    }
}

impl Render<'_> {
    /// An instant as Jira writes it: `2025-03-01T00:00:00.000-0800`, in the user's zone.
    pub fn ts(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%.3f%z")
            .to_string()
    }

    fn text(&self, s: &str) -> Value {
        if self.version == 2 {
            json!(s)
        } else {
            json!({"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": s}]}
            ]})
        }
    }

    fn api(&self) -> String {
        format!("{}/rest/api/{}", self.base, self.version)
    }

    /// A user as lists and issues embed it.
    pub fn user(&self, u: &User) -> Value {
        json!({
            "self": format!("{}/user?accountId={}", self.api(), u.account_id),
            "accountId": u.account_id,
            "accountType": "atlassian",
            "emailAddress": u.email,
            "avatarUrls": {"48x48": format!("https://avatar.example/{}.png", u.account_id)},
            "displayName": u.name,
            "active": u.active,
            "timeZone": "Europe/London",
            "locale": "en_US",
        })
    }

    /// A project as `/project/search` lists it.
    pub fn project(&self, p: &Project) -> Value {
        json!({
            "self": format!("{}/project/{}", self.api(), p.id),
            "id": p.id.to_string(),
            "key": p.key,
            "name": p.name,
            "avatarUrls": {"48x48": format!("https://avatar.example/p{}.png", p.id)},
            "projectTypeKey": "software",
            "simplified": false,
            "style": "classic",
            "isPrivate": false,
        })
    }

    /// A comment of `issue`.
    pub fn comment(&self, site: &Site, issue: &Issue, c: &Comment) -> Value {
        let author = self.user(&site.users[c.author]);
        json!({
            "self": format!("{}/issue/{}/comment/{}", self.api(), issue.id, c.id),
            "id": c.id.to_string(),
            "author": author,
            "body": self.text(&c.body),
            "updateAuthor": author,
            "created": self.ts(c.created),
            "updated": self.ts(c.updated),
            "jsdPublic": true,
        })
    }

    /// A worklog of `issue`.
    pub fn worklog(&self, site: &Site, issue: &Issue, w: &Worklog) -> Value {
        let author = self.user(&site.users[w.author]);
        let (h, m) = (w.seconds / 3600, w.seconds % 3600 / 60);
        let spent = match (h, m) {
            (0, m) => format!("{m}m"),
            (h, 0) => format!("{h}h"),
            (h, m) => format!("{h}h {m}m"),
        };
        json!({
            "self": format!("{}/issue/{}/worklog/{}", self.api(), issue.id, w.id),
            "author": author,
            "updateAuthor": author,
            "comment": self.text(&w.comment),
            "created": self.ts(w.created),
            "updated": self.ts(w.updated),
            "started": self.ts(w.started),
            "timeSpent": spent,
            "timeSpentSeconds": w.seconds,
            "id": w.id.to_string(),
            "issueId": issue.id.to_string(),
        })
    }

    /// An issue with the fields `sel` asks for.
    pub fn issue(&self, site: &Site, i: &Issue, sel: &FieldSel) -> Value {
        let p = &site.projects[i.project];
        let (sid, sname, cid, ckey, cname) = STATUSES[i.status];
        let mut fields = serde_json::Map::new();
        let mut put = |name: &str, v: &dyn Fn() -> Value| {
            if sel.wants(name) {
                fields.insert(name.to_owned(), v());
            }
        };
        put("summary", &|| json!(i.summary));
        put("status", &|| {
            json!({"self": format!("{}/status/{sid}", self.api()), "id": sid, "name": sname,
                "statusCategory": {"id": cid, "key": ckey, "name": cname}})
        });
        put(
            "issuetype",
            &|| json!({"id": TYPES[i.kind].0, "name": TYPES[i.kind].1, "subtask": false}),
        );
        put(
            "priority",
            &|| json!({"id": PRIORITIES[i.priority].0, "name": PRIORITIES[i.priority].1}),
        );
        put("project", &|| {
            json!({"self": format!("{}/project/{}", self.api(), p.id), "id": p.id.to_string(),
                "key": p.key, "name": p.name, "projectTypeKey": "software"})
        });
        put("assignee", &|| {
            i.assignee
                .map_or(Value::Null, |a| self.user(&site.users[a]))
        });
        put("reporter", &|| self.user(&site.users[i.reporter]));
        put("labels", &|| json!(i.labels));
        put("description", &|| self.text(&i.description));
        put("created", &|| json!(self.ts(i.created)));
        put("updated", &|| json!(self.ts(i.updated)));
        put("customfield_10001", &|| json!(i.points));
        put("customfield_10002", &|| {
            i.team.map_or(Value::Null, |t| {
                json!({"self": format!("{}/customFieldOption/{}", self.api(), TEAMS[t].0),
                    "value": TEAMS[t].1, "id": TEAMS[t].0})
            })
        });
        put("customfield_10003", &|| {
            i.due.map_or(Value::Null, |d| json!(self.ts(d)))
        });
        // The first EMBEDDED of each; the rest through /comment and /worklog.
        put("comment", &|| {
            let items: Vec<Value> = i
                .comments
                .iter()
                .take(EMBEDDED)
                .map(|c| self.comment(site, i, c))
                .collect();
            json!({"comments": items, "self": format!("{}/issue/{}/comment", self.api(), i.id),
                "maxResults": EMBEDDED, "total": i.comments.len(), "startAt": 0})
        });
        put("worklog", &|| {
            let items: Vec<Value> = i
                .worklogs
                .iter()
                .take(EMBEDDED)
                .map(|w| self.worklog(site, i, w))
                .collect();
            json!({"startAt": 0, "maxResults": EMBEDDED, "total": i.worklogs.len(), "worklogs": items})
        });
        json!({
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": i.id.to_string(),
            "self": format!("{}/issue/{}", self.api(), i.id),
            "key": i.key,
            "fields": fields,
        })
    }

    /// The truth: everything, rendered.
    pub fn truth(&self, site: &Site) -> Truth {
        let every = FieldSel::parse(Some("*all,-comment,-worklog"));
        let mut t = Truth {
            projects: site.projects.iter().map(|p| self.project(p)).collect(),
            users: site.users.iter().map(|u| self.user(u)).collect(),
            fields: fields(),
            ..Truth::default()
        };
        for i in &site.issues {
            t.issues.push(self.issue(site, i, &every));
            for c in &i.comments {
                let mut v = self.comment(site, i, c);
                v["issueKey"] = json!(i.key);
                t.comments.push(v);
            }
            for w in &i.worklogs {
                t.worklogs.push(self.worklog(site, i, w));
            }
        }
        t
    }
}

/// `/rest/api/3/field`: the system fields the fake fills and three custom fields.
pub fn fields() -> Vec<Value> {
    let system = |id: &str, name: &str, kind: &str| {
        json!({"id": id, "key": id, "name": name, "custom": false, "orderable": true,
            "navigable": true, "searchable": true, "clauseNames": [id],
            "schema": {"type": kind, "system": id}})
    };
    let custom = |n: u32, name: &str, kind: &str, plugin: &str| {
        json!({"id": format!("customfield_{n}"), "key": format!("customfield_{n}"), "name": name,
            "untranslatedName": name, "custom": true, "orderable": true, "navigable": true,
            "searchable": true, "clauseNames": [format!("cf[{n}]"), name],
            "schema": {"type": kind, "custom": format!("com.atlassian.jira.plugin.system.customfieldtypes:{plugin}"), "customId": n}})
    };
    vec![
        system("summary", "Summary", "string"),
        system("status", "Status", "status"),
        system("issuetype", "Issue Type", "issuetype"),
        system("priority", "Priority", "priority"),
        system("project", "Project", "project"),
        system("assignee", "Assignee", "user"),
        system("reporter", "Reporter", "user"),
        system("labels", "Labels", "array"),
        system("description", "Description", "string"),
        system("created", "Created", "datetime"),
        system("updated", "Updated", "datetime"),
        system("comment", "Comment", "comments-page"),
        system("worklog", "Log Work", "array"),
        custom(10001, "Story Points", "number", "float"),
        custom(10002, "Team", "option", "select"),
        custom(10003, "Due Time", "datetime", "datetime"),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generation_is_deterministic_and_dates_are_in_the_users_zone() {
        let a = Site::generate(7, Size::default());
        let b = Site::generate(7, Size::default());
        let la = TimeZone::get("America/Los_Angeles").unwrap();
        let r = Render {
            base: "http://x",
            zone: &la,
            version: 3,
        };
        assert_eq!(r.truth(&a), r.truth(&b));
        assert_eq!(a.issues.len(), 120);
        let t = r.truth(&a);
        let created = t.issues[0]["fields"]["created"].as_str().unwrap();
        assert!(created.ends_with("-0800"), "{created}");
        assert!(t.comments.len() > 50 && t.worklogs.len() > 30);
        assert_eq!(
            r.ts("2025-03-01T08:00:00.5Z".parse().unwrap()),
            "2025-03-01T00:00:00.500-0800"
        );
    }
}
