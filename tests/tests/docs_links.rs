//! Every relative link in `README.md` and `docs/*.md` points at a file or folder that
//! exists, and a `#fragment` at a heading of the target (GitHub's anchors: the heading's
//! text lowercased, punctuation dropped, spaces made `-`, a repeated one suffixed `-1`,
//! `-2`, …). Links inside code blocks and inline code are text, not links; `http:`,
//! `https:` and `mailto:` links are not followed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A link found in a Markdown file: where, and what it points at.
#[derive(Debug)]
struct Link {
    line: usize,
    target: String,
}

/// The workspace's root (this crate is `tests/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `text` without its fenced code blocks (their lines kept, emptied, so line numbers hold).
fn outside_fences(text: &str) -> Vec<String> {
    let mut fence: Option<String> = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let marker: String = trimmed
            .chars()
            .take_while(|c| *c == '`' || *c == '~')
            .collect();
        match &fence {
            Some(open) => {
                if marker.len() >= open.len()
                    && marker.starts_with(&open[..1])
                    && trimmed.trim() == marker
                {
                    fence = None;
                }
                lines.push(String::new());
            }
            None if marker.len() >= 3 => {
                fence = Some(marker);
                lines.push(String::new());
            }
            None => lines.push(line.to_owned()),
        }
    }
    lines
}

/// `line` with its inline code spans blanked out.
fn without_inline_code(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let after = &rest[start + ticks..];
        let closing = "`".repeat(ticks);
        match after.find(&closing) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                out.push_str(&rest[start..]);
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The links of a Markdown text: inline `[text](target)` and `![alt](target)`, and
/// reference definitions `[label]: target`.
fn links(text: &str) -> Vec<Link> {
    let mut found = Vec::new();
    let prose = outside_fences(text)
        .iter()
        .map(|line| without_inline_code(line))
        .collect::<Vec<_>>();
    for (index, line) in prose.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            if let Some(close) = trimmed.find("]:") {
                let target = trimmed[close + 2..].split_whitespace().next().unwrap_or("");
                found.push(Link {
                    line: index + 1,
                    target: target.trim_matches(['<', '>']).to_owned(),
                });
                continue;
            }
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            // The target ends at the parenthesis that closes the one opened (a target may
            // hold balanced parentheses).
            let mut depth = 1;
            let mut end = None;
            for (i, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(end) = end else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            found.push(Link {
                line: index + 1,
                target: target.trim_matches(['<', '>']).to_owned(),
            });
            rest = &after[end + 1..];
        }
    }
    found
}

/// GitHub's anchor for a heading's text.
fn slug(heading: &str) -> String {
    // A link in a heading shows its text.
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        let Some(mid) = rest[open..].find("](") else {
            break;
        };
        let Some(close) = rest[open + mid..].find(')') else {
            break;
        };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..open + mid]);
        rest = &rest[open + mid + close + 1..];
    }
    text.push_str(rest);
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown text's ATX headings (`#` to `######`).
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for line in outside_fences(text) {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(line[hashes..].trim().trim_end_matches('#'));
        let count = seen.entry(base.clone()).or_insert(0);
        out.push(if *count == 0 {
            base.clone()
        } else {
            format!("{base}-{count}")
        });
        *count += 1;
    }
    out
}

/// Every broken relative link of `file`, as `file:line: target: why`.
fn broken_links(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let dir = file.parent().expect("a file has a folder");
    let mut broken = Vec::new();
    for link in links(&text) {
        let target = link.target.as_str();
        if target.is_empty()
            || target.starts_with("http://")
            || target.starts_with("https://")
            || target.starts_with("mailto:")
        {
            continue;
        }
        let (path, fragment) = match target.split_once('#') {
            Some((path, fragment)) => (path, Some(fragment)),
            None => (target, None),
        };
        let resolved = if path.is_empty() {
            file.to_path_buf()
        } else {
            dir.join(path)
        };
        let why = if !resolved.exists() {
            Some("no such file".to_owned())
        } else if let Some(fragment) = fragment {
            let is_markdown = resolved.extension().is_some_and(|e| e == "md");
            let target_text = std::fs::read_to_string(&resolved).unwrap_or_default();
            (is_markdown && !anchors(&target_text).iter().any(|a| a == fragment))
                .then(|| format!("no heading with the anchor #{fragment}"))
        } else {
            None
        };
        if let Some(why) = why {
            broken.push(format!("{}:{}: {target}: {why}", file.display(), link.line));
        }
    }
    broken
}

/// README.md and every Markdown file of docs/.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let files = documents();
    assert!(files.len() > 5, "README.md and docs/*.md: {files:?}");
    let mut checked = 0;
    let mut broken = Vec::new();
    for file in &files {
        checked += links(&std::fs::read_to_string(file).expect("readable")).len();
        broken.extend(broken_links(file));
    }
    assert!(
        checked > 20,
        "only {checked} links found: the parser is broken"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_checker_finds_a_missing_file_and_a_missing_anchor() {
    let dir = std::env::temp_dir().join(format!("resilience-docs-links-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("docs")).expect("a scratch folder");
    std::fs::write(
        dir.join("docs/guide.md"),
        "# The guide\n\n## `scope = cluster` through Redis (feature `redis`)\n\n## Tables\n\n## Tables\n",
    )
    .expect("written");
    let readme = dir.join("README.md");
    std::fs::write(
        &readme,
        "# Top\n\n\
         [ok](docs/guide.md) [ok](docs/guide.md#scope--cluster-through-redis-feature-redis)\n\
         [ok](docs/guide.md#tables-1) [ok](#top) [ok](https://example.invalid/x) [ok](docs/)\n\
         [missing file](docs/nope.md)\n\
         [missing anchor](docs/guide.md#no-such-heading)\n\
         `[in code](docs/nope.md)`\n\
         ```md\n[in a block](docs/nope.md)\n```\n\
         [ref]: docs/gone.md\n",
    )
    .expect("written");
    let broken = broken_links(&readme);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(broken.len(), 3, "{broken:#?}");
    assert!(
        broken[0].ends_with(":5: docs/nope.md: no such file"),
        "{}",
        broken[0]
    );
    assert!(
        broken[1].ends_with(
            ":6: docs/guide.md#no-such-heading: no heading with the anchor #no-such-heading"
        ),
        "{}",
        broken[1]
    );
    assert!(
        broken[2].ends_with(":11: docs/gone.md: no such file"),
        "{}",
        broken[2]
    );
}

#[test]
fn anchors_follow_github() {
    assert_eq!(
        anchors("# Beyond one process: `scope = cluster` through Redis (feature `redis`)\n"),
        ["beyond-one-process-scope--cluster-through-redis-feature-redis"]
    );
    assert_eq!(anchors("## A\n## A\n## A\n"), ["a", "a-1", "a-2"]);
    assert_eq!(
        anchors("```\n# not a heading\n```\n#nor this\n"),
        Vec::<String>::new()
    );
    assert_eq!(anchors("### See [the guide](x.md)\n"), ["see-the-guide"]);
}
