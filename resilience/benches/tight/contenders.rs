//! What the tight-loop benchmarks share: a case is a group of contenders (`bare`, ours,
//! the peers) each handed to a [`Contenders`] as a closure, so criterion (`tight_loop.rs`,
//! `tower.rs`) and the instruction counter (`instructions.rs`) run the very same closures
//! in the same loop: `black_box(call(black_box(1)))`, as criterion's `iter` does.
//!
//! Naming, which `ratios.rs` relies on: `bare` is the undecorated call, a name starting
//! with `resilience` is ours, any other name is a peer.

/// Receives one group's contenders, in order.
pub trait Contenders {
    /// `call` is one call of the contender named `name`, on its argument.
    fn contender<R>(&mut self, name: &str, call: impl FnMut(u64) -> R);
}
