//! A body written inline in the layers, when it can be.
//!
//! A body written inline costs nothing; one nested as a closure or an async block of its
//! own costs an async call a state machine inside the function's future (a bigger future,
//! and more to do on every poll). Nesting is needed only so that a way out of the body
//! (`return`, `?`) ends the body and not the function, before the layers see its result.
//! So a body is written inline as a labelled block, each `return` and `?` in it rewritten
//! as a `break` out of that block, unless something in it cannot be rewritten: a macro
//! (which might expand to `return` or `?`), other than the standard and logging macros
//! known not to, or a `break` or `continue` that no loop of the body's own catches.
//! What a closure, an async block or a nested item does ends there, so none is looked
//! into.
//!
//! The standard and logging macros are known by name; a crate that defines its own macro
//! under one of those names, one that returns from the function, would have that return
//! pass the layers by. That is the one assumption here.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::visit_mut::{self, VisitMut};
use syn::{
    Block, Expr, ExprAsync, ExprBreak, ExprClosure, ExprContinue, ExprForLoop, ExprLoop, ExprWhile,
    Item, Lifetime, Macro, Stmt,
};

/// Macros whose expansion never leaves the code around it but for their arguments: the
/// standard library's, and the logging macros of `tracing` and `log`.
const PLAIN_MACROS: &[&str] = &[
    // std
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "column",
    "concat",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "env",
    "eprint",
    "eprintln",
    "file",
    "format",
    "format_args",
    "include_bytes",
    "include_str",
    "line",
    "matches",
    "module_path",
    "option_env",
    "panic",
    "print",
    "println",
    "stringify",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
    // tracing and log
    "debug",
    "error",
    "event",
    "info",
    "trace",
    "warn",
];

