//! Every semantic check of the derive, apart from parsing. Each mistake is reported at
//! the token to change, and all of them at once.

use std::collections::BTreeSet;

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{LitStr, Member};

use super::ast::{Enum, Input, Node, Struct};
use super::attr::{quote_list, Attrs, Category, Marcus};
use super::naming;
use crate::errors::Errors;

pub(crate) fn check(input: &Input, errors: &mut Errors) {
    match input {
        Input::Struct(s) => check_struct(s, errors),
        Input::Enum(e) => check_enum(e, errors),
    }
}

/// Keys the enum's own `#[marcus]` takes: the defaults of its variants.
const ENUM_KEYS: &[&str] = &["category", "severity", "retryable", "remediation"];

fn check_enum(e: &Enum, errors: &mut Errors) {
    for (key, span) in e.attrs.marcus.given() {
        if !ENUM_KEYS.contains(&key) {
            errors.push(syn::Error::new(
                span,
                format!(
                    "`{key}` goes on a variant: move it to the variant's `#[marcus(...)]`; \
                     the enum's `#[marcus(...)]` takes {}",
                    quote_list(ENUM_KEYS)
                ),
            ));
        }
    }
    refuse_context_on_item(&e.attrs, "the enum", errors);

    // No category anywhere, on the enum or any variant that needs one: one mistake, so
    // one error, at the enum, rather than one per variant.
    let needs_category = |node: &Node| {
        node.attrs.marcus.transparent.get().is_none() && node.field_with_from().is_none()
    };
    let nodes: Vec<Node> = e.variants.iter().map(Node::of_variant).collect();
    let no_category_anywhere = e.attrs.marcus.category.get().is_none()
        && !e.attrs.incomplete
        && nodes
            .iter()
            .any(|n| needs_category(n) && !n.attrs.incomplete)
        && nodes
            .iter()
            .all(|n| !needs_category(n) || n.attrs.marcus.category.get().is_none());
    if no_category_anywhere {
        errors.push(syn::Error::new(
            e.ident().span(),
            format!(
                "no category anywhere: add `#[marcus(category = ...)]` to the enum (a \
                 default for every variant) or to each variant, one of {}",
                category_names()
            ),
        ));
    }

    let mut codes: BTreeSet<String> = BTreeSet::new();
    for (variant, node) in e.variants.iter().zip(nodes) {
        refuse_context_on_item(&variant.attrs, "a variant", errors);
        check_node(
            &node,
            Some(&e.attrs.marcus),
            e.attrs.incomplete || no_category_anywhere,
            errors,
        );

        if node.attrs.marcus.transparent.get().is_some() {
            continue;
        }
        let (code, span) = match node.attrs.marcus.code.get() {
            Some(lit) => (lit.value(), lit.span()),
            None => (
                naming::variant_code(&e.ident().to_string(), &node.ident.to_string()),
                node.ident.span(),
            ),
        };
        if !codes.insert(code.clone()) {
            errors.push(syn::Error::new(
                span,
                format!(
                    "duplicate code `{code}`: another variant has it; \
                     give this one its own `code = \"...\"`"
                ),
            ));
        }
    }
}

fn check_struct(s: &Struct, errors: &mut Errors) {
    if !s.attrs.context.is_empty() && s.fields.is_empty() {
        for attr in &s.attrs.context {
            errors.push(syn::Error::new_spanned(
                attr,
                format!(
                    "a struct without fields has no place for a context: add a field \
                     marked `#[context]`, e.g. `struct {} {{ #[context] ctx: resilience::ErrorContext }}`",
                    s.ident()
                ),
            ));
        }
    } else {
        refuse_context_on_item(&s.attrs, "the struct", errors);
    }
    check_node(&Node::of_struct(s), None, false, errors);
}

/// `#[context]` marks a field, never an item or a variant.
fn refuse_context_on_item(attrs: &Attrs, what: &str, errors: &mut Errors) {
    for attr in &attrs.context {
        errors.push(syn::Error::new_spanned(
            attr,
            format!(
                "`#[context]` marks the field that holds an `ErrorContext`, not {what}: \
                 move it onto that field"
            ),
        ));
    }
}

/// The checks shared by a struct and a variant; `defaults` is the enum's `#[marcus]`.
fn check_node(
    node: &Node,
    defaults: Option<&Marcus>,
    defaults_incomplete: bool,
    errors: &mut Errors,
) {
    let marcus = &node.attrs.marcus;
    check_fields(node, errors);

    if let Some(transparent) = marcus.transparent.span() {
        check_transparent(node, transparent, errors);
        return;
    }
    if let Some(code) = marcus.code.get() {
        check_code(code, errors);
    }
    if let Some(member) = marcus.retry_after.get() {
        check_retry_after(node, member, errors);
    }
    let has_category =
        marcus.category.get().is_some() || defaults.is_some_and(|d| d.category.get().is_some());
    // A `#[from]` field may lend its category; whether it does is only known in the
    // user's crate, where `::resilience::__private::OwnCategory` refuses it if not.
    let incomplete = node.attrs.incomplete || defaults_incomplete;
    if !has_category && node.field_with_from().is_none() && !incomplete {
        let (what, where_) = if node.is_struct {
            ("struct", "to the struct")
        } else {
            ("variant", "to the variant or to the enum")
        };
        errors.push(syn::Error::new(
            node.ident.span(),
            format!(
                "this {what} needs a category: add `#[marcus(category = ...)]` {where_}, \
                 one of {}",
                category_names()
            ),
        ));
    }
}

