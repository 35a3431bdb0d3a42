//! The production jitter source: a fast generator per thread, seeded from the OS.

use std::cell::RefCell;

use rand::rngs::SmallRng;
use rand::SeedableRng;

thread_local! {
    static RNG: RefCell<SmallRng> = RefCell::new(seeded());
}

/// A generator for one retry decision, split off this thread's generator (a few words
/// copied, no system call). Jitter needs speed and spread, not secrecy.
pub(crate) fn rng() -> SmallRng {
    RNG.try_with(|cell| {
        cell.try_borrow_mut()
            .ok()
            .map(|mut rng| SmallRng::from_rng(&mut *rng))
    })
    .ok()
    .flatten()
    // The thread is being torn down: a freshly seeded generator.
    .unwrap_or_else(seeded)
}

fn seeded() -> SmallRng {
    SmallRng::try_from_os_rng().unwrap_or_else(|_| {
        // No OS entropy: the time and this thread's stack address still differ per thread.
        let marker = 0u8;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        SmallRng::seed_from_u64(nanos ^ (&marker as *const u8 as usize as u64))
    })
}
