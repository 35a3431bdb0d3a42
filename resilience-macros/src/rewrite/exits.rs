//! Whether a body can end other than with its value.
//!
//! A body that can `return`, `?` or `break` out of itself must run as a closure or an
//! async block of its own, so that leaving it still passes through the layers. One that
//! cannot is written inline: an async block nested in the function's future is a state
//! machine of its own, which every call pays for in size and in polling.

use syn::visit::{self, Visit};
use syn::{
    Block, Expr, ExprAsync, ExprBreak, ExprClosure, ExprContinue, ExprForLoop, ExprLoop,
    ExprReturn, ExprTry, ExprWhile, Item, Macro, Stmt,
};

/// True unless the statements surely end only with their value. A macro counts as a
/// way out (it may expand to `return` or `?`), and so does a `break` or `continue` that
/// no loop of the body's own catches. What a closure, an async block or a nested item
/// does ends there, so it is not looked into.
pub(crate) fn may_leave_early(stmts: &[Stmt]) -> bool {
    let mut search = Search {
        loops: 0,
        found: false,
    };
    for stmt in stmts {
        search.visit_stmt(stmt);
    }
    search.found
}

struct Search {
    /// How many of the body's own loops enclose the node being visited.
    loops: u32,
    found: bool,
}

impl Search {
    fn in_loop(&mut self, body: &Block) {
        self.loops += 1;
        self.visit_block(body);
        self.loops -= 1;
    }
}

impl<'ast> Visit<'ast> for Search {
    fn visit_expr_return(&mut self, _: &'ast ExprReturn) {
        self.found = true;
    }

    fn visit_expr_try(&mut self, _: &'ast ExprTry) {
        self.found = true;
    }

    fn visit_macro(&mut self, _: &'ast Macro) {
        self.found = true;
    }

    fn visit_expr(&mut self, expr: &'ast Expr) {
        // Tokens syn could not parse: nothing is known of them.
        if let Expr::Verbatim(_) = expr {
            self.found = true;
            return;
        }
        visit::visit_expr(self, expr);
    }

    fn visit_expr_break(&mut self, expr: &'ast ExprBreak) {
        // A label is the body's own: the body cannot name one outside it.
        if expr.label.is_none() && self.loops == 0 {
            self.found = true;
        }
        visit::visit_expr_break(self, expr);
    }

    fn visit_expr_continue(&mut self, expr: &'ast ExprContinue) {
        if expr.label.is_none() && self.loops == 0 {
            self.found = true;
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

#[cfg(test)]
mod tests {
    use super::may_leave_early;

    fn leaves(body: &str) -> bool {
        let block: syn::Block = syn::parse_str(body).expect("a block");
        may_leave_early(&block.stmts)
    }

    #[test]
    fn a_body_that_ends_with_its_value_stays_inline() {
        assert!(!leaves("{ work(x) }"));
        assert!(!leaves(
            "{ let y = client.get(x).await; if y > 3 { Ok(y) } else { Err(E) } }"
        ));
        assert!(!leaves(
            "{ for i in 0..3 { if i == 1 { continue; } break; } Ok(()) }"
        ));
        assert!(!leaves("{ 'a: { break 'a Ok(1) } }"));
        assert!(!leaves(
            "{ let f = |x| -> Result<u8, E> { let y = x?; return Ok(y) }; f(1) }"
        ));
        assert!(!leaves("{ let g = async { return h().await? }; g.await }"));
        assert!(!leaves("{ fn inner() -> u8 { return 1 } Ok(inner()) }"));
    }

    #[test]
    fn a_way_out_of_the_body_is_found_wherever_it_is() {
        assert!(leaves("{ return Ok(1) }"));
        assert!(leaves("{ let y = work(x)?; Ok(y) }"));
        assert!(leaves("{ if x { Ok(z.await?) } else { Err(E) } }"));
        assert!(leaves("{ let Some(y) = x else { return Err(E) }; Ok(y) }"));
        assert!(leaves("{ bail!(\"no\") }"));
        assert!(leaves("{ println!(\"{x}\"); Ok(()) }"));
        assert!(leaves("{ let v = vec![1]; Ok(v) }"));
        assert!(leaves("{ continue }"));
        assert!(leaves("{ break Ok(1) }"));
        assert!(leaves("{ for i in { break } { } Ok(()) }"));
        assert!(leaves("{ while { continue } { } Ok(()) }"));
        assert!(leaves("{ loop { let y = work()?; break Ok(y) } }"));
    }
}