fn category_names() -> String {
    quote_list(Category::NAMES)
}

fn check_fields(node: &Node, errors: &mut Errors) {
    let mut context_seen = false;
    for field in node.fields {
        if let Some(attr) = field.attrs.marcus_attr {
            errors.push(syn::Error::new_spanned(
                attr,
                "`#[marcus(...)]` goes on the enum, a variant or a struct, not on a field; \
                 name a field with `retry_after = field`, or mark the context with `#[context]`",
            ));
        }
        let Some(first) = field.attrs.context.first() else {
            continue;
        };
        for extra in field.attrs.context.iter().skip(1) {
            errors.push(syn::Error::new_spanned(
                extra,
                "duplicate `#[context]`: write it once",
            ));
        }
        if context_seen {
            errors.push(syn::Error::new_spanned(
                first,
                "a second `#[context]` field: mark only one field with `#[context]`",
            ));
        }
        context_seen = true;
        if field.attrs.from.is_some() {
            errors.push(syn::Error::new_spanned(
                first,
                "the `#[from]` field is the inner error, not the context: \
                 move `#[context]` to an `ErrorContext` field",
            ));
        } else if field.context_kind().is_none() {
            errors.push(syn::Error::new_spanned(
                field.ty,
                format!(
                    "a `#[context]` field holds a `resilience::ErrorContext` or a \
                     `Box<resilience::ErrorContext>`, not `{}`",
                    type_text(field.ty)
                ),
            ));
        }
    }
}

fn check_transparent(node: &Node, key: Span, errors: &mut Errors) {
    for (other, span) in node.attrs.marcus.given() {
        if other != "transparent" {
            errors.push(syn::Error::new(
                span,
                format!(
                    "`transparent` answers everything with the inner error's values: \
                     remove `{other}`, or remove `transparent`"
                ),
            ));
        }
    }
    if node.fields.len() != 1 {
        errors.push(syn::Error::new(
            key,
            format!(
                "`transparent` needs exactly one field, the inner `MarcusError`; this {} has {}",
                if node.is_struct { "struct" } else { "variant" },
                node.fields.len()
            ),
        ));
    }
    for field in node.fields {
        if let Some(attr) = field.attrs.context.first() {
            errors.push(syn::Error::new_spanned(
                attr,
                "a `transparent` error's context is its inner error's: remove `#[context]`",
            ));
        }
    }
}

fn check_code(code: &LitStr, errors: &mut Errors) {
    let value = code.value();
    let screaming = value.starts_with(|c: char| c.is_ascii_uppercase())
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !screaming {
        let spaced: String = value
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '_' })
            .collect();
        let suggestion = naming::screaming_snake(&spaced);
        let suggestion = if suggestion.is_empty() {
            "KANBAN_TIMEOUT".to_owned()
        } else {
            suggestion
        };
        errors.push(syn::Error::new(
            code.span(),
            format!("a code is SCREAMING_SNAKE_CASE: write `code = \"{suggestion}\"`"),
        ));
    }
}

fn check_retry_after(node: &Node, member: &Member, errors: &mut Errors) {
    let Some(field) = node.field(member) else {
        let fields: Vec<String> = node
            .fields
            .iter()
            .map(|f| f.member.to_token_stream().to_string())
            .collect();
        let have = if fields.is_empty() {
            format!(
                "it has no fields; add one, e.g. `{} {{ wait: std::time::Duration }}`",
                node.ident
            )
        } else {
            let names: Vec<&str> = fields.iter().map(String::as_str).collect();
            format!("its fields are {}", quote_list(&names))
        };
        errors.push(syn::Error::new(
            member.span(),
            format!(
                "no field `{}` in `{}` for `retry_after`: {have}",
                member.to_token_stream(),
                node.ident
            ),
        ));
        return;
    };
    if field.delay_kind().is_none() {
        errors.push(syn::Error::new_spanned(
            field.ty,
            format!(
                "`retry_after` names a `std::time::Duration` or `Option<std::time::Duration>` \
                 field, and `{}` is `{}`",
                member.to_token_stream(),
                type_text(field.ty)
            ),
        ));
    }
}

/// `Option < u64 >` as a person writes it: `Option<u64>`.
fn type_text(ty: &syn::Type) -> String {
    let mut text = ty.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        ("& ", "&"),
        (" ,", ","),
    ] {
        text = text.replace(from, to);
    }
    text
}
