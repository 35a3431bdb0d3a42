//! No import circle among the runtime's modules: the registry and the health report may
//! depend on the patterns, never the reverse.
//!
//! A quick, dependency-free check: every path `crate::<module>` in the code (comments
//! and `pub use` re-exports left out: a re-export keeps a public path, it is not a
//! dependency) of a top-level module of `src/` is an edge to that module, and every
//! `super::<file>` in a file of a module folder an edge between the folder's files.
//! A cycle fails the test, unless it is listed in `KNOWN` (debt to pay, each with the
//! reason); a listed cycle that no longer exists fails too, so the list only shrinks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Cycles that exist today, as the sorted names of their modules.
const KNOWN: &[&[&str]] = &[
    // The config file's list of tables names the `[cluster]` table, which is a `Table`
    // (to move `Table` into a file of its own).
    &["config/cluster", "config/tables"],
    // A `#[circuit_breaker]` call site registers its breaker in the global registry.
    &["breaker", "registry"],
    // ... and so do the bulkhead's and the rate limiter's.
    &["bulkhead", "registry"],
    &["rate_limit", "registry"],
    // ... and so does the hedge's.
    &["hedge", "registry"],
    // A breaker's transition goes through `scope` (published to the cluster when the
    // breaker is cluster-scoped), which applies remote transitions to breakers.
    &["breaker", "scope"],
    // ... through `cluster` (feature `redis`), which finds breakers in the registry.
    &["breaker", "cluster", "scope"],
    &["breaker", "cluster", "registry", "scope"],
    // A `scope = cluster` rate limit's call site admits through the name's
    // `cluster::ClusterLimiter`; `cluster` reads the registry (heartbeats carry its
    // health), which holds the rate limiters.
    &["cluster", "rate_limit", "registry"],
    &["breaker", "cluster", "rate_limit", "registry"],
    // `ErrorContext::new` reads the current scope's correlation id, and a scope's error
    // arm records in the monitor, which classifies errors.
    &["context", "error", "monitor"],
    // A scope's chain holds scopes; a scope asks the chain for the outermost one.
    &["context/scope", "context/stack"],
];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The code of a file, comments left out.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("a readable source file");
    text.lines()
        .filter(|line| !line.trim_start().starts_with("pub use "))
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifiers that follow `prefix` in `code`.
fn targets(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before_ok = rest[..at]
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        rest = &rest[at + prefix.len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if before_ok && !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Edges between top-level modules.
fn module_graph() -> Graph {
    let root = src();
    let modules: BTreeSet<String> = std::fs::read_dir(&root)
        .expect("src/")
        .map(|e| e.expect("an entry").path())
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_owned();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(stem)
        })
        .filter(|m| m != "lib" && m != "__private")
        .collect();
    let mut graph = Graph::new();
    for file in rust_files(&root) {
        let relative = file.strip_prefix(&root).expect("under src/");
        let first = relative.components().next().expect("a component");
        let module = Path::new(first.as_os_str())
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a name")
            .to_owned();
        if !modules.contains(&module) {
            continue;
        }
        for target in targets(&code(&file), "crate::") {
            // `crate::registry()` and `crate::recovery()` are the modules' own functions.
            if target != module && modules.contains(&target) {
                graph.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    graph
}

/// Edges between the files of each module folder (`super::name`).
fn file_graph() -> Graph {
    let root = src();
    let mut graph = Graph::new();
    for entry in std::fs::read_dir(&root).expect("src/") {
        let dir = entry.expect("an entry").path();
        if !dir.is_dir() {
            continue;
        }
        let folder = dir
            .file_name()
            .and_then(|s| s.to_str())
            .expect("a name")
            .to_owned();
        for file in std::fs::read_dir(&dir).expect("a folder") {
            let file = file.expect("an entry").path();
            let Some(stem) = file.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if file.is_dir() || stem == "mod" {
                continue;
            }
            for target in targets(&code(&file), "super::") {
                let sibling = dir.join(format!("{target}.rs"));
                if target != stem && (sibling.exists() || dir.join(&target).is_dir()) {
                    graph
                        .entry(format!("{folder}/{stem}"))
                        .or_default()
                        .insert(format!("{folder}/{target}"));
                }
            }
        }
    }
    graph
}

/// Every elementary cycle's set of nodes (small graphs: a search from each node).
fn cycles(graph: &Graph) -> BTreeSet<Vec<String>> {
    fn walk(
        graph: &Graph,
        start: &str,
        node: &str,
        path: &mut Vec<String>,
        out: &mut BTreeSet<Vec<String>>,
    ) {
        for next in graph.get(node).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.sort();
                out.insert(cycle);
            } else if !path.contains(next) && next.as_str() > start {
                path.push(next.clone());
                walk(graph, start, next, path, out);
                path.pop();
            }
        }
    }
    let mut out = BTreeSet::new();
    for start in graph.keys() {
        walk(graph, start, start, &mut vec![start.clone()], &mut out);
    }
    out
}

#[test]
fn no_new_import_cycle_among_runtime_modules() {
    let mut found = cycles(&module_graph());
    found.extend(cycles(&file_graph()));
    let known: BTreeSet<Vec<String>> = KNOWN
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect();
    let new: Vec<_> = found.difference(&known).collect();
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(new.is_empty(), "new import cycles among modules: {new:?}");
    assert!(
        gone.is_empty(),
        "these cycles are gone: take them off KNOWN: {gone:?}"
    );
}

#[test]
fn the_check_sees_a_cycle() {
    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("a".into());
    graph.entry("b".into()).or_default().insert("c".into());
    let found = cycles(&graph);
    assert_eq!(found.len(), 1);
    assert!(found.contains(&vec!["a".to_string(), "b".to_string()]));
}
