//! What a first run will cost, estimated by `tapline init`: each repository's commit count from
//! one `per_page=1` request (the page number of its `rel="last"` link), turned into requests and
//! hours of the API's hourly quota.

use std::time::Duration;

/// Commits per page a sync reads.
const PER_PAGE: u64 = 100;

/// The API's hourly request quota with and without a token (GitHub's numbers).
const QUOTA: [(bool, u64); 2] = [(true, 5_000), (false, 60)];

/// One repository's commits, as the API counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commits {
    /// `owner/name`.
    pub repo: String,
    /// Commits on the default branch.
    pub count: u64,
}

/// Asks `api_url` for the commit count of each of `repos`; a repository the API cannot answer
/// for comes back as its error text.
pub fn commit_counts(
    api_url: &str,
    repos: &[String],
    token: Option<&str>,
) -> Vec<Result<Commits, String>> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return repos.iter().map(|_| Err(e.to_string())).collect(),
    };
    let _context = runtime.enter();
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("tapline/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => return repos.iter().map(|_| Err(e.to_string())).collect(),
    };
    let base = api_url.trim_end_matches('/');
    repos
        .iter()
        .map(|repo| {
            let url = format!("{base}/repos/{repo}/commits?per_page=1");
            let mut request = client
                .get(&url)
                .header("Accept", "application/vnd.github+json");
            if let Some(t) = token.filter(|t| !t.is_empty()) {
                request = request.bearer_auth(t);
            }
            let response = runtime
                .block_on(request.send())
                .map_err(|e| format!("{repo}: {}", one_line(&e)))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("{repo}: the API answered {status}"));
            }
            let link = response
                .headers()
                .get("link")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("");
            let count = match last_page(link) {
                Some(n) => n,
                // One page only: zero or one commit.
                None => {
                    let body = runtime.block_on(response.text()).unwrap_or_default();
                    u64::from(body.contains("\"sha\""))
                }
            };
            Ok(Commits {
                repo: repo.clone(),
                count,
            })
        })
        .collect()
}

/// The `page` of the `rel="last"` link of a `Link` header.
pub fn last_page(link: &str) -> Option<u64> {
    link.split(',')
        .find(|part| part.contains("rel=\"last\""))
        .and_then(|part| {
            let url = part.split(['<', '>']).nth(1)?;
            let query = url.split_once('?')?.1;
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix("page="))?
                .parse()
                .ok()
        })
}

/// Requests the commits alone take, and the hours of quota they use with or without a token.
pub fn cost(commits: u64, token: bool) -> (u64, f64) {
    let requests = commits.div_ceil(PER_PAGE).max(1);
    let quota = QUOTA
        .iter()
        .find(|(with, _)| *with == token)
        .map_or(60, |(_, q)| *q);
    (requests, requests as f64 / quota as f64)
}

fn one_line(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_page_is_read_from_the_link_header() {
        let link = "<https://api.github.com/repositories/1/commits?per_page=1&page=2>; rel=\"next\", <https://api.github.com/repositories/1/commits?per_page=1&page=41234>; rel=\"last\"";
        assert_eq!(last_page(link), Some(41_234));
        assert_eq!(last_page(""), None);
    }

    #[test]
    fn cost_in_requests_and_hours() {
        assert_eq!(cost(250_000, true), (2_500, 0.5));
        assert_eq!(cost(250_000, false).0, 2_500);
        assert!(cost(250_000, false).1 > 40.0);
        assert_eq!(cost(0, true).0, 1);
    }
}
