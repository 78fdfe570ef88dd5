//! Whether dbt runs after a load, and why: `--dbt auto|always|never`, and in `auto` a
//! comparison of the [`Fingerprint`] of dbt's inputs with the one of its last successful run.

use serde::Serialize;

use super::fingerprint::Fingerprint;

/// `--dbt`: when dbt runs after a successful load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DbtMode {
    /// When something dbt reads changed since its last successful run, or that cannot be told.
    #[default]
    Auto,
    /// After every successful load.
    Always,
    /// Never.
    Never,
}

/// What was decided about dbt in a run, for the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether dbt was started.
    pub ran: bool,
    /// Why, in words.
    pub reason: String,
}

impl Decision {
    fn run(reason: impl Into<String>) -> Self {
        Self {
            ran: true,
            reason: reason.into(),
        }
    }

    fn skip(reason: impl Into<String>) -> Self {
        Self {
            ran: false,
            reason: reason.into(),
        }
    }
}

/// Decides from the mode, the current fingerprint (or why it could not be taken) and the one
/// stored after the last successful dbt run (with when it was stored).
pub fn decide(
    mode: DbtMode,
    current: Result<&Fingerprint, String>,
    last_success: Option<(&Fingerprint, &str)>,
) -> Decision {
    match mode {
        DbtMode::Never => return Decision::skip("--dbt never"),
        DbtMode::Always => return Decision::run("--dbt always"),
        DbtMode::Auto => {}
    }
    let current = match current {
        Ok(fingerprint) => fingerprint,
        Err(why) => return Decision::run(format!("cannot tell what changed ({why})")),
    };
    let Some((last, at)) = last_success else {
        return Decision::run("no earlier successful dbt run of this pipeline");
    };
    let changes = current.changes_since(last);
    if changes.is_empty() {
        return Decision::skip(format!(
            "nothing dbt reads changed since its last successful run ({at})"
        ));
    }
    const SHOWN: usize = 4;
    let mut list = changes
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if changes.len() > SHOWN {
        list.push_str(&format!(" and {} more", changes.len() - SHOWN));
    }
    Decision::run(format!("changed since its last successful run: {list}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(parts: &[(&str, &str)]) -> Fingerprint {
        Fingerprint(
            parts
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        )
    }

    #[test]
    fn every_case_has_its_reason() {
        let a = fp(&[("table:commits", "1"), ("project", "p")]);
        let b = fp(&[("table:commits", "2"), ("project", "p")]);
        let at = "2026-12-01T10:00:00Z";
        let cases = [
            (DbtMode::Never, Ok(&b), Some((&a, at)), false, "--dbt never"),
            (
                DbtMode::Always,
                Ok(&a),
                Some((&a, at)),
                true,
                "--dbt always",
            ),
            (
                DbtMode::Auto,
                Err("no database".to_string()),
                Some((&a, at)),
                true,
                "cannot tell what changed (no database)",
            ),
            (
                DbtMode::Auto,
                Ok(&a),
                None,
                true,
                "no earlier successful dbt run of this pipeline",
            ),
            (
                DbtMode::Auto,
                Ok(&b),
                Some((&a, at)),
                true,
                "changed since its last successful run: table commits",
            ),
            (
                DbtMode::Auto,
                Ok(&a),
                Some((&a, at)),
                false,
                "nothing dbt reads changed since its last successful run (2026-12-01T10:00:00Z)",
            ),
        ];
        for (mode, current, last, ran, reason) in cases {
            let got = decide(mode, current, last);
            assert_eq!(
                got,
                Decision {
                    ran,
                    reason: reason.into()
                },
                "{mode:?}"
            );
        }
    }

    #[test]
    fn long_lists_of_changes_are_cut() {
        let a = fp(&[]);
        let b = fp(&[
            ("table:a", "1"),
            ("table:b", "1"),
            ("table:c", "1"),
            ("table:d", "1"),
            ("table:e", "1"),
            ("table:f", "1"),
        ]);
        let got = decide(DbtMode::Auto, Ok(&b), Some((&a, "t")));
        assert_eq!(
            got.reason,
            "changed since its last successful run: table a, table b, table c, table d and 2 more"
        );
    }
}
