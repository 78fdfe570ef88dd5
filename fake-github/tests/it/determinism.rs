//! Same seed and sizes, byte-identical answers; another seed, other data.

use fake_github::{FakeGithub, RepoSize};

use crate::support::{get, world, world_of};

const URIS: &[&str] = &[
    "/repos/octo/app",
    "/repos/octo/app/commits?per_page=100",
    "/repos/octo/app/issues?state=all&per_page=100",
    "/repos/octo/app/pulls?state=all",
    "/repos/octo/app/issues/comments",
    "/repos/octo/app/releases",
    "/repos/octo/app/stargazers",
    "/repos/octo/app/contributors",
    "/orgs/octo/repos",
];

#[tokio::test]
async fn same_seed_same_bytes() {
    let (_, a) = world();
    let (_, b) = world();
    for uri in URIS {
        let (x, y) = (get(&a, uri).await, get(&b, uri).await);
        assert_eq!(x.status, 200, "{uri}");
        assert_eq!(x.body, y.body, "{uri}");
        assert_eq!(x.header("etag"), y.header("etag"), "{uri}");
    }
}

#[tokio::test]
async fn another_seed_other_data() {
    let (_, a) = world();
    let (_, b) = world_of(
        FakeGithub::builder()
            .seed(8)
            .org("octo")
            .repo("octo/app", RepoSize::new(260, 90)),
    );
    assert_ne!(get(&a, URIS[1]).await.body, get(&b, URIS[1]).await.body);
}

#[tokio::test]
async fn dates_span_several_years_in_utc() {
    let (world, _) = world();
    let t = world.truth("octo/app").unwrap();
    let newest = &t.commits[0].committer_date;
    let oldest = &t.commits[t.commits.len() - 1].committer_date;
    assert!(
        oldest.starts_with("2019") && newest.starts_with("2025"),
        "{oldest} .. {newest}"
    );
    assert!(newest.ends_with('Z'));
}
