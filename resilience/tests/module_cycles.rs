//! No import circle among the runtime's modules: the layers are the vocabulary (errors,
//! clock, scope), the patterns, the registry, the call sites (`sites/`), then the
//! `__private` contract, the health report, configuration and the integrations; each
//! may depend on the layers below it, never on one above.
//!
//! A quick, dependency-free check over the source text (comments and `pub use`
//! re-exports left out: a re-export keeps a public path, it is not a dependency):
//! - between the top-level modules of `src/`: every path `crate::<name>` in a module's
//!   files, also inside a group (`crate::{a, b::C}`), is an edge to the module `<name>`,
//!   or, when `<name>` is an item the crate root re-exports (`crate::Scope`), to the
//!   module it comes from;
//! - between the files of each module folder: every `super::<name>` in a file is an edge
//!   to the sibling file `<name>`, or to the sibling the folder's `mod.rs` re-exports
//!   `<name>` from.
//!
//! Any cycle fails the test.
//!
//! The layers themselves are checked too ([`LAYERS`], the order of ARCHITECTURE.md's
//! "Module dependencies"): a module may import (or re-export, `pub use` included: a
//! re-export cannot compile without what it names) only from its own layer or the ones
//! below, never from one above. [`KNOWN_INVERSIONS`] lists the edges still being removed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The code of a file, comments left out.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("a readable source file");
    without_comments(&text)
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `code` without its `pub use` statements (which may span lines).
fn without_reexports(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "pub use ") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = rest.find(';').map_or("", |end| &rest[end + 1..]);
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The first occurrence of `word` in `text` not preceded by an identifier character or
/// by `::` (so `crate::` inside `$crate::` or `other::crate::` does not count).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find(word).map(|i| i + from) {
        let before = &text[..at];
        if !before.ends_with(is_ident) && !before.ends_with("::") && !before.ends_with('$') {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// The names a path starting right after `prefix` reaches first: `name` for
/// `prefix name…`, and each entry's first name for `prefix {a, b::c, d as e}`.
fn targets(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, prefix) {
        rest = &rest[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            found.extend(group_heads(group));
        } else {
            let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// The first name of each top-level entry of a `{…}` group (`group` starts after `{`).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut at_entry_start = true;
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                if !current.is_empty() {
                    heads.push(std::mem::take(&mut current));
                }
                at_entry_start = true;
            }
            c if depth == 0 && at_entry_start && is_ident(c) => current.push(c),
            _ if depth == 0 && at_entry_start && !current.is_empty() => {
                heads.push(std::mem::take(&mut current));
                at_entry_start = false;
            }
            _ => {}
        }
    }
    if !current.is_empty() {
        heads.push(current);
    }
    heads
}

/// What a module's root file re-exports, by name: `pub use <from>::…::{A, B};` maps
/// `A` and `B` to `<from>` when `<from>` is one of `children`.
fn reexports(root_file: &Path, children: &BTreeSet<String>) -> BTreeMap<String, String> {
    let text = without_comments(&std::fs::read_to_string(root_file).unwrap_or_default());
    let mut map = BTreeMap::new();
    for statement in text.split(';') {
        let statement = statement.trim();
        let Some(path) = ["pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|p| statement.strip_prefix(p))
        else {
            continue;
        };
        let path = path.trim_start_matches("self::");
        let from: String = path.chars().take_while(|&c| is_ident(c)).collect();
        if !children.contains(&from) {
            continue;
        }
        let items = &path[from.len()..];
        for name in items
            .split(|c: char| !is_ident(c))
            .filter(|n| !n.is_empty() && !matches!(*n, "self" | "as" | "super" | "crate"))
        {
            map.entry(name.to_owned()).or_insert_with(|| from.clone());
        }
    }
    map
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

/// The modules (files and folders) directly in `dir`, `mod.rs` and `lib.rs` left out.
fn children(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("a folder")
        .map(|e| e.expect("an entry").path())
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_owned();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(stem)
        })
        .filter(|m| !matches!(m.as_str(), "lib" | "mod"))
        .collect()
}

/// The edge a path's first `name` makes from inside `modules`' parent, if any.
fn resolve(
    name: &str,
    modules: &BTreeSet<String>,
    reexported: &BTreeMap<String, String>,
) -> Option<String> {
    if modules.contains(name) {
        Some(name.to_owned())
    } else {
        reexported.get(name).cloned()
    }
}

/// Edges between top-level modules, `pub use` re-exports left out (for cycles).
fn module_graph() -> Graph {
    module_edges(true)
}

