//! Embeds every shipped connector: each `connectors/<name>.toml` with the JSON Schemas of
//! `schemas/<name>/*.json`, without a Rust line per connector or stream. Writes
//! `$OUT_DIR/shipped.rs` with a `(name, program, definitions, [(stream, schema)])` table.

use std::path::{Path, PathBuf};

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    entries
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned()
}

fn main() {
    let root =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into())).join("..");
    let connectors = root.join("connectors");
    println!("cargo:rerun-if-changed={}", connectors.display());
    let mut code = String::from(
        "/// A shipped connector: name, program name, definitions text, (stream, JSON Schema) pairs.\n\
         pub type Shipped = (&'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);\n\
         /// Every shipped connector.\n\
         pub static SHIPPED: &[Shipped] = &[\n",
    );
    for defs in files(&connectors, "toml") {
        let name = stem(&defs);
        println!("cargo:rerun-if-changed={}", defs.display());
        let schemas = root.join("schemas").join(&name);
        println!("cargo:rerun-if-changed={}", schemas.display());
        code.push_str(&format!(
            "    ({name:?}, \"tap-{name}\", include_str!({:?}), &[\n",
            defs.display().to_string()
        ));
        for schema in files(&schemas, "json") {
            println!("cargo:rerun-if-changed={}", schema.display());
            code.push_str(&format!(
                "        ({:?}, include_str!({:?})),\n",
                stem(&schema),
                schema.display().to_string()
            ));
        }
        code.push_str("    ]),\n");
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("shipped.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
