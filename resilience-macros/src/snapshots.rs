//! Expansion snapshots: what each attribute (and a few stacks of them) expands to,
//! formatted with `prettyplease`, kept beside the cases so any change to what users'
//! code expands to shows up in review.
//!
//! A case is one file, `tests/expand/<case>.rs`: items written as a user writes them.
//! Every `fn` in it (free, in an `impl`, in a trait impl, in a `mod`) whose attributes
//! name one of ours is expanded as the compiler would expand its first such attribute
//! (which takes the later ones as inner layers); a type deriving `MarcusError` gets the
//! derive's output after it. The result is compared with `tests/expand/<case>.expanded.rs`.
//!
//! A case whose file name starts with `chaos_` is expanded as with the `chaos` feature
//! (the fault-injection gates emitted), every other one as without it, whatever this
//! crate was built with: so both builds' code is reviewed, from one test run.
//!
//! To add a case, write its `.rs` file and run
//! `UPDATE_EXPANSIONS=1 cargo test -p resilience-macros snapshots`, which (re)writes
//! every `.expanded.rs`; read the diff before committing it. A case without its
//! `.expanded.rs` fails until then.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit_mut::VisitMut;

/// The directory of the cases.
fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand")
}

/// The name of one of our attributes, if `attr` is one (`name`, `resilience::name`,
/// `::resilience::name`).
fn ours(attr: &syn::Attribute) -> Option<String> {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let name = match segments.as_slice() {
        [only] => only.clone(),
        [krate, last] if krate == "resilience" => last.clone(),
        _ => return None,
    };
    crate::expander(&name).map(|_| name)
}

/// Takes the first attribute of ours off `attrs`: its name and its arguments.
fn take_first(attrs: &mut Vec<syn::Attribute>) -> Option<(String, TokenStream)> {
    let index = attrs.iter().position(|a| ours(a).is_some())?;
    let attr = attrs.remove(index);
    let name = ours(&attr)?;
    let args = match attr.meta {
        syn::Meta::List(list) => list.tokens,
        _ => TokenStream::new(),
    };
    Some((name, args))
}

fn expand(name: &str, args: TokenStream, item: TokenStream) -> TokenStream {
    crate::expander(name).expect("one of ours")(args, item)
}

/// Expands every decorated function in place and every `MarcusError` derive after its
/// type.
struct Expander;

impl VisitMut for Expander {
    fn visit_file_mut(&mut self, file: &mut syn::File) {
        file.items = expand_items(std::mem::take(&mut file.items));
    }

    fn visit_item_mod_mut(&mut self, module: &mut syn::ItemMod) {
        if let Some((_, items)) = &mut module.content {
            *items = expand_items(std::mem::take(items));
        }
    }

    fn visit_item_impl_mut(&mut self, block: &mut syn::ItemImpl) {
        for item in &mut block.items {
            let syn::ImplItem::Fn(function) = item else {
                continue;
            };
            if let Some((name, args)) = take_first(&mut function.attrs) {
                let expanded = expand(&name, args, function.to_token_stream());
                *item = reparse_method(expanded);
            }
        }
    }
}

/// The expansion of a free function (or a method) as an item again.
///
/// syn reads `break 'label ::path(..)` (which rustc accepts) as the forbidden
/// `break 'label: expr`, since its `:` peek also matches the first half of `::`; such a
/// break value is put in parentheses to parse, and the parentheses are taken off the
/// tree again, so the snapshot shows the code as generated.
fn reparse_item(expanded: TokenStream) -> syn::Item {
    let tokens = paren_break_values(expanded);
    let mut item: syn::Item = syn::parse2(tokens.clone())
        .unwrap_or_else(|e| panic!("the expansion does not parse ({e}):\n{tokens}"));
    UnParen.visit_item_mut(&mut item);
    item
}

fn reparse_method(expanded: TokenStream) -> syn::ImplItem {
    let tokens = paren_break_values(expanded);
    let mut item: syn::ImplItem = syn::parse2(tokens.clone())
        .unwrap_or_else(|e| panic!("the expansion does not parse ({e}):\n{tokens}"));
    UnParen.visit_impl_item_mut(&mut item);
    item
}

/// `break 'label ::a::b(..)` -> `break 'label (::a::b(..))`, at any depth.
fn paren_break_values(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Delimiter, Group, Spacing, TokenTree};
    let trees: Vec<TokenTree> = tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), paren_break_values(g.stream()));
                inner.set_span(g.span());
                TokenTree::Group(inner)
            }
            other => other,
        })
        .collect();
    let is_punct = |tree: Option<&TokenTree>, ch: char| matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == ch);
    let mut out = Vec::new();
    let mut i = 0;
    while i < trees.len() {
        let breaks_with_path = matches!(&trees[i], TokenTree::Ident(id) if id == "break")
            && is_punct(trees.get(i + 1), '\'')
            && matches!(trees.get(i + 2), Some(TokenTree::Ident(_)))
            && matches!(trees.get(i + 3), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint);
        if !breaks_with_path {
            out.push(trees[i].clone());
            i += 1;
            continue;
        }
        out.extend(trees[i..i + 3].iter().cloned());
        let start = i + 3;
        let mut end = start;
        while end < trees.len() && !is_punct(trees.get(end), ',') && !is_punct(trees.get(end), ';')
        {
            end += 1;
        }
        let value: TokenStream = trees[start..end].iter().cloned().collect();
        out.push(TokenTree::Group(Group::new(Delimiter::Parenthesis, value)));
        i = end;
    }
    out.into_iter().collect()
}

