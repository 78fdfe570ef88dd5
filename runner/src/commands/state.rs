//! `tapline state show|set|clear`.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::cli::{StateAction, StateFormat};

/// Shows, sets or clears the pipeline's stored state.
pub fn state(config: &Path, action: StateAction) -> anyhow::Result<ExitCode> {
    let (name, location) = match crate::plan::state_store_location(config) {
        Ok(location) => location,
        Err(e) => {
            eprintln!("tapline: error: {e}");
            return Ok(ExitCode::from(crate::run::exit::CONFIG));
        }
    };
    let store = crate::state::open(&location)?;
    match action {
        StateAction::Show { format } => {
            let mut out = std::io::stdout().lock();
            match store.state(&name)? {
                Some(state) => {
                    let shown = match format {
                        StateFormat::Singer => state,
                        StateFormat::Meltano => json!({ "singer_state": state }),
                    };
                    writeln!(out, "{}", serde_json::to_string_pretty(&shown)?)?;
                }
                None => eprintln!("tapline: pipeline `{}` has no state yet", name),
            }
        }
        StateAction::Set { file } => {
            let _lock = store.lock(&name, None)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let value: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            let value = unwrap_meltano(value);
            anyhow::ensure!(
                value.is_object(),
                "{}: a state must be a JSON object",
                file.display()
            );
            store.set_state(&name, &value)?;
            eprintln!("tapline: state of `{}` set from {}", name, file.display());
        }
        StateAction::Clear { select: None } => {
            let _lock = store.lock(&name, None)?;
            store.clear_state(&name)?;
            eprintln!("tapline: state of `{}` cleared", name);
        }
        StateAction::Clear {
            select: Some(streams),
        } => {
            anyhow::ensure!(
                streams.iter().all(|s| !s.trim().is_empty()),
                "--select: a stream name is empty"
            );
            let _lock = store.lock(&name, None)?;
            let removed = store.clear_streams(&name, &streams)?;
            let absent: Vec<&str> = streams
                .iter()
                .filter(|s| !removed.contains(s))
                .map(String::as_str)
                .collect();
            if !removed.is_empty() {
                eprintln!(
                    "tapline: bookmarks of {} cleared in `{}`; the other streams keep theirs",
                    removed.join(", "),
                    name
                );
            }
            if !absent.is_empty() {
                eprintln!(
                    "tapline: `{}` had no bookmark of {}",
                    name,
                    absent.join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Meltano stores `{"singer_state": STATE}`; take the state out.
fn unwrap_meltano(value: Value) -> Value {
    match value {
        Value::Object(mut map) if map.len() == 1 && map.contains_key("singer_state") => {
            map.remove("singer_state").unwrap_or(Value::Null)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn meltano_wrapper_is_removed() {
        assert_eq!(
            unwrap_meltano(json!({"singer_state": {"bookmarks": {}}})),
            json!({"bookmarks": {}})
        );
        assert_eq!(
            unwrap_meltano(json!({"bookmarks": {}})),
            json!({"bookmarks": {}})
        );
    }
}
