//! Embeds every migration found in `migrations/sqlite` and
//! `migrations/postgres` (files named `NNNN_description.sql`), so a new
//! file runs without being listed by hand anywhere.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let mut out = String::new();
    for dialect in ["sqlite", "postgres"] {
        let dir = Path::new(&root).join("migrations").join(dialect);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut found: Vec<(i64, String, String)> = Vec::new();
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(stem) = name.strip_suffix(".sql") else {
                continue;
            };
            let (version, description) = stem
                .split_once('_')
                .unwrap_or_else(|| panic!("{name}: migrations are named NNNN_description.sql"));
            let version: i64 = version
                .parse()
                .unwrap_or_else(|_| panic!("{name}: the version before '_' must be a number"));
            found.push((
                version,
                description.replace('_', " "),
                path.display().to_string(),
            ));
        }
        found.sort();
        if let Some(w) = found.windows(2).find(|w| w[0].0 == w[1].0) {
            panic!("two {dialect} migrations share version {}", w[0].0);
        }
        let _ = writeln!(
            out,
            "const {}: &[(i64, &str, &str)] = &[",
            dialect.to_uppercase()
        );
        for (version, description, path) in found {
            let _ = writeln!(
                out,
                "    ({version}, {description:?}, include_str!({path:?})),"
            );
        }
        out.push_str("];\n");
    }
    let dest =
        Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("migrations.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}
