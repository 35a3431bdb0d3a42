//! A value that can be replaced by a larger one without a lock on the read side and
//! without `unsafe`: replacements are appended (each set once), readers follow the chain
//! to its end.
//!
//! A breaker's windows are fixed-size rings read on every call; `configure` may ask for
//! a larger ring. Growth at least doubles and is capped, so a chain stays a handful of
//! links long and the memory it keeps is bounded by twice the largest ring.

use std::sync::OnceLock;

pub(super) struct Chain<T> {
    node: T,
    next: OnceLock<Box<Chain<T>>>,
}

impl<T> Chain<T> {
    pub(super) fn new(node: T) -> Self {
        Chain {
            node,
            next: OnceLock::new(),
        }
    }

    /// The newest value. One acquire load per link; one link unless it ever grew.
    #[inline]
    pub(super) fn current(&self) -> &T {
        let mut link = self;
        while let Some(next) = link.next.get() {
            link = next;
        }
        &link.node
    }

    /// Makes `node` the newest value. Callers serialize growth (the config lock), so
    /// the tail's cell is free; if it is not, the value goes after whoever won.
    pub(super) fn push(&self, node: T) {
        let mut link = self;
        let mut node = Box::new(Chain::new(node));
        loop {
            match link.next.get() {
                Some(next) => link = next,
                None => match link.next.set(node) {
                    Ok(()) => return,
                    Err(back) => node = back,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Chain;

    #[test]
    fn the_newest_value_wins() {
        let c = Chain::new(1);
        assert_eq!(*c.current(), 1);
        c.push(2);
        c.push(3);
        assert_eq!(*c.current(), 3);
    }
}
