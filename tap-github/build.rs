//! Embeds every `schemas/github/*.json` without a Rust line per stream: writes
//! `$OUT_DIR/schemas.rs` with a `(name, include_str!(…))` table.

use std::path::Path;

fn main() {
    // The manifest folder of this build, read when the script runs: `env!` would freeze the
    // folder the script was compiled in, and a target folder copied from another checkout would
    // keep embedding that checkout's schemas.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let dir = Path::new(&manifest).join("../schemas/github");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed=../connectors/github.toml");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    let mut code = String::from(
        "/// Stream name → JSON Schema text, one per file in schemas/github/.\npub static SCHEMAS: &[(&str, &str)] = &[\n",
    );
    for path in entries {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("schemas.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}
