//! Embed the demo catalog (catalog/**/*.toml) in the binary, so `oneseal serve --demo` works from any directory.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalog");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    for sub in ["", "items", "bundles", "project-types"] {
        let dir = root.join(sub);
        println!("cargo:rerun-if-changed={}", dir.display());
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            // Bundles are optional; the catalog itself and its items are not.
            Err(_) if sub == "bundles" || sub == "project-types" => continue,
            Err(e) => panic!("the demo catalog {} cannot be read: {e}", dir.display()),
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "toml") {
                let rel = if sub.is_empty() {
                    p.file_name().unwrap_or_default().to_string_lossy().into_owned()
                } else {
                    format!("{sub}/{}", p.file_name().unwrap_or_default().to_string_lossy())
                };
                files.push((rel, p.canonicalize().unwrap_or(p.clone())));
            }
        }
    }
    files.sort();
    // A binary without the demo catalog would fail only when run (`serve --demo`): fail the build instead.
    assert!(
        files.iter().any(|(rel, _)| rel == "departments.toml"),
        "the demo catalog {} has no departments.toml",
        root.display()
    );
    let mut out = String::from(
        "/// The demo catalog files: (path under catalog/, contents).\npub const DEMO_CATALOG: &[(&str, &str)] = &[\n",
    );
    for (rel, p) in files {
        let _ = writeln!(out, "    ({rel:?}, include_str!({:?})),", p.display().to_string());
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("demo_catalog.rs");
    std::fs::write(dest, out).unwrap_or_else(|e| panic!("cannot write demo_catalog.rs: {e}"));
}
