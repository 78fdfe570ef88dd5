//! Pre-serialised JSON items with holes. Each item is serialised once, when it is generated or
//! changed; a holes list marks where a shared object (a user, the repository) is spliced in, so
//! a page is a concatenation of byte slices and the 1 KB user objects are stored only once.

use serde::{Serialize, Serializer};

/// Marker prefix of a hole inside serialised JSON: a string starting with U+0001, which
/// serde_json writes as `"\u0001`. Generated text never contains control characters.
const MARK: &str = "\"\\u0001";

/// Something spliced into an item when it is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hole {
    /// The world's user object with this index.
    User(u32),
    /// The repository object of the item's repository.
    Repo,
}

impl Hole {
    /// The placeholder string to put in a `serde_json::Value` or a serialised struct.
    pub(crate) fn marker(self) -> String {
        match self {
            Hole::User(i) => format!("\u{1}U{i}"),
            Hole::Repo => "\u{1}R".to_owned(),
        }
    }
}

impl Serialize for Hole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.marker())
    }
}

/// One pre-serialised JSON value with holes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Frag {
    text: Box<str>,
    holes: Box<[(u32, Hole)]>,
}

/// What holes are filled with.
pub(crate) trait Fill {
    /// The JSON text of user `i`.
    fn user(&self, i: u32) -> &str;
    /// The JSON text of the current repository.
    fn repo(&self) -> &str;
}

impl Frag {
    /// Serialises `value` and cuts out its hole markers.
    pub(crate) fn new<T: Serialize>(value: &T) -> Frag {
        let json = serde_json::to_string(value).expect("generated values always serialise");
        Frag::from_json(json)
    }

    fn from_json(json: String) -> Frag {
        if !json.contains(MARK) {
            return Frag {
                text: json.into_boxed_str(),
                holes: Box::new([]),
            };
        }
        let mut text = String::with_capacity(json.len());
        let mut holes = Vec::new();
        let mut rest = json.as_str();
        while let Some(at) = rest.find(MARK) {
            text.push_str(&rest[..at]);
            let after = &rest[at + MARK.len()..];
            let end = after.find('"').expect("a marker is a complete JSON string");
            let hole = match after.as_bytes().first() {
                Some(b'U') => Hole::User(after[1..end].parse().expect("marker holds a user index")),
                _ => Hole::Repo,
            };
            holes.push((text.len() as u32, hole));
            rest = &after[end + 1..];
        }
        text.push_str(rest);
        Frag {
            text: text.into_boxed_str(),
            holes: holes.into_boxed_slice(),
        }
    }

    /// Appends the item, holes filled, to `out`.
    pub(crate) fn write(&self, out: &mut Vec<u8>, fill: &dyn Fill) {
        let mut pos = 0usize;
        for (at, hole) in self.holes.iter() {
            let at = *at as usize;
            out.extend_from_slice(&self.text.as_bytes()[pos..at]);
            match hole {
                Hole::User(i) => out.extend_from_slice(fill.user(*i).as_bytes()),
                Hole::Repo => out.extend_from_slice(fill.repo().as_bytes()),
            }
            pos = at;
        }
        out.extend_from_slice(&self.text.as_bytes()[pos..]);
    }

    /// Bytes held by this item (for memory figures).
    pub(crate) fn heap_size(&self) -> usize {
        self.text.len() + self.holes.len() * std::mem::size_of::<(u32, Hole)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct F;
    impl Fill for F {
        fn user(&self, i: u32) -> &str {
            if i == 3 { r#"{"login":"three"}"# } else { "{}" }
        }
        fn repo(&self) -> &str {
            r#"{"id":1}"#
        }
    }

    #[test]
    fn holes_are_spliced_back() {
        let v = serde_json::json!({"a": Hole::User(3).marker(), "b": [Hole::Repo.marker(), "x\u{e9}\"\n"], "c": null});
        let f = Frag::new(&v);
        let mut out = Vec::new();
        f.write(&mut out, &F);
        let back: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(back["a"]["login"], "three");
        assert_eq!(back["b"][0]["id"], 1);
        assert_eq!(back["b"][1], "x\u{e9}\"\n");
    }
}