/// Takes off the parentheses [`paren_break_values`] put around a labelled break's value.
struct UnParen;

impl VisitMut for UnParen {
    fn visit_expr_break_mut(&mut self, node: &mut syn::ExprBreak) {
        if node.label.is_some() {
            if let Some(value) = node.expr.as_deref_mut() {
                if let syn::Expr::Paren(paren) = value {
                    let inner = (*paren.expr).clone();
                    *value = inner;
                }
            }
        }
        syn::visit_mut::visit_expr_break_mut(self, node);
    }
}

fn expand_items(items: Vec<syn::Item>) -> Vec<syn::Item> {
    let mut out = Vec::new();
    for mut item in items {
        let derived = derives_marcus_error(&item).then(|| {
            let output = crate::expand_derive_marcus_error(item.to_token_stream());
            syn::parse2::<syn::File>(output).expect("the derive's output is items")
        });
        match &mut item {
            syn::Item::Fn(function) => {
                if let Some((name, args)) = take_first(&mut function.attrs) {
                    let expanded = expand(&name, args, function.to_token_stream());
                    item = reparse_item(expanded);
                }
            }
            syn::Item::Mod(_) | syn::Item::Impl(_) => Expander.visit_item_mut(&mut item),
            _ => {}
        }
        out.push(item);
        if let Some(derived) = derived {
            out.extend(derived.items);
        }
    }
    out
}

fn derives_marcus_error(item: &syn::Item) -> bool {
    let attrs = match item {
        syn::Item::Enum(e) => &e.attrs,
        syn::Item::Struct(s) => &s.attrs,
        syn::Item::Union(u) => &u.attrs,
        _ => return false,
    };
    attrs.iter().any(|attr| {
        attr.path().is_ident("derive") && attr.to_token_stream().to_string().contains("MarcusError")
    })
}

/// The formatted expansion of one case's source.
fn expansion_of(source: &str) -> String {
    let mut file: syn::File = syn::parse_file(source).expect("a case parses as a Rust file");
    Expander.visit_file_mut(&mut file);
    prettyplease::unparse(&file)
}

#[test]
fn expansions_match_their_snapshots() {
    let update = std::env::var_os("UPDATE_EXPANSIONS").is_some_and(|v| v != "0");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/expand exists")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "rs")
                && !p.to_string_lossy().ends_with(".expanded.rs")
        })
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no case in {}", cases_dir().display());
    let mut failures = Vec::new();
    for case in &cases {
        let source = std::fs::read_to_string(case).expect("a readable case");
        let gates = case
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("chaos_"));
        let actual = crate::rewrite::chaos::with_gates(gates, || expansion_of(&source));
        let snapshot = case.with_extension("expanded.rs");
        if update {
            std::fs::write(&snapshot, &actual).expect("the snapshot is writable");
            continue;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => failures.push(format!(
                "{}: the expansion changed; first differing line:\n{}",
                case.display(),
                first_difference(&expected, &actual)
            )),
            Err(_) => failures.push(format!("{}: no snapshot yet", case.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nIf the change is meant, run `UPDATE_EXPANSIONS=1 cargo test -p resilience-macros snapshots` and review the diff.",
        failures.join("\n\n")
    );
}

fn first_difference(expected: &str, actual: &str) -> String {
    let mut expected_lines = expected.lines();
    let mut actual_lines = actual.lines();
    for number in 1.. {
        match (expected_lines.next(), actual_lines.next()) {
            (None, None) => break,
            (e, a) if e == a => continue,
            (e, a) => {
                return format!(
                    "line {number}\n  snapshot:  {}\n  expansion: {}",
                    e.unwrap_or("<end>"),
                    a.unwrap_or("<end>")
                )
            }
        }
    }
    String::from("(only the line endings differ)")
}

/// The snapshot test can fail: an expansion that differs from the kept one is reported.
#[test]
fn a_changed_expansion_is_a_difference() {
    let without = |source| crate::rewrite::chaos::with_gates(false, || expansion_of(source));
    let before = without("#[retry(max_attempts = 2)] fn f() -> Result<(), E> { Ok(()) }");
    let after = without("#[retry(max_attempts = 3)] fn f() -> Result<(), E> { Ok(()) }");
    assert_ne!(before, after);
    assert!(first_difference(&before, &after).starts_with("line "));
    assert!(before.contains("__private::RetrySite"));
}

/// Without the `chaos` feature an expansion holds no fault gate; with it, one per layer
/// that has one, each a single call into the runtime.
#[test]
fn gates_are_emitted_only_with_the_chaos_feature() {
    let source = "#[circuit_breaker(name = \"k\")] fn f() -> Result<(), E> { Ok(()) }";
    let without = crate::rewrite::chaos::with_gates(false, || expansion_of(source));
    let with = crate::rewrite::chaos::with_gates(true, || expansion_of(source));
    assert!(!without.contains("chaos"), "{without}");
    assert_eq!(with.matches("draw_refusing_with(").count(), 1, "{with}");
    assert!(
        with.contains("__private::inject!(Result < (), E >)"),
        "{with}"
    );
}

/// ARCHITECTURE.md shows one real expansion: it must be the snapshot as it is now.
#[test]
fn the_architecture_document_shows_the_current_expansion() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let document = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    for case in ["stack_async.rs", "stack_async.expanded.rs"] {
        let text = std::fs::read_to_string(cases_dir().join(case)).expect("the case");
        assert!(
            document.contains(text.trim()),
            "ARCHITECTURE.md no longer shows tests/expand/{case} as it is; paste it in again"
        );
    }
}