/// Edges between top-level modules; with `skip_reexports`, `pub use` ones left out.
fn module_edges(skip_reexports: bool) -> Graph {
    let root = src();
    let mut modules = children(&root);
    modules.remove("__private");
    let reexported = reexports(&root.join("lib.rs"), &modules);
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
        let code = code(&file);
        let code = if skip_reexports {
            without_reexports(&code)
        } else {
            code
        };
        for name in targets(&code, "crate::") {
            // `crate::registry()` and `crate::recovery()` are the modules' own functions.
            if let Some(target) = resolve(&name, &modules, &reexported) {
                if target != module {
                    graph.entry(module.clone()).or_default().insert(target);
                }
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
        let siblings = children(&dir);
        let reexported = reexports(&dir.join("mod.rs"), &siblings);
        for file in std::fs::read_dir(&dir).expect("a folder") {
            let file = file.expect("an entry").path();
            let Some(stem) = file.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if file.is_dir() || stem == "mod" {
                continue;
            }
            for name in targets(&without_reexports(&code(&file)), "super::") {
                if let Some(target) = resolve(&name, &siblings, &reexported) {
                    if target != stem {
                        graph
                            .entry(format!("{folder}/{stem}"))
                            .or_default()
                            .insert(format!("{folder}/{target}"));
                    }
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
fn no_import_cycle_among_runtime_modules() {
    let mut found = cycles(&module_graph());
    found.extend(cycles(&file_graph()));
    assert!(found.is_empty(), "import cycles among modules: {found:?}");
}

/// The layers of ARCHITECTURE.md, lowest first: a module may depend on its own layer and
/// those below it. Every top-level module of `src/` must be listed (a new one fails the
/// test until it is placed).
const LAYERS: &[&[&str]] = &[
    // 1. The vocabulary.
    &[
        "error",
        "events",
        "clock",
        "deadline",
        "sync",
        "scope",
        "scope_warning",
        "config_error",
        "duration_serde",
        "names",
        "refusals",
        "pattern",
        "keyed",
        "metrics",
        "site_name",
        "question",
    ],
    // 2. The patterns that refuse (their refusal types are what the classification
    //    recognises), the ready-made error types, and the patterns that classify nothing.
    &[
        "breaker",
        "bulkhead",
        "rate_limit",
        "adaptive_limit",
        "timeout",
        "errors",
        "injected_fault",
        "chaos",
        "context",
        "degradation",
        "recovery",
    ],
    // 3. The one classification of an outcome, and the view that supplies it for an
    //    error of any type.
    &["classification", "view"],
    // 4. The patterns that act on the classification, and the monitor.
    &["retry", "hedge", "monitor"],
    // 5. The registry, which holds the patterns' instances, and the cluster, which reads it.
    &["registry", "cluster"],
    // 6. The call sites and fallbacks.
    &["sites", "fallback"],
    // 7. The front ends and reports.
    &[
        "health",
        "config",
        "tower",
        "reqwest",
        "axum",
        "admin",
        "__private",
    ],
];

/// Inverted edges known and being removed: each one here is a debt, not a rule. Remove
/// a line once its edge is gone. (None left: the registry no longer builds the health
/// report, and recovery is given its registry.)
const KNOWN_INVERSIONS: &[(&str, &str)] = &[];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every edge from a lower layer to a higher one, with the layers' numbers (1-based).
fn inversions(graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for (from, targets) in graph {
        for to in targets {
            let (Some(a), Some(b)) = (layer_of(from), layer_of(to)) else {
                continue;
            };
            if a < b && !KNOWN_INVERSIONS.contains(&(from.as_str(), to.as_str())) {
                found.push(format!(
                    "{from} (layer {}) imports {to} (layer {})",
                    a + 1,
                    b + 1
                ));
            }
        }
    }
    found
}

#[test]
fn every_module_is_in_a_layer() {
    let unplaced: Vec<String> = children(&src())
        .into_iter()
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules missing from LAYERS (place them as ARCHITECTURE.md says): {unplaced:?}"
    );
}

#[test]
fn no_lower_layer_imports_a_higher_one() {
    let found = inversions(&module_edges(false));
    assert!(
        found.is_empty(),
        "imports against the layer order: {found:#?}"
    );
}

#[test]
fn the_layer_check_sees_an_inversion() {
    let mut graph = Graph::new();
    graph
        .entry("error".into())
        .or_default()
        .insert("classification".into());
    graph
        .entry("sites".into())
        .or_default()
        .insert("registry".into());
    assert_eq!(
        inversions(&graph),
        ["error (layer 1) imports classification (layer 3)"]
    );
    // A second inversion is a second finding, and a re-export counts as an import.
    graph
        .entry("registry".into())
        .or_default()
        .insert("health".into());
    assert_eq!(inversions(&graph).len(), 2);
    let with = targets(
        &without_comments("pub use crate::registry::retry_budget;"),
        "crate::",
    );
    assert!(with.contains("registry"));
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

#[test]
fn the_check_reads_groups_and_reexports_and_skips_comments_and_reexports() {
    let code = without_reexports(&without_comments(
        "use crate::{registry, Scope, clock::{Clock, SystemClock} as _};\n\
         // crate::monitor\n\
         pub use crate::hedge::Hedge;\n\
         let x = crate::breaker::Breaker::new(); $crate::retry\n",
    ));
    let found = targets(&code, "crate::");
    let expected: BTreeSet<String> = ["registry", "Scope", "clock", "breaker"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expected);
    let modules: BTreeSet<String> = ["registry", "scope", "clock", "breaker"]
        .into_iter()
        .map(String::from)
        .collect();
    let reexported = BTreeMap::from([("Scope".to_string(), "scope".to_string())]);
    assert_eq!(
        resolve("Scope", &modules, &reexported).as_deref(),
        Some("scope")
    );
    assert_eq!(resolve("Other", &modules, &reexported), None);
}

#[test]
fn the_graph_sees_the_crates_real_edges() {
    // A check that read nothing would pass: the registry holds breakers, and the
    // breaker call site registers in the registry, through a grouped or plain path.
    let graph = module_graph();
    let edge = |a: &str, b: &str| graph.get(a).is_some_and(|to| to.contains(b));
    assert!(edge("registry", "breaker"), "{graph:?}");
    assert!(edge("sites", "registry"), "{graph:?}");
    // `crate::{Category, MarcusError, Remediation}` in a breaker file: the root
    // re-exports resolve to `error`.
    assert!(edge("breaker", "error"), "{graph:?}");
    let files = file_graph();
    assert!(!files.is_empty());
}