/// The body as one inline block expression, its ways out turned into `break`s, or `None`
/// when it must run as its own closure or async block.
pub(crate) fn inline(stmts: &[Stmt]) -> Option<TokenStream> {
    let mut search = Search {
        loops: 0,
        nest: false,
    };
    for stmt in stmts {
        search.visit_stmt(stmt);
    }
    if search.nest {
        return None;
    }
    let label = Lifetime::new("'__resilience_body", Span::mixed_site());
    let mut rewrite = Rewrite {
        label: &label,
        rewrote: false,
    };
    let mut stmts = stmts.to_vec();
    for stmt in &mut stmts {
        rewrite.visit_stmt_mut(stmt);
    }
    Some(if rewrite.rewrote {
        quote!(#label: { #(#stmts)* })
    } else {
        quote!({ #(#stmts)* })
    })
}

/// Looks for what cannot be written inline.
struct Search {
    /// How many of the body's own loops enclose the node being visited.
    loops: u32,
    nest: bool,
}

impl Search {
    fn in_loop(&mut self, body: &Block) {
        self.loops += 1;
        self.visit_block(body);
        self.loops -= 1;
    }
}

impl<'ast> Visit<'ast> for Search {
    fn visit_macro(&mut self, mac: &'ast Macro) {
        let plain = mac
            .path
            .segments
            .last()
            .is_some_and(|last| PLAIN_MACROS.contains(&last.ident.to_string().as_str()));
        if !plain || !tokens_stay(mac.tokens.clone()) {
            self.nest = true;
        }
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        // Tokens syn could not parse: nothing is known of them.
        if let Expr::Verbatim(_) = expr {
            self.nest = true;
            return;
        }
        visit::visit_expr(self, expr);
    }

    fn visit_expr_break(&mut self, expr: &'ast ExprBreak) {
        // A label is the body's own: the body cannot name one outside it.
        if expr.label.is_none() && self.loops == 0 {
            self.nest = true;
        }
        visit::visit_expr_break(self, expr);
    }

    fn visit_expr_continue(&mut self, expr: &'ast ExprContinue) {
        if expr.label.is_none() && self.loops == 0 {
            self.nest = true;
        }
    }

    fn visit_expr_loop(&mut self, expr: &'ast ExprLoop) {
        self.in_loop(&expr.body);
    }

    fn visit_expr_while(&mut self, expr: &'ast ExprWhile) {
        // The condition runs outside the loop's own `break`s.
        self.visit_expr(&expr.cond);
        self.in_loop(&expr.body);
    }

    fn visit_expr_for_loop(&mut self, expr: &'ast ExprForLoop) {
        self.visit_expr(&expr.expr);
        self.in_loop(&expr.body);
    }

    fn visit_expr_closure(&mut self, _: &'ast ExprClosure) {}

    fn visit_expr_async(&mut self, _: &'ast ExprAsync) {}

    fn visit_item(&mut self, _: &'ast Item) {}
}

/// True when a plain macro's arguments hold no way out: no `?`, `return`, `break` or
/// `continue` (which would leave the function from inside the expansion, where they
/// cannot be rewritten), and no macro but plain ones.
fn tokens_stay(tokens: TokenStream) -> bool {
    let mut previous_ident: Option<String> = None;
    for token in tokens {
        match &token {
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                if matches!(name.as_str(), "return" | "break" | "continue") {
                    return false;
                }
                previous_ident = Some(name);
                continue;
            }
            TokenTree::Punct(punct) if punct.as_char() == '?' => return false,
            TokenTree::Punct(punct) if punct.as_char() == '!' => {
                if let Some(name) = &previous_ident {
                    if !PLAIN_MACROS.contains(&name.as_str()) {
                        return false;
                    }
                }
            }
            TokenTree::Group(group) if !tokens_stay(group.stream()) => return false,
            _ => {}
        }
        previous_ident = None;
    }
    true
}

/// Turns each `return` and `?` of the body (not of its closures, async blocks or items)
/// into a `break` out of the body's block (`?` with its `From` conversion).
struct Rewrite<'a> {
    label: &'a Lifetime,
    rewrote: bool,
}

impl VisitMut for Rewrite<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(_) | Expr::Async(_) => {}
            Expr::Return(ret) => {
                if let Some(value) = &mut ret.expr {
                    self.visit_expr_mut(value);
                }
                let label = self.label;
                let attrs = &ret.attrs;
                let value = &ret.expr;
                // Verbatim: syn would read `'label ::path` as a label declaration.
                *expr = Expr::Verbatim(quote_spanned!(ret.return_token.span()=>
                    #(#attrs)* break #label #value
                ));
                self.rewrote = true;
            }
            Expr::Try(tried) => {
                self.visit_expr_mut(&mut tried.expr);
                let label = self.label;
                let attrs = &tried.attrs;
                let inner = &tried.expr;
                // Spanned at the `?`, so a missing `From` conversion is reported there.
                *expr = Expr::Verbatim(quote_spanned!(tried.question_token.span()=>
                    #(#attrs)* (match ::resilience::__private::Question::branch(#inner) {
                        ::core::ops::ControlFlow::Continue(__resilience_value) => __resilience_value,
                        ::core::ops::ControlFlow::Break(__resilience_error) => {
                            break #label ::resilience::__private::question_error(__resilience_error)
                        }
                    })
                ));
                self.rewrote = true;
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_item_mut(&mut self, _: &mut Item) {}
}

#[cfg(test)]
mod tests {
    use super::inline;

    fn written(body: &str) -> Option<String> {
        let block: syn::Block = syn::parse_str(body).expect("a block");
        inline(&block.stmts).map(|tokens| tokens.to_string())
    }

    #[test]
    fn a_body_without_a_way_out_is_written_as_it_is() {
        for body in [
            "{ work(x) }",
            "{ let y = client.get(x).await; if y > 3 { Ok(y) } else { Err(E) } }",
            "{ for i in 0..3 { if i == 1 { continue; } break; } Ok(()) }",
            "{ 'a: { break 'a Ok(1) } }",
            "{ let f = |x| -> Result<u8, E> { let y = x?; return Ok(y) }; f(1) }",
            "{ let g = async { return h().await? }; g.await }",
            "{ fn inner() -> u8 { return 1 } Ok(inner()) }",
            "{ tracing::info!(user = %x, \"{:?}\", y); println!(\"{}\", format!(\"{x}\")); Ok(()) }",
        ] {
            let out = written(body).unwrap_or_else(|| panic!("{body} is written inline"));
            assert!(!out.contains("__resilience_body"), "{body} needs no label: {out}");
        }
    }

    #[test]
    fn return_and_question_mark_become_breaks_out_of_the_body() {
        let out = written("{ if x { return Err(E); } let y = work(x)?; Ok(y) }").expect("inline");
        assert!(out.starts_with("'__resilience_body : {"), "{out}");
        assert!(out.contains("break '__resilience_body Err (E)"), "{out}");
        assert!(out.contains("Question :: branch (work (x))"), "{out}");
        assert!(!out.contains("return"), "{out}");
        // Nested: the inner `?` is rewritten inside the outer one.
        let out = written("{ Ok(a()?.b()?) }").expect("inline");
        assert_eq!(out.matches("Question :: branch").count(), 2, "{out}");
        // A closure's own `?` and `return` are left to it.
        let out = written("{ let f = || { return x? }; Ok(f()) }").expect("inline");
        assert!(out.contains("return x ?"), "{out}");
    }

    #[test]
    fn what_cannot_be_rewritten_nests_the_body() {
        for body in [
            "{ bail!(\"no\") }",
            "{ my_macro!(x); Ok(()) }",
            "{ println!(\"{}\", x?); Ok(()) }",
            "{ tracing::info!(\"{}\", other!(x)); Ok(()) }",
            "{ println!(\"{}\", { return Ok(1) }); Ok(()) }",
            "{ continue }",
            "{ break Ok(1) }",
            "{ for i in { break } { } Ok(()) }",
            "{ while { continue } { } Ok(()) }",
        ] {
            assert_eq!(written(body), None, "{body} is nested");
        }
    }
}
