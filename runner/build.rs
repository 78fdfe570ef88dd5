//! Embeds the dbt project (`../dbt`, without dbt's `target/` and `logs/`) so an installed or
//! containerised `tapline` can write it out with no checkout: `$OUT_DIR/dbt_project.rs` holds a
//! `(relative path, include_str!(…))` table.

use std::path::{Path, PathBuf};

fn main() {
    // Read when the script runs: `env!` would freeze the folder it was compiled in, and a target
    // folder copied from another checkout would keep embedding that checkout's project.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let root = Path::new(&manifest).join("../dbt");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    let mut code = String::from(
        "/// The dbt project's files: path relative to the project, content.\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for (relative, path) in files {
        println!("cargo:rerun-if-changed={}", path.display());
        code.push_str(&format!(
            "    ({relative:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("dbt_project.rs");
    if let Err(e) = std::fs::write(&out, code) {
        panic!("cannot write {}: {e}", out.display());
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || (dir == root && ["target", "logs", "dbt_packages"].contains(&name.as_str()))
        {
            continue;
        }
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            walk(root, &path, out);
        } else if let Ok(relative) = path.strip_prefix(root) {
            out.push((relative.to_string_lossy().into_owned(), path));
        }
    }
}
