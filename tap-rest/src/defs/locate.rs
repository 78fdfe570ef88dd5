//! From a key path (`stream[2].replication.key`) to the line of a definitions file, and from a
//! byte offset back to the key it belongs to, so every error names the file, the line and the key.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// Every key of a TOML document: its path, the span of the key and the span of its value.
pub struct Keys {
    entries: Vec<(String, Range<usize>, Range<usize>)>,
    lines: Vec<usize>,
}

impl Keys {
    /// Indexes `text` (a document that parses; otherwise the index is empty).
    pub fn of(text: &str) -> Keys {
        let mut entries = Vec::new();
        if let Ok(doc) = DeTable::parse(text) {
            walk(doc.get_ref(), "", &mut entries);
        }
        let lines = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Keys { entries, lines }
    }

    /// The 1-based line of byte `offset`.
    pub fn line_at(&self, offset: usize) -> usize {
        self.lines.partition_point(|&start| start <= offset).max(1)
    }

    /// The line where `path`'s key (or the closest enclosing key that exists) is written.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some((_, key, _)) = self.entries.iter().find(|(k, ..)| k == p) {
                return Some(self.line_at(key.start));
            }
            p = parent(p)?;
        }
    }

    /// The innermost key whose value holds byte `offset`.
    pub fn path_at(&self, offset: usize) -> Option<&str> {
        self.entries
            .iter()
            .filter(|(_, key, value)| key.contains(&offset) || value.contains(&offset))
            .min_by_key(|(_, key, value)| value.end.max(key.end) - key.start.min(value.start))
            .map(|(p, ..)| p.as_str())
    }
}

fn parent(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut])
}

fn walk(table: &DeTable<'_>, prefix: &str, out: &mut Vec<(String, Range<usize>, Range<usize>)>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        out.push((path.clone(), key.span(), value.span()));
        descend(value.get_ref(), &path, out);
    }
}

fn descend(value: &DeValue<'_>, path: &str, out: &mut Vec<(String, Range<usize>, Range<usize>)>) {
    match value {
        DeValue::Table(t) => walk(t, path, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                out.push((p.clone(), item.span(), item.span()));
                descend(item.get_ref(), &p, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[http]\nbase_url = \"x\"\n\n[[stream]]\nname = \"a\"\n\n[[stream]]\nname = \"b\"\nreplication = { mode = \"x\", key = \"/k\" }\n";

    #[test]
    fn paths_have_lines_and_offsets_have_paths() {
        let k = Keys::of(DOC);
        assert_eq!(k.line_of("http.base_url"), Some(2));
        assert_eq!(k.line_of("stream[1].name"), Some(8));
        assert_eq!(k.line_of("stream[1].replication.key"), Some(9));
        assert_eq!(k.line_of("stream[1].nothing_here"), k.line_of("stream[1]"));
        let at = DOC.find("\"/k\"").unwrap();
        assert_eq!(k.path_at(at), Some("stream[1].replication.key"));
        assert_eq!(k.line_at(0), 1);
    }
}
