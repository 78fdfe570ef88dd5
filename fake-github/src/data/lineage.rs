//! Ancestry for compare: a commit's history as the branch prefix it grows from plus the
//! force-pushed-away commits on top of it, so that two histories share a prefix whose end is
//! their merge base.

use super::{Commit, Repo};

/// The history of one commit, oldest first: `commits[..on_branch]`, then `repo.dropped[k]` for
/// each `k` of `dropped`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lineage {
    pub on_branch: usize,
    pub dropped: Vec<usize>,
}

impl Lineage {
    /// Commits in this history.
    pub(crate) fn len(&self) -> usize {
        self.on_branch + self.dropped.len()
    }

    /// How many commits, from the root, both histories share.
    pub(crate) fn common(&self, other: &Lineage) -> usize {
        if self.on_branch != other.on_branch {
            // The shorter one continues with a dropped commit (or ends), the longer one with a
            // branch commit: they part at the shorter branch prefix.
            return self.on_branch.min(other.on_branch);
        }
        let shared = self
            .dropped
            .iter()
            .zip(&other.dropped)
            .take_while(|(a, b)| a == b)
            .count();
        self.on_branch + shared
    }

    /// The `k`-th commit of this history (0 is the root).
    pub(crate) fn get<'r>(&self, repo: &'r Repo, k: usize) -> Option<&'r Commit> {
        match k.checked_sub(self.on_branch) {
            None => repo.commits.get(k),
            Some(d) => self.dropped.get(d).map(|i| &repo.dropped[*i].commit),
        }
    }
}

impl Lineage {
    /// The commit this history leads to.
    pub(crate) fn tip<'r>(&self, repo: &'r Repo) -> Option<&'r Commit> {
        self.len().checked_sub(1).and_then(|k| self.get(repo, k))
    }
}

impl Repo {
    /// The history of a reference: see [`Repo::position`], and force-pushed-away commits by sha
    /// or prefix. `None` when nothing matches.
    pub(crate) fn lineage(&self, reference: &str) -> Option<Lineage> {
        if let Some(p) = self.position(reference) {
            return Some(Lineage {
                on_branch: p + 1,
                dropped: Vec::new(),
            });
        }
        if reference.len() < 7 {
            return None;
        }
        let mut at = self
            .dropped
            .iter()
            .rposition(|d| d.commit.sha.starts_with(reference))?;
        let mut path = vec![at];
        // Each dropped commit's parent is on the branch or dropped too; the first commit is
        // never dropped, so the walk ends on the branch.
        loop {
            let parent = &self.dropped[at].parent;
            if let Some(p) = self.commits.iter().rposition(|c| c.sha == *parent) {
                path.reverse();
                return Some(Lineage {
                    on_branch: p + 1,
                    dropped: path,
                });
            }
            at = self.dropped.iter().rposition(|d| d.commit.sha == *parent)?;
            path.push(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(on_branch: usize, dropped: &[usize]) -> Lineage {
        Lineage {
            on_branch,
            dropped: dropped.to_vec(),
        }
    }

    #[test]
    fn histories_share_a_prefix() {
        assert_eq!(history(5, &[]).common(&history(9, &[])), 5);
        assert_eq!(history(5, &[0, 1]).common(&history(9, &[])), 5);
        assert_eq!(history(9, &[]).common(&history(5, &[0, 1])), 5);
        assert_eq!(history(5, &[0, 1]).common(&history(5, &[])), 5);
        assert_eq!(history(5, &[0, 1]).common(&history(5, &[0, 2])), 6);
        assert_eq!(history(5, &[0, 1]).common(&history(5, &[0, 1])), 7);
        assert_eq!(history(5, &[0, 1]).len(), 7);
    }
}
