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
            let state = store.state(&name)?.unwrap_or_else(|| {
                eprintln!("tapline: pipeline `{name}` has no state yet");
                json!({})
            });
            let shown = match format {
                StateFormat::Singer => state,
                StateFormat::Meltano => json!({ "singer_state": state }),
            };
            writeln!(out, "{}", serde_json::to_string_pretty(&shown)?)?;
        }
        StateAction::Set { file } => {
            let _lock = store.lock(&name, None)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let value: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            let value = unwrap_meltano(value);
            let warnings = match shape(&value) {
                Ok(warnings) => warnings,
                Err(problem) => {
                    eprintln!("tapline: error: {}: {problem}", file.display());
                    return Ok(ExitCode::from(crate::run::exit::CONFIG));
                }
            };
            for w in warnings {
                eprintln!("tapline: warning: {}: {w}", file.display());
            }
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

/// Keys of a Singer state besides `bookmarks` that taps read.
const STATE_KEYS: [&str; 2] = ["bookmarks", "currently_syncing"];

/// Checks a state's shape: an error when no tap could read it, warnings for the parts a tap
/// will not use (keys other than `bookmarks` and `currently_syncing`, bookmarks that are not
/// objects).
fn shape(state: &Value) -> Result<Vec<String>, String> {
    let Some(object) = state.as_object() else {
        return Err("a state must be a JSON object".into());
    };
    let mut warnings: Vec<String> = object
        .keys()
        .filter(|k| !STATE_KEYS.contains(&k.as_str()))
        .map(|k| format!("`{k}` is not a Singer state key; taps ignore it"))
        .collect();
    match object.get("bookmarks") {
        None if !object.is_empty() => {
            warnings.push("no `bookmarks`: every stream starts from start_date".into())
        }
        None => {}
        Some(Value::Object(bookmarks)) => warnings.extend(
            bookmarks
                .iter()
                .filter(|(_, b)| !b.is_object())
                .map(|(stream, _)| {
                    format!("bookmarks.{stream} is not an object; the tap cannot use it")
                }),
        ),
        Some(_) => return Err("`bookmarks` must be an object of stream → bookmark".into()),
    }
    Ok(warnings)
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
    fn shape_errors_and_warnings() {
        assert_eq!(shape(&json!({})), Ok(vec![]));
        assert_eq!(
            shape(&json!({"bookmarks": {"commits": {"a": 1}}, "currently_syncing": null})),
            Ok(vec![])
        );
        assert!(shape(&json!([1])).is_err());
        assert!(shape(&json!({"bookmarks": 3})).is_err());
        assert_eq!(
            shape(&json!({"bookmarks": {"commits": "2024"}, "extra": 1})),
            Ok(vec![
                "`extra` is not a Singer state key; taps ignore it".to_string(),
                "bookmarks.commits is not an object; the tap cannot use it".to_string()
            ])
        );
        assert_eq!(shape(&json!({"n": 1})).map(|w| w.len()), Ok(2));
    }

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
